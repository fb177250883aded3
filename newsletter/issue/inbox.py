"""An issue's inbox: candidate files from feeds, and the editors' accept/reject.

Candidates are item files (``items.load_item`` reads them) in
``issues/ID/inbox/``. Keys used to recognise an entry again: its canonical URL,
its guid, and a title key that ignores case, accents and punctuation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils
import yaml

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.feeds.dedupe import canonical_url, title_key
from newsletter.feeds.registry import now, transaction
from newsletter.issue.items import load_item, split_front_matter
from newsletter.models import Item, Problem

try:  # libyaml is much faster when the wheel has it
    from yaml import CSafeDumper as Dumper
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

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
    date: dt.date
    source: str  # the feed's name
    feed: str  # the feed's URL
    guid: str | None
    summary: str
    undated: bool = False
    sources: tuple[tuple[str, str | None], ...] = ()  # (feed name, link), when merged


def front_matter(c: Candidate, collected_at: str) -> dict[str, Any]:
    data: dict[str, Any] = {"title": c.title, "section": c.section}
    if c.link:
        data["link"] = c.link
    data.update(date=c.date, source=c.source, collected_at=collected_at, feed=c.feed)
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


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_candidates(folder: Path, candidates: list[Candidate], collected_at: str) -> list[str]:
    """Write each candidate to inbox/ under a free slug; return the file names."""
    inbox = folder / "inbox"
    inbox.mkdir(exist_ok=True)
    taken = {p.stem for d in (inbox, folder / "items") if d.is_dir() for p in d.glob("*.md")}
    jobs = []
    for candidate in candidates:
        name = free_name(slugify(candidate.title), taken)
        taken.add(name)
        jobs.append((inbox / f"{name}.md", render(candidate, collected_at)))
    # Creating files is mostly waiting on the file system: threads overlap the waits.
    with ThreadPoolExecutor(max_workers=WRITERS) as threads:
        list(threads.map(lambda job: write_atomic(*job), jobs))
    return [path.name for path, _ in jobs]


def free_name(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``... whichever is free first."""
    name, n = slug, 1
    while name in taken:
        n += 1
        name = f"{slug}-{n}"
    return name


def read_front(path: Path) -> dict[str, Any]:
    """The front matter as a dict, or {} when the file cannot be read as an item."""
    try:
        split = split_front_matter(path.read_text(encoding="utf-8-sig"))
        data = yaml.load(split[0], Loader=Loader) if split else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def entry_keys(data: dict[str, Any]) -> tuple[set[str], str | None]:
    """Canonical URLs (link and every source's link) and the guid of an item file."""
    links = [data.get("link")]
    sources = data.get("sources")
    if isinstance(sources, list):
        links += [s.get("link") for s in sources if isinstance(s, dict)]
    urls = {canonical_url(u) for u in links if isinstance(u, str) and u.strip()}
    guid = data.get("guid")
    return urls, str(guid) if guid not in (None, "") else None


# A guid is unique only within its feed: "42" from two feeds is two stories. So
# guids are kept as (feed URL, guid) pairs; a feed of None matches any feed.
FeedGuid = tuple[str | None, str]


def known_entries(root: Path, db: sqlite_utils.Database) -> tuple[set[str], set[FeedGuid]]:
    """Canonical URLs, and (feed, guid) pairs, of every item and candidate in every issue."""
    urls = {row[0] for row in db.execute("SELECT canonical_url FROM feed_used")}
    guids: set[FeedGuid] = set()
    for folder in ("items", "inbox"):
        for path in (root / "issues").glob(f"*/{folder}/*.md"):
            data = read_front(path)
            found, guid = entry_keys(data)
            urls |= found
            if guid:
                feed = data.get("feed")
                guids.add((str(feed) if feed else None, guid))
    return urls, guids


def has_guid(guids: set[FeedGuid], feed_urls: set[str], guid: str | None) -> bool:
    """Whether ``guid`` from a feed known by any of ``feed_urls`` is among ``guids``."""
    return bool(guid) and any((u, guid) in guids for u in (None, *feed_urls))


def _names(folder: Path, names: tuple[str, ...], all_: bool) -> list[Path]:
    inbox = folder / "inbox"
    rel = f"issues/{folder.name}/inbox"
    if all_ and names:
        raise NewsletterError(f"{rel}: give candidate names or --all, not both.")
    if all_:
        return sorted(inbox.glob("*.md")) if inbox.is_dir() else []
    if not names:
        raise NewsletterError(
            f"{rel}: no candidates named. Give NAME... or --all; list them with: "
            f"newsletter inbox {folder.name}"
        )
    paths = []
    for name in dict.fromkeys(names):
        stem = name.removesuffix(".md")
        path = inbox / f"{stem}.md"
        if not stem or stem != Path(stem).name or stem.startswith(".") or not path.is_file():
            raise NewsletterError(
                f"{rel}/{stem}.md: no such candidate. "
                f"List them with: newsletter inbox {folder.name}"
            )
        paths.append(path)
    return paths


def accept(
    db: sqlite_utils.Database, folder: Path, names: tuple[str, ...], all_: bool
) -> list[tuple[str, str]]:
    """Move candidates into items/; return (candidate, item file) pairs."""
    paths = _names(folder, names, all_)
    items = folder / "items"
    items.mkdir(exist_ok=True)
    taken = {p.stem for p in items.glob("*.md")}
    moved, stamp = [], now()
    with transaction(db):
        for path in paths:
            name = free_name(path.stem, taken)
            taken.add(name)
            urls, _ = entry_keys(read_front(path))
            for url in urls:
                db.execute(
                    "INSERT OR REPLACE INTO feed_used VALUES (?, ?, ?, ?)",
                    [url, folder.name, f"{name}.md", stamp],
                )
            os.replace(path, items / f"{name}.md")
            moved.append((path.name, f"{name}.md"))
    return moved


def reject(
    db: sqlite_utils.Database, folder: Path, names: tuple[str, ...], all_: bool
) -> list[str]:
    """Delete candidates and remember them, so no feed proposes them again."""
    paths = _names(folder, names, all_)
    stamp = now()
    with transaction(db):
        for path in paths:
            data = read_front(path)
            urls, guid = entry_keys(data)
            title = str(data.get("title") or "")
            rows = [(u, guid) for u in sorted(urls)] or [(None, guid)]
            feed = str(data["feed"]) if data.get("feed") else None
            for url, g in rows:
                db.execute(
                    "INSERT INTO feed_rejections (canonical_url, guid, title_key, title, issue_id,"
                    " rejected_at, feed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [url, g, title_key(title) or None, title, folder.name, stamp, feed],
                )
    for path in paths:
        path.unlink(missing_ok=True)
    return [p.name for p in paths]


def rejected(db: sqlite_utils.Database) -> tuple[set[str], set[FeedGuid], set[str]]:
    """Rejected canonical URLs, (feed, guid) pairs and title keys."""
    rows = db.execute("SELECT canonical_url, guid, title_key, feed FROM feed_rejections").fetchall()
    urls = {r[0] for r in rows if r[0]}
    guids = {(r[3], r[1]) for r in rows if r[1]}
    return urls, guids, {r[2] for r in rows if r[2]}


@dataclass(frozen=True)
class Listed:
    """One inbox file as `newsletter inbox` shows it."""

    name: str
    item: Item | None
    problems: tuple[Problem, ...] = ()


def list_inbox(settings: Settings, folder: Path) -> list[Listed]:
    """Every candidate, in section order, newest first within a section."""
    inbox = folder / "inbox"
    found = []
    for path in sorted(inbox.glob("*.md")) if inbox.is_dir() else []:
        item, problems = load_item(
            path, f"issues/{folder.name}/inbox/{path.name}", settings.section_keys
        )
        errors = tuple(p for p in problems if p.severity == "error")
        found.append(Listed(path.stem, item, errors))
    order = {k: n for n, k in enumerate(settings.section_keys)}
    found.sort(key=lambda c: c.name)
    found.sort(key=lambda c: c.item and c.item.date or dt.date.min, reverse=True)
    found.sort(key=lambda c: order.get(c.item.section, len(order)) if c.item else len(order) + 1)
    return found
