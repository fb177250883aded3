"""An item file as a form, and a form saved as an item file: the desk's item editor.

``form_fields`` is the form, made from the item schema (``items.item_schema``),
so a field added there appears in the editor with no second list. ``item_form``
reads a file of ``items/`` into the text a form shows, with the digest of the
bytes read; ``save_item`` writes a form back as the same ``.md`` file a
contributor would write (YAML front matter in the schema's order, dates as
YYYY-MM-DD, no empty fields, then the Markdown summary). It checks the text
with the reader ``check`` uses (``items.read_item_text``) before anything is
written, writes it whole (``files.write_atomic``), never over a file that
changed since the form was read, and never over another file when it names a
new one. What the form does not show (a feed's provenance, a field the schema
does not know) is kept as the file had it; YAML comments are not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.files import (
    MAX_TEXT_BYTES,
    NotUTF8,
    cannot_write,
    decode,
    is_regular,
    read_regular,
    write_atomic,
)
from newsletter.issue.inbox import free_name, slugify
from newsletter.issue.items import PROVENANCE, item_schema, read_front, read_item_text
from newsletter.issue.load import SAFE_NAME
from newsletter.issue.meta import read_meta
from newsletter.models import Problem, plural
from newsletter.schema import Field, Invalid

try:  # libyaml is much faster when the wheel has it
    from yaml import CSafeDumper as Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]  # same interface as the C class; types-PyYAML declares them unrelated

# Front matter the form does not show: `collect`'s provenance, kept as the file had it.
KEPT = (*PROVENANCE, "sources", "undated")
SUMMARY = "summary"  # the form's name for the Markdown body; no front-matter key has it
# Where typing a field in a form differs from writing it in YAML.
HINTS = {"tags": "Words separated by commas, such as procurement, training."}
# What the form calls each field: editors are not programmers. The key stays beside
# it, since check's messages and the file name the field by its key.
LABELS = {
    "title": "Title",
    "section": "Section",
    "link": "Link",
    "image": "Picture",
    "image_alt": "Picture description",
    "date": "Date",
    "embargo": "Not before",
    "starts": "Event starts",
    "ends": "Event ends",
    "timezone": "Event time zone",
    "location": "Event location",
    "location_url": "Event location link",
    "weight": "Order (weight)",
    "tags": "Tags",
    "source": "Source",
    "contributor": "Contributed by",
    "organisation": "Contributor's organisation",
}
NEW_NAME_TRIES = 100  # free names tried when other editors keep taking the one picked


@dataclass(frozen=True)
class FormField:
    """One field of the item form: its front-matter key, and how to fill it in."""

    name: str
    required: bool
    options: tuple[str, ...]  # a <select>'s values; () for a text box
    hint: str  # how to write it; "" for plain text
    label: str = ""  # what the form calls it; the key when "" (a field added later)


@dataclass(frozen=True)
class Draft:
    """An item as the form shows it: each field as text, the summary, and what check says."""

    name: str  # the file name in items/, with .md; "" for a new item
    values: dict[str, str]
    summary: str
    digest: str  # of the bytes read: a save refuses if the file has changed since
    problems: tuple[Problem, ...] = ()
    readable: bool = True  # False: the front matter cannot be read; edit the file itself


@dataclass(frozen=True)
class Saved:
    """What ``save_item`` wrote: the file name in items/, its new digest, and advice."""

    name: str
    digest: str
    warnings: tuple[Problem, ...]


class Refused(NewsletterError):
    """The form's item has errors; nothing was written. ``problems`` says where."""

    def __init__(self, display: str, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"{display}: {plural(len(problems), 'error')}; nothing was saved. "
            "Fix the fields marked and save again."
        )


class Changed(NewsletterError):
    """The file changed on disk after the form was opened; nothing was written."""


class NoItem(NewsletterError):
    """The name is not a file of items/ (a bad name, or one another editor removed)."""


def form_fields(sections: tuple[str, ...]) -> tuple[FormField, ...]:
    """The item form's fields, in the schema's order (what ``save_item`` takes)."""
    return tuple(_form_field(f) for f in item_schema(sections).fields if f.name not in KEPT)


def _form_field(f: Field) -> FormField:
    # Plain text and a <select> need no advice on how to write them.
    plain = f.kind.expected == "text" or f.kind.options
    hint = HINTS.get(f.name) or ("" if plain else f.kind.fix)
    return FormField(f.name, f.required, f.kind.options, hint, LABELS.get(f.name, f.name))


def digest_of(data: bytes) -> str:
    """The digest a form carries of the file it was opened on."""
    return hashlib.sha256(data).hexdigest()


def item_form(settings: Settings, folder: Path, name: str) -> Draft:
    """``items/NAME`` as the form shows it, with check's problems of the file as it is."""
    path, display = _existing(folder, name)
    try:
        raw = read_regular(path, MAX_TEXT_BYTES)
    except OSError as exc:  # too large, unreadable: said, as a file the form cannot show
        reason = f"The file cannot be read ({exc.strerror or exc})."
        return Draft(name, {}, "", "", (Problem(display, None, reason),), readable=False)
    try:
        source = decode(raw)
    except NotUTF8 as exc:
        problem = Problem(display, exc.line, exc.reason)
        return Draft(name, {}, "", digest_of(raw), (problem,), readable=False)
    window = read_meta(folder, settings.section_keys).window
    _, problems = read_item_text(source, path.stem, display, settings.section_keys, window)
    front = read_front(source)
    if front is None:
        return Draft(name, {}, "", digest_of(raw), tuple(problems), readable=False)
    data, body = front
    values = {f.name: _text(data.get(f.name)) for f in form_fields(settings.section_keys)}
    return Draft(name, values, body.strip("\n"), digest_of(raw), tuple(problems))


def _text(value: Any) -> str:
    """A front-matter value as a form's text box holds it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dt.datetime):
        return _moment(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _moment(value: dt.datetime) -> str:
    """A date and time as a contributor writes it: "2026-11-03 14:00", an offset if given."""
    return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")


def item_text(
    sections: tuple[str, ...], form: Mapping[str, str], summary: str, kept: Mapping[str, Any]
) -> str:
    """The item file for ``form`` (each field as typed) and ``summary``, with ``kept``
    (front matter the form does not show) in its place in the schema's order."""
    edited = {f.name for f in form_fields(sections)}
    head = []
    for f in item_schema(sections).fields:
        value = _value(f, form.get(f.name, "")) if f.name in edited else kept.get(f.name)
        if value is not None:
            head.append(_dump({f.name: value}))
    # Keys the schema does not know stay too: check names them, and nothing is lost.
    head += [_yaml({k: v}) for k, v in kept.items() if k not in item_schema(sections).by_name]
    body = summary.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return f"---\n{''.join(head)}---\n{body}\n" if body else f"---\n{''.join(head)}---\n"


def _value(f: Field, typed: str) -> Any:
    """The value to write for what was typed in ``f``'s box; None to leave it out.

    A value the field's rule reads is written clean (a date as a date, a number
    as a number, tags as a list); one it refuses is written as typed, on one
    line, so the reader refuses it again with its line and its own message.
    """
    typed = " ".join(typed.splitlines())
    if not typed.strip():
        return None
    try:
        value = f.kind.text_parse(typed) if f.kind.text_parse else f.kind.parse(typed)
    except Invalid:
        return typed
    if isinstance(value, list):
        value = [v for v in value if v != ""]
    if value == f.default or value == []:
        return None  # a weight of 0 or no tags: the file says nothing, as a contributor's
    if isinstance(value, dt.datetime):
        return _moment(value)
    return value


def _dump(pair: dict[str, Any]) -> str:
    """One ``key: value`` of front matter; a list of words on one line, ``tags: [a, b]``,
    as contributors write it."""
    ((key, value),) = pair.items()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return f"{key}: {_yaml(value, True).strip()}\n"  # only schema keys come here: words
    return _yaml(pair)


def _yaml(value: Any, flow: bool = False) -> str:
    return yaml.dump(
        value,
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=flow,
    )


def save_item(
    settings: Settings,
    folder: Path,
    form: Mapping[str, str],
    summary: str,
    name: str = "",
    digest: str = "",
) -> Saved:
    """Write the form's item to ``items/NAME`` (opened with ``digest``), or to a new
    file named after its title when ``name`` is ""; Refused (nothing written) when
    check finds an error, Changed when the file is not the one the form was read from."""
    sections = settings.section_keys
    items = folder / "items"
    kept: dict[str, Any] = {}
    if name:
        path, display = _existing(folder, name)
        raw = _read(path, display)
        if digest_of(raw) != digest:
            raise Changed(
                f"{display}: the file changed on disk after this form was opened; nothing "
                "was saved. Reload the page to see the file as it is now, then edit again."
            )
        kept = {k: v for k, v in _front(raw).items() if k not in _edited(sections)}
    text = item_text(sections, form, summary, kept)
    stem = name.removesuffix(".md") if name else slugify(form.get("title", ""))
    display = f"issues/{folder.name}/items/{name or stem + '.md'}"
    window = read_meta(folder, sections).window
    item, problems = read_item_text(text, stem, display, sections, window)
    if item is None:
        raise Refused(display, [p for p in problems if p.severity == "error"])
    warnings = tuple(problems)
    try:
        if name:
            write_atomic(items / name, text)
            return Saved(name, digest_of(text.encode("utf-8")), warnings)
        return Saved(_write_new(folder, stem, text), digest_of(text.encode("utf-8")), warnings)
    except OSError as exc:
        raise cannot_write(display, exc) from None


def _write_new(folder: Path, slug: str, text: str) -> str:
    """Write ``text`` under the first free name for ``slug`` in items/; that name.

    A name is free when no item and no candidate has it (accepting a candidate
    keeps its name); the write itself never replaces a file another editor made.
    """
    items = folder / "items"
    items.mkdir(exist_ok=True)
    taken = {p.stem for d in (items, folder / "inbox") if d.is_dir() for p in d.glob("*.md")}
    for _ in range(NEW_NAME_TRIES):
        name = free_name(slug, taken) + ".md"
        try:
            write_atomic(items / name, text, replace=False)
        except FileExistsError:
            taken.add(name.removesuffix(".md"))
            continue
        return name
    raise NewsletterError(
        f"issues/{folder.name}/items/{slug}.md: no free file name for this title. "
        "Give the item a different title."
    )


def _edited(sections: tuple[str, ...]) -> set[str]:
    return {f.name for f in form_fields(sections)}


def _front(raw: bytes) -> dict[str, Any]:
    """The front matter of a file being saved over; {} when it cannot be read (the
    editor saw no fields of it: the form replaces it whole)."""
    try:
        front = read_front(decode(raw))
    except NotUTF8:
        return {}
    return front[0] if front else {}


def _existing(folder: Path, name: str) -> tuple[Path, str]:
    """``items/NAME``, a regular file with a safe name, and how messages name it."""
    display = f"issues/{folder.name}/items/{name}"
    path = folder / "items" / name
    safe = SAFE_NAME.fullmatch(name) and name.endswith(".md") and not name.startswith(".")
    if not safe or not is_regular(path):
        raise NoItem(f"{display}: no such item. Pick one from the issue's list of items.")
    return path, display


def _read(path: Path, display: str) -> bytes:
    try:
        return read_regular(path, MAX_TEXT_BYTES)
    except OSError as exc:
        raise NewsletterError(
            f"{display}: cannot be read ({exc.strerror or exc}). Check the file, then reload."
        ) from None
