"""An issue's inbox: candidate item files waiting for an editor.

A candidate is an item file (``items.load_item`` reads it) in
``issues/ID/inbox/``; accepting moves it into ``items/``. Feeds and
``intake`` (contributions by email) write candidates here; ``feeds.triage``
accepts and rejects them and remembers what was rejected. Keys used to
recognise an entry again: its canonical URL and its guid (unique only within
its feed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from newsletter.config import Settings
from newsletter.errors import BadUsage, NewsletterError
from newsletter.files import (
    cannot_write,
    check_folder,
    decode,
    is_regular,
    read_regular,
    write_atomic,
)
from newsletter.issue.items import (
    MAX_ITEM_BYTES,
    front_data,
    item_files,
    load_item,
    split_front_matter,
)
from newsletter.issue.keys import FeedGuid, canonical_url
from newsletter.issue.meta import read_meta
from newsletter.models import Item, Problem
from newsletter.schema import shown

try:  # libyaml is much faster when the wheel has it
    from yaml import CSafeDumper as Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]  # same interface as the C class; types-PyYAML declares them unrelated

SLUG_CHARS = 60
_UNSAFE_SCHEME = re.compile(r"\s*(javascript|vbscript|livescript|data):", re.I)
WRITERS = 4  # threads creating inbox files


def slugify(title: str) -> str:
    """A stable ASCII file name for a title; non-Latin titles get a short hash."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > SLUG_CHARS:
        slug = slug[:SLUG_CHARS].rsplit("-", 1)[0]
    if len(slug) < 3:
        digest = hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug}-{digest}" if slug else f"entry-{digest}"
    return slug


@dataclass(frozen=True)
class Candidate:
    """One proposed item: an entry, or near-identical entries from several feeds."""

    title: str
    section: str
    link: str | None
    date: dt.date | None  # None: the entry had none (``undated``; see ``Listed.when``)
    source: str  # the feed's name, or a contributor's organisation (``intake``)
    feed: str  # the feed's URL; "" for a contribution
    guid: str | None
    summary: str
    undated: bool = False
    sources: tuple[tuple[str, str | None], ...] = ()  # (feed name, link), when merged
    contributor: str = ""  # the person who sent a contribution (``intake``)
    organisation: str = ""  # the contributor's organisation, as the directory names it
    # Further front matter, checked by the item reader before it comes here: a
    # contribution form's picture and event fields, (key, value) in the schema's order.
    details: tuple[tuple[str, Any], ...] = ()


def front_matter(c: Candidate, collected_at: str) -> dict[str, Any]:
    data: dict[str, Any] = {"title": c.title, "section": c.section}
    if c.link:
        data["link"] = c.link
    if c.date:  # an undated entry gets no date: any would read as the publisher's
        data["date"] = c.date
    data["source"] = c.source
    if c.contributor:
        data["contributor"] = c.contributor
    if c.organisation:
        data["organisation"] = c.organisation
    data.update(c.details)
    data["collected_at"] = collected_at
    if c.feed:
        data["feed"] = c.feed
    if c.guid and not _UNSAFE_SCHEME.match(c.guid):  # an id, but it must not look like a script
        data["guid"] = c.guid
    if c.sources:
        data["sources"] = [{"name": n, "link": u} if u else {"name": n} for n, u in c.sources]
    if c.undated:
        data["undated"] = True
    return data


def render(c: Candidate, collected_at: str) -> str:
    head = yaml.dump(
        front_matter(c, collected_at),
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
    )
    return f"---\n{head}---\n{c.summary}\n" if c.summary else f"---\n{head}---\n"


def write_candidates(folder: Path, candidates: list[Candidate], collected_at: str) -> list[str]:
    """Write each candidate to inbox/ under a free slug; return the file names."""
    inbox = folder / "inbox"
    check_folder(
        inbox,
        "Move it away; collect writes candidates in that folder.",
        f"issues/{folder.name}/inbox",
    )
    inbox.mkdir(exist_ok=True)
    taken = {p.stem for d in (inbox, folder / "items") if d.is_dir() for p in d.glob("*.md")}
    jobs = []
    for candidate in candidates:
        name = free_name(slugify(candidate.title), taken)
        taken.add(name)
        jobs.append((inbox / f"{name}.md", render(candidate, collected_at)))
    # Creating files is mostly waiting on the file system: threads overlap the waits.
    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as threads:
            list(threads.map(lambda job: write_atomic(*job), jobs))
    except OSError as exc:  # a full disk: each file is whole or absent, and none is recorded
        raise cannot_write(
            f"issues/{folder.name}/inbox", exc, "the candidates written so far are whole"
        ) from None
    return [path.name for path, _ in jobs]


def free_name(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``... whichever is free first."""
    name, n = slug, 1
    while name in taken:
        n += 1
        name = f"{slug}-{n}"
    return name


@dataclass(frozen=True)
class Keys:
    """What recognises an item or candidate file again (see ``issue.keys``)."""

    urls: frozenset[str]  # canonical URLs of its link and of every merged source's link
    guid: str | None
    feed: str | None  # the feed the guid came from
    title: str


def read_keys(path: Path) -> Keys:
    """The keys of an item file; empty when it cannot be read (check reports why)."""
    data = front_data(path)
    links = [data.get("link")]
    sources = data.get("sources")
    if isinstance(sources, list):
        links += [s.get("link") for s in sources if isinstance(s, dict)]
    urls = frozenset(canonical_url(u) for u in links if isinstance(u, str) and u.strip())
    guid, feed = data.get("guid"), data.get("feed")
    return Keys(
        urls,
        str(guid) if guid not in (None, "") else None,
        str(feed) if feed else None,
        str(data.get("title") or ""),
    )


def known_keys(root: Path) -> tuple[set[str], set[FeedGuid]]:
    """Canonical URLs, and (feed, guid) pairs, of every item and candidate in every issue."""
    urls: set[str] = set()
    guids: set[FeedGuid] = set()
    for folder in ("items", "inbox"):
        # read_keys reads regular files only, so a FIFO here waits for nobody.
        for path in (root / "issues").glob(f"*/{folder}/*.md"):
            keys = read_keys(path)
            urls |= keys.urls
            if keys.guid:
                guids.add((keys.feed, keys.guid))
    return urls, guids


def resolve(folder: Path, names: tuple[str, ...], all_: bool) -> list[Path]:
    """The inbox files named (with or without .md), or all of them with ``all_``."""
    inbox = folder / "inbox"
    rel = f"issues/{folder.name}/inbox"
    if all_ and names:
        raise BadUsage(f"{rel}: give candidate names or --all, not both.")
    if all_:
        return item_files(inbox, rel, others=False)[0]
    if not names:
        raise BadUsage(
            f"{rel}: no candidates named. Give NAME... or --all; list them with: "
            f"newsletter inbox {folder.name}"
        )
    paths = []
    for name in dict.fromkeys(names):
        stem = name.removesuffix(".md")
        path = inbox / f"{stem}.md"
        if not stem or stem != Path(stem).name or stem.startswith(".") or not is_regular(path):
            raise NewsletterError(  # the name as typed: one short line, controls escaped
                f"{rel}/{shown(stem + '.md', quote=False)}: no such candidate. "
                f"List them with: newsletter inbox {folder.name}"
            )
        paths.append(path)
    return paths


def move_to_items(folder: Path, path: Path, name: str, text: str | None = None) -> None:
    """Move one candidate into items/ as ``name`` (see ``free_name``), as ``text`` if given.

    The new text is written in place first, so at any moment the candidate is
    whole in one folder or the other (or, for the moment between a link and an
    unlink, both). FileExistsError, and nothing moved, if items/ has ``name``
    already: an item another editor saved a moment ago is never written over.
    """
    items = folder / "items"
    items.mkdir(exist_ok=True)
    if text is not None:
        write_atomic(path, text)
    os.link(path, items / name)  # unlike a rename, never over an existing file
    path.unlink()


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def with_section(path: Path, display: str, section: str) -> str:
    """The candidate's text with its ``section:`` value replaced, and nothing else changed.

    Only the value's own characters are replaced (found by YAML's marks), so
    comments, quoting and the other fields stay as the editor left them.
    """
    where = f"{display}/{path.name}"
    fix = "Fix its front matter (newsletter check says how), or accept it without --section."
    try:
        text = decode(read_regular(path, MAX_ITEM_BYTES))
        split = split_front_matter(text)
        # The pure-Python loader: its marks count characters, as str indexes do.
        node = yaml.compose(split[0], Loader=yaml.SafeLoader) if split else None
    except Exception:  # noqa: BLE001  (OSError, NotUTF8, YAMLError: one message for all)
        node = None
    value = (
        next(
            (v for k, v in getattr(node, "value", ()) if getattr(k, "value", None) == "section"),
            None,
        )
        if isinstance(node, yaml.MappingNode)
        else None
    )
    if not isinstance(value, yaml.ScalarNode):
        raise NewsletterError(f"{where}: no readable 'section:' field. {fix}")
    start = text.index("\n") + 1  # the front matter starts on the second line
    begin, end = start + value.start_mark.index, start + value.end_mark.index
    new = section if _PLAIN_KEY.fullmatch(section) else json.dumps(section)
    if begin == end:  # "section:" with no value: keep a space after the colon
        new = " " + new
    return text[:begin] + new + text[end:]


@dataclass(frozen=True)
class Listed:
    """One inbox file as `newsletter inbox` shows it."""

    name: str
    item: Item | None
    problems: tuple[Problem, ...] = ()
    first_seen: dt.date | None = None  # set when the entry had no date of its own
    outside: bool = False  # dated outside the issue's window

    @property
    def when(self) -> str:
        """The DATE column: the entry's date, flagged when it cannot be taken as read."""
        if self.first_seen:
            return f"undated, first seen {self.first_seen}"
        date = self.item.date if self.item else None
        if date is None:
            return "-"
        return f"{date}, outside the window" if self.outside else str(date)

    @property
    def sort_date(self) -> dt.date:
        if self.first_seen:
            return self.first_seen
        return self.item.date if self.item and self.item.date else dt.date.min


def _first_seen(path: Path, item: Item) -> dt.date | None:
    """The day an undated entry was first seen, or None for a dated one.

    ``collect`` marks an entry that had no date ``undated: true`` and writes no
    date; candidates written before that carry the day they were collected as
    their date, which is read as the first-seen day too. A date an editor has
    since written (any other day) is the item's own.
    """
    seen = dict(item.extra).get("collected_at", "")[:10]
    if item.date is not None and str(item.date) != seen:
        return None  # the usual case, decided without reading the file again
    if front_data(path).get("undated") is not True:
        return None
    try:
        return item.date or dt.date.fromisoformat(seen)
    except ValueError:  # no collected_at: undated, and never seen by collect
        return None


def list_inbox(settings: Settings, folder: Path) -> tuple[list[Listed], list[Problem]]:
    """Every candidate, in section order, newest first within a section; and what was skipped.

    A candidate that cannot be read is listed with its problems, so it can be
    rejected; a FIFO or a folder named like one is skipped, with a warning.
    """
    return _listed(settings, folder, "inbox")


def list_items(settings: Settings, folder: Path) -> tuple[list[Listed], list[Problem]]:
    """Every item file in items/, listed and ordered as ``list_inbox`` lists candidates
    (the desk's item list); ``Listed.name`` is the file name without ``.md``."""
    return _listed(settings, folder, "items")


def _listed(settings: Settings, folder: Path, under: str) -> tuple[list[Listed], list[Problem]]:
    paths, skipped = item_files(folder / under, f"issues/{folder.name}/{under}", others=False)
    window = read_meta(folder, settings.section_keys).window
    found = []
    for path in paths:
        item, problems = load_item(
            path, f"issues/{folder.name}/{under}/{path.name}", settings.section_keys
        )
        errors = tuple(p for p in problems if p.severity == "error")
        if item is None:
            found.append(Listed(path.stem, item, errors))
            continue
        first_seen = _first_seen(path, item)
        day = None if first_seen else item.date
        outside = bool(day and window and not window[0] <= day <= window[1])
        found.append(Listed(path.stem, item, errors, first_seen, outside))
    order = {k: n for n, k in enumerate(settings.section_keys)}
    found.sort(key=lambda c: c.name)
    found.sort(key=lambda c: c.sort_date, reverse=True)
    found.sort(key=lambda c: order.get(c.item.section, len(order)) if c.item else len(order) + 1)
    return found, skipped
