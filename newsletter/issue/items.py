"""Read one item file: YAML front matter plus a Markdown summary.

The front matter is declared once, as ``item_schema``; validation reports every
problem with the line of the offending key, so a contributor can fix a file in
one pass. The same format serves ``items/`` and the inbox, so accepted
candidates go through exactly the same checks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from newsletter.files import (
    MAX_TEXT_BYTES,
    NotRegular,
    NotUTF8,
    TooLarge,
    decode,
    read_regular,
    what_is,
)
from newsletter.models import Item, Problem
from newsletter.sanitize import Cleaned, html_to_text, markdown_bounded, neutralise
from newsletter.schema import (
    Field,
    Schema,
    anything,
    boolean,
    choice,
    date,
    list_of,
    moment,
    picture_url,
    shown,
    text,
    time_zone,
    web_url,
    whole,
    zone_of,
)

try:  # libyaml is much faster when the wheel has it
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader  # type: ignore[assignment]  # same interface as the C class; types-PyYAML declares them unrelated

SUMMARY_WORDS = 120
MAX_ITEM_BYTES = MAX_TEXT_BYTES  # an item is a title, a few fields and a short summary
SIMPLIFY = "Simplify its formatting and shorten it (see Limits in the README)."
# Provenance that `collect` writes into inbox files; kept verbatim when accepted.
PROVENANCE = ("collected_at", "feed", "guid")
_FENCE = re.compile(r"^-{3,}[ \t]*$")
TOO_LARGE = "is larger than 1 MB; an item is a short summary. Cut it down, or move it out."


@lru_cache(maxsize=8)
def item_schema(sections: tuple[str, ...]) -> Schema:
    """The fields of an item's front matter, in the order problems are reported."""
    words = text(scalars=True)
    return Schema(
        fields=(
            Field("title", text(scalars=True), required=True),
            Field("section", choice(sections, what="section"), required=True),
            Field("link", web_url()),
            Field("image", picture_url()),
            Field("image_alt", text(scalars=True)),
            Field("date", date()),
            Field("embargo", date()),
            Field("starts", moment()),
            Field("ends", moment()),
            Field("timezone", time_zone()),
            Field("location", text(scalars=True)),
            Field("location_url", web_url()),
            Field("weight", whole(example="10 or -5"), default=0),
            Field(
                "tags",
                list_of(
                    words,
                    "a list of words",
                    "Write a list of words, such as [procurement, training].",
                    split=",",
                ),
                default=[],
            ),
            Field("source", text(scalars=True)),
            Field("contributor", text(scalars=True)),
            Field("organisation", text(scalars=True)),
            *(Field(name, text(scalars=True)) for name in PROVENANCE),
            Field("sources", anything()),  # merged feeds, as `collect` wrote them
            Field("undated", boolean()),
        ),
        assign=lambda key: f"'{key}: ...' to the front matter",
        unknown_word="field",
        suggest=True,
    )


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (yaml, body, body_start_line), or None when there is no front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE.match(lines[0].rstrip("\r\n")):
        return None
    for n, line in enumerate(lines[1:], 1):
        if _FENCE.match(line.rstrip("\r\n")) or line.rstrip("\r\n") == "...":
            return "".join(lines[1:n]), "".join(lines[n + 1 :]), n + 2
    return None


@dataclass(frozen=True)
class _Front:
    """Front matter as parsed: the values and the line of each key."""

    data: dict[str, Any]
    lines: dict[str, int]
    body: str
    body_line: int


class _Unreadable(Exception):
    """The file cannot be read as an item at all; one problem says why."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _read(path: Path, problems: list[Problem], display: str) -> _Front:
    try:
        raw = read_regular(path, MAX_ITEM_BYTES)
    except NotRegular as exc:
        raise _Unreadable(None, f"{exc.strerror}. Move it out of this folder.") from None
    except TooLarge:
        raise _Unreadable(None, TOO_LARGE) from None
    except OSError as exc:
        raise _Unreadable(
            None, f"cannot be read ({exc.strerror}). Check the file's permissions."
        ) from None
    try:
        source = decode(raw)
    except NotUTF8 as exc:
        raise _Unreadable(exc.line, exc.reason) from None
    return _parse(source, problems, display)


def _parse(source: str, problems: list[Problem], display: str) -> _Front:
    """The front matter and body of an item's text (what ``_read`` read, or a form's)."""
    if not source.strip():
        raise _Unreadable(
            1, "the file is empty. Add front matter with a title and section, then a summary."
        )
    split = split_front_matter(source)
    if split is None:
        first = source.lstrip().split("\n", 1)[0].strip()
        if _FENCE.match(first):
            raise _Unreadable(
                1, "front matter is not closed. Add a '---' line after the last field."
            )
        if first.startswith(("+++", "{")):
            raise _Unreadable(
                1, "front matter must be YAML between '---' lines (TOML or JSON is not read)."
            )
        raise _Unreadable(
            1, "no front matter. Start the file with a '---' line, the fields, then '---'."
        )
    head, body, body_line = split
    try:
        node, data = _parse_yaml(head)
    except _Alias as exc:
        raise _Unreadable(
            exc.line,
            "YAML aliases (*name) are not allowed in front matter. Write the value out in full.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = shown(getattr(exc, "problem", None) or "invalid YAML", 100, quote=False)
        raise _Unreadable(
            mark.line + 2 if mark else 1,
            f"invalid YAML front matter ({reason}). Check quotes, colons and indents.",
        ) from None
    if data is None:
        data, node = {}, None
    if not isinstance(data, dict):
        raise _Unreadable(
            2, "front matter must be 'field: value' lines. Write e.g. 'title: My item'."
        )
    lines: dict[str, int] = {}
    for key_node, _ in node.value if node is not None else ():
        key = str(key_node.value)
        if key in lines:
            problems.append(
                Problem(
                    display,
                    key_node.start_mark.line + 2,
                    f"{shown(key)} appears twice. Keep one.",
                    key=key,
                )
            )
        lines.setdefault(key, key_node.start_mark.line + 2)
    return _Front({str(k): v for k, v in data.items()}, lines, body, body_line)


def item_files(folder: Path, display: str, others: bool = True) -> tuple[list[Path], list[Problem]]:
    """The item files in ``folder`` (an issue's items/ or inbox/), by name, and what was skipped.

    Only regular files are read: a FIFO would hang the reader and a device never
    end, so anything else named ``*.md`` is skipped with one warning. Hidden
    files and folders (not named ``*.md``) are passed over in silence; with
    ``others``, so is no other file without a warning that it is not Markdown.
    """
    found: list[Path] = []
    skipped: list[Problem] = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        shown = f"{display}/{path.name}"
        try:
            mode = os.stat(path).st_mode
        except OSError:  # a dangling symlink: the reader says why it cannot be read
            mode = stat.S_IFREG
        if path.name.startswith(".") or (stat.S_ISDIR(mode) and path.suffix != ".md"):
            continue
        if not stat.S_ISREG(mode):
            what = what_is(mode)
            fix = f"is {what}, not a file; skipped. Move it out of {folder.name}/."
            skipped.append(Problem(shown, None, fix, "warning"))
        elif path.suffix == ".md":
            found.append(path)
        elif others:
            fix = "ignored: items must be Markdown files ending in .md. Rename or move it."
            skipped.append(Problem(shown, None, fix, "warning"))
    return found, skipped


def front_data(path: Path) -> dict[str, Any]:
    """The front matter's values, or {} when the file cannot be read as an item.

    For recognising stories across issues (``inbox.read_keys``): a file that
    ``check`` would refuse, in any issue, must never stop another issue's
    ``collect``, ``accept`` or ``reject``, so any failure reads as "no keys".
    """
    try:
        split = split_front_matter(decode(read_regular(path, MAX_ITEM_BYTES)))
        data = _parse_yaml(split[0])[1] if split else None
    except Exception:  # noqa: BLE001  (OSError, NotUTF8, YAMLError, RecursionError...: see above)
        return {}
    return data if isinstance(data, dict) else {}


def load_item(
    path: Path,
    display: str,
    sections: tuple[str, ...],
    window: tuple[dt.date, dt.date] | None = None,
    today: dt.date | None = None,
) -> tuple[Item | None, list[Problem]]:
    """Parse and validate one item file; the Item is None when there are errors."""
    problems: list[Problem] = []
    try:
        front = _read(path, problems, display)
    except _Unreadable as exc:
        return None, [Problem(display, exc.line, exc.message)]
    return _checked(front, path.stem, display, sections, window, today, problems)


def read_item_text(
    source: str,
    name: str,
    display: str,
    sections: tuple[str, ...],
    window: tuple[dt.date, dt.date] | None = None,
) -> tuple[Item | None, list[Problem]]:
    """``load_item`` of an item's text not yet written (the desk's form, as
    ``edit.save_item`` will write it): the same checks, the same problems."""
    problems: list[Problem] = []
    if len(source.encode("utf-8")) > MAX_ITEM_BYTES:
        return None, [Problem(display, None, TOO_LARGE, key="summary")]
    try:
        front = _parse(source, problems, display)
    except _Unreadable as exc:
        return None, [Problem(display, exc.line, exc.message)]
    return _checked(front, name, display, sections, window, None, problems)


def read_front(source: str) -> tuple[dict[str, Any], str] | None:
    """An item text's front-matter values and Markdown body; None when it has none
    that can be read (``read_item_text`` says why)."""
    try:
        front = _parse(source, [], "")
    except _Unreadable:
        return None
    return front.data, front.body


def summary_of(body: str) -> Cleaned:
    """An item's Markdown summary as the build shows it: rendered and sanitised."""
    return markdown_bounded(body) if body.strip() else Cleaned("")


def _checked(
    front: _Front,
    slug: str,
    display: str,
    sections: tuple[str, ...],
    window: tuple[dt.date, dt.date] | None,
    today: dt.date | None,
    problems: list[Problem],
) -> tuple[Item | None, list[Problem]]:
    # Each problem names the field on its line, so a form can show it beside that field.
    keys = {line: key for key, line in front.lines.items()}

    def problem(
        line: int | None, message: str, severity: str = "error", key: str | None = None
    ) -> None:
        if key is None:
            key = "summary" if line and line >= front.body_line else keys.get(line or 0)
        problems.append(Problem(display, line, message, severity, key))

    checked = item_schema(sections).check(front.data, front.lines)
    for error in checked.errors:
        problem(error.line or 1, error.message, key=error.key.split(".")[0])
    v = checked.values
    at = front.lines.get
    if v.get("image") and not v.get("image_alt"):
        problem(at("image"), "image has no image_alt. Describe the picture in 'image_alt: ...'.")
    starts, ends = v.get("starts"), v.get("ends")
    # Compare to the minute when both have a time, else by day (an all-day end is inclusive).
    cut = 16 if isinstance(starts, dt.datetime) and isinstance(ends, dt.datetime) else 10
    if ends and not starts and "starts" not in front.data:
        problem(at("ends"), "'ends' needs 'starts'. Add 'starts: YYYY-MM-DD' for the event.")
    elif ends and starts and str(ends)[:cut] < str(starts)[:cut]:
        problem(at("ends"), "the event ends before it starts. Check 'starts' and 'ends'.")
    starts, ends = _event_fields(v, front, starts, ends, problem)
    if any(p.severity == "error" for p in problems):
        # Warnings about a file that does not load yet are noise; fix errors first.
        return None, [p for p in problems if p.severity == "error"]
    summary = summary_of(front.body)
    summary_html = summary.html
    if summary.cut:
        problem(front.body_line, f"summary: {summary.cut}. {SIMPLIFY}", "warning")
    _advise(v, summary_html, front, window, today, problem)
    # Untrusted text must not forge a per-recipient marker or look like template code.
    plain = {
        k: neutralise(v[k]) if v.get(k) else None
        for k in (
            "title",
            "source",
            "contributor",
            "organisation",
            "link",
            "image",
            "image_alt",
            "location",
            "location_url",
        )
    }
    item = Item(
        slug=slug,
        title=plain["title"] or "",
        section=v["section"],
        summary_html=summary_html,
        path=display,
        link=plain["link"],
        date=v["date"],
        source=plain["source"],
        contributor=plain["contributor"],
        organisation=plain["organisation"],
        image=plain["image"],
        image_alt=plain["image_alt"],
        tags=tuple(t for t in v["tags"] if t),
        weight=v["weight"],
        embargo=v["embargo"],
        starts=starts,
        ends=ends,
        location=plain["location"],
        location_url=plain["location_url"],
        extra=tuple((k, neutralise(v[k])) for k in PROVENANCE if v.get(k)),
    )
    return item, problems


def _event_fields(
    v: dict[str, Any],
    front: _Front,
    starts: dt.date | None,
    ends: dt.date | None,
    problem: Callable[[int | None, str], None],
) -> tuple[dt.date | None, dt.date | None]:
    """The event's times in the item's ``timezone``; its other fields need a ``starts``."""
    at = front.lines.get
    for key, fix in (
        ("timezone", "Add 'starts: YYYY-MM-DD HH:MM' for the event, or remove it."),
        ("location", "Add 'starts: YYYY-MM-DD' for the event, or remove it."),
        ("location_url", "Add 'starts: YYYY-MM-DD' for the event, or remove it."),
    ):
        if v.get(key) and not starts and "starts" not in front.data:
            problem(at(key), f"'{key}' is for events and needs 'starts'. {fix}")
    if v.get("location_url") and not v.get("location"):
        problem(
            at("location_url"),
            "'location_url' needs 'location', the text readers see. "
            "Add 'location: Online' or the place's name.",
        )
    zone = v.get("timezone")
    if not zone:
        return starts, ends
    for key, value in (("starts", starts), ("ends", ends)):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            problem(
                at(key),
                f"'{key}' has an offset and the item names a 'timezone'. "
                "Remove one: the zone gives the offset, summer time included.",
            )
    # A time that falls in the hour clocks skip or repeat reads as the earlier offset (fold 0).
    return _in_zone(starts, zone), _in_zone(ends, zone)


def _in_zone(value: dt.date | None, zone: str) -> dt.date | None:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone_of(zone))
    return value


def _advise(
    v: dict[str, Any],
    summary_html: str,
    front: _Front,
    window: tuple[dt.date, dt.date] | None,
    today: dt.date | None,
    problem: Callable[..., None],
) -> None:
    """Warnings: advice about a file that loads, never a reason to stop."""
    at = front.lines.get
    if not v["link"]:
        advice = "no link. Add 'link: https://...' so readers can find out more."
        problem(1, advice, "warning", "link")
    day = v["date"]
    if window and day and not window[0] <= day <= window[1]:
        problem(
            at("date"),
            f"date {day} is outside the issue window {window[0]} to {window[1]}.",
            "warning",
        )
    words = len(html_to_text(summary_html).split())
    if words > SUMMARY_WORDS:
        problem(
            front.body_line,
            f"summary has {words} words. Trim it to {SUMMARY_WORDS} or fewer.",
            "warning",
        )
    if today and v["embargo"] and v["embargo"] > today:
        problem(at("embargo"), f"embargoed until {v['embargo']}; held back until then.", "warning")


# What a YAML constructor raises for a value its tag cannot make ("!!bool maybe",
# "!!timestamp garbage", "!!int abc", a date that does not exist, an int of more
# than 4,300 digits); the value is then kept as its text for its field to judge.
_UNMAKEABLE = (ValueError, OverflowError, KeyError, AttributeError, TypeError, IndexError)


class _Alias(Exception):
    """The front matter uses a YAML alias (``*name``): refused, at the line of its key."""

    def __init__(self, line: int) -> None:
        super().__init__("alias")
        self.line = line


def _parse_yaml(source: str) -> tuple[Any, Any]:
    """Parse once, keeping the node tree (for each key's line) and the values.

    A scalar YAML cannot turn into a value (``date: 2026-02-30``, an int of
    more than 4,300 digits, ``!!bool maybe``) is kept as its text, so the
    field's own rule reports it with its line: "date '2026-02-30' is not a date".
    Aliases are refused before any value is made: a kilobyte of nested aliases
    expands to billions of values ("billion laughs").
    """
    loader = Loader(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _refuse_aliases(node)
        try:
            return node, loader.construct_document(node)
        except _UNMAKEABLE:
            if not isinstance(node, yaml.MappingNode):
                raise yaml.YAMLError("a value cannot be read") from None
            return node, {_scalar(loader, k): _scalar(loader, v) for k, v in node.value}
    finally:
        loader.dispose()


def _refuse_aliases(root: Any) -> None:
    """Raise _Alias when a node appears twice in the tree: that is what an alias makes."""
    seen: set[int] = set()
    pairs = root.value if isinstance(root, yaml.MappingNode) else [(root, root)]
    for key, value in pairs:
        stack = [key, value] if key is not value else [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                raise _Alias(key.start_mark.line + 2)
            seen.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                stack += node.value
            elif isinstance(node, yaml.MappingNode):
                stack += [n for pair in node.value for n in pair]


def _scalar(loader: Any, node: Any) -> Any:
    """The value of ``node``, or its text when YAML cannot make a value of it."""
    # A failed construction leaves the loader's bookkeeping half done; start clean.
    loader.constructed_objects, loader.recursive_objects = {}, {}
    try:
        return loader.construct_object(node, deep=True)
    except _UNMAKEABLE:
        return str(node.value) if isinstance(node, yaml.ScalarNode) else None
