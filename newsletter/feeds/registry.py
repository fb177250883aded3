"""The feed registry in contacts.db: feeds, what each has given, rejections.

Each feed row carries its last collect's health (status, counts, errors) and
the validators (ETag, Last-Modified) for the next conditional GET.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils
from sqlite_utils.migrations import Migrations

from newsletter.config import Settings
from newsletter.download import is_local, local_path
from newsletter.errors import NewsletterError

WORKERS = 8  # feeds fetched at once

migrations = Migrations("newsletter.feeds")


@migrations()
def m001_feeds(db: sqlite_utils.Database) -> None:
    db["feeds"].create(
        {
            "id": int,
            "url": str,
            "name": str,
            "section": str,
            "added_at": str,
            "etag": str,
            "last_modified": str,
            "cache_key": str,
            "moved_from": str,
            "last_status": str,
            "last_error": str,
            "last_checked": str,
            "last_success": str,
            "last_new": int,
            "last_duplicate": int,
            "last_old": int,
            "errors": int,
        },
        pk="id",
        not_null={"url", "name", "section"},
        defaults={"last_new": 0, "last_duplicate": 0, "last_old": 0, "errors": 0},
    )
    db["feeds"].create_index(["url"], unique=True)
    db.execute("CREATE UNIQUE INDEX idx_feeds_name ON feeds(name COLLATE NOCASE)")
    # Every in-window entry a feed has given: "that feed has already given it".
    db["feed_entries"].create(
        {"feed_id": int, "key": str, "canonical_url": str, "first_seen": str},
        pk=("feed_id", "key"),
    )
    # Per feed and issue, for "produced nothing this quarter".
    db["feed_stats"].create(
        {
            "feed_id": int,
            "issue_id": str,
            "new": int,
            "duplicate": int,
            "old": int,
            "runs": int,
            "last_run": str,
        },
        pk=("feed_id", "issue_id"),
    )
    # Rejections are remembered forever; any one key matching skips an entry.
    db["feed_rejections"].create(
        {
            "id": int,
            "canonical_url": str,
            "guid": str,
            "title_key": str,
            "title": str,
            "issue_id": str,
            "rejected_at": str,
        },
        pk="id",
    )
    for column in ("canonical_url", "guid", "title_key"):
        db["feed_rejections"].create_index([column])
    # Canonical URLs of candidates accepted into an issue, kept even if the file goes.
    db["feed_used"].create(
        {"canonical_url": str, "issue_id": str, "item": str, "accepted_at": str},
        pk="canonical_url",
    )


@migrations()
def m002_rejection_feed(db: sqlite_utils.Database) -> None:
    # A guid is only unique within its feed ("42" in two feeds is two stories), so a
    # rejection remembers the feed its guid came from. NULL: matched by guid alone.
    db["feed_rejections"].add_column("feed", str)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One explicit transaction; use plain SQL inside (sqlite-utils writes commit early)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def now() -> str:
    """UTC timestamp as stored in every table: ISO 8601, second precision."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Feed:
    """One registered feed, with its last collect's health."""

    id: int
    url: str
    name: str
    section: str
    added_at: str = ""
    etag: str | None = None
    last_modified: str | None = None
    cache_key: str | None = None
    moved_from: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    last_checked: str | None = None
    last_success: str | None = None
    last_new: int = 0
    last_duplicate: int = 0
    last_old: int = 0
    errors: int = 0
    seen: int = 0


def list_feeds(db: sqlite_utils.Database) -> list[Feed]:
    rows = db.execute(
        "SELECT feeds.*, (SELECT COUNT(*) FROM feed_entries e WHERE e.feed_id = feeds.id) AS seen"
        " FROM feeds ORDER BY id"
    )
    columns = [c[0] for c in rows.description]
    return [Feed(**{k: v for k, v in zip(columns, row, strict=True)}) for row in rows]


def add_feed(
    db: sqlite_utils.Database, settings: Settings, url: str, section: str, name: str | None
) -> Feed:
    """Register a feed: an http(s) URL, a file:// URL or a local path."""
    url = url.strip()
    if section not in settings.section_keys:
        raise NewsletterError(
            f"--section: unknown section '{section}'. "
            f"Use one of: {', '.join(settings.section_keys)}."
        )
    if not url:
        raise NewsletterError("URL: empty. Give an http(s) URL, a file:// URL or a path.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise NewsletterError(f"{url}: not a valid URL. Check it and try again.") from None
    if is_local(url):
        path = local_path(url)
        if not path.is_file():
            raise NewsletterError(f"{url}: no such file. Give an http(s) URL or an existing file.")
        url = str(path.resolve())
    elif parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise NewsletterError(f"{url}: not a feed URL. Use https://..., file://... or a path.")
    else:
        url = _normal(url)
    feeds = list_feeds(db)
    for feed in feeds:
        if feed.url == url:
            raise NewsletterError(f"{url}: already registered as '{feed.name}'.")
    taken = {f.name.casefold() for f in feeds}
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise NewsletterError(
                "--name: empty. Give the feed a short name, e.g. --name 'UN News'."
            )
        if name.casefold() in taken:
            raise NewsletterError(f"--name: a feed is already named '{name}'. Pick another name.")
    else:
        base = Path(url).stem if is_local(url) else urlsplit(url).hostname or "feed"
        base = base.removeprefix("www.")
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}-{n}"
    db["feeds"].insert({"url": url, "name": name, "section": section, "added_at": now()})
    return next(f for f in list_feeds(db) if f.url == url)


def _normal(url: str) -> str:
    """Scheme and host lower-cased, as they are case-blind: one feed, one registry row."""
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    netloc = (f"{userinfo}@" if userinfo else "") + hostport.lower()
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc).geturl()


def quiet_feeds(db: sqlite_utils.Database) -> set[int]:
    """Feeds that gave nothing new for the issue they were last collected for."""
    rows = db.execute(
        "SELECT s.feed_id, s.new FROM feed_stats s WHERE s.last_run ="
        " (SELECT MAX(last_run) FROM feed_stats t WHERE t.feed_id = s.feed_id)"
    )
    return {feed_id for feed_id, new in rows if not new}


def find_feed(db: sqlite_utils.Database, name_or_url: str) -> Feed:
    key = name_or_url.strip()
    path = str(local_path(key).resolve()) if key and is_local(key) else None
    try:
        normal = _normal(key) if key and not is_local(key) else None
    except ValueError:
        normal = None
    wanted = {key, path, normal} - {None}
    for feed in list_feeds(db):
        # A feed that moved permanently is still found by the URL it was added with.
        if feed.name.casefold() == key.casefold() or {feed.url, feed.moved_from} & wanted:
            return feed
    raise NewsletterError(f"{name_or_url}: no such feed. See the names with: newsletter feeds list")


def remove_feed(db: sqlite_utils.Database, name_or_url: str) -> Feed:
    """Forget a feed and the entries it gave; rejections and used URLs stay."""
    feed = find_feed(db, name_or_url)
    with transaction(db):
        db.execute("DELETE FROM feed_entries WHERE feed_id = ?", [feed.id])
        db.execute("DELETE FROM feed_stats WHERE feed_id = ?", [feed.id])
        db.execute("DELETE FROM feeds WHERE id = ?", [feed.id])
    return feed
