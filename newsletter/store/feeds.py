"""The feed registry's tables: feeds, what each has given, rejections, used links.

Each feed row carries its last collect's health (status, counts, errors) and
the validators (ETag, Last-Modified) for the next conditional GET. Callers
hold the transaction (``writing``) around a run of these writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now

migrations = Migrations("newsletter.feeds")


@migrations()
def m001_feeds(db: Database) -> None:
    db.table("feeds").create(
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
    db.table("feeds").create_index(["url"], unique=True)
    db.execute("CREATE UNIQUE INDEX idx_feeds_name ON feeds(name COLLATE NOCASE)")
    # Every in-window entry a feed has given: "that feed has already given it".
    db.table("feed_entries").create(
        {"feed_id": int, "key": str, "canonical_url": str, "first_seen": str},
        pk=("feed_id", "key"),
    )
    # Per feed and issue, for "produced nothing this quarter".
    db.table("feed_stats").create(
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
    db.table("feed_rejections").create(
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
        db.table("feed_rejections").create_index([column])
    # Canonical URLs of candidates accepted into an issue, kept even if the file goes.
    db.table("feed_used").create(
        {"canonical_url": str, "issue_id": str, "item": str, "accepted_at": str},
        pk="canonical_url",
    )


@migrations()
def m002_rejection_feed(db: Database) -> None:
    # A guid is only unique within its feed ("42" in two feeds is two stories), so a
    # rejection remembers the feed its guid came from. NULL: matched by guid alone.
    db.table("feed_rejections").add_column("feed", str)


@migrations()
def m003_private_host(db: Database) -> None:
    # The one host of a feed the editor registered with --allow-private: it may
    # resolve to a loopback or private address (an intranet feed). Kept as the
    # host, not a yes/no, so a redirect or a permanent move to another host
    # never inherits it. NULL: only public addresses.
    db.table("feeds").add_column("private_host", str)


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
    private_host: str | None = None  # fetched even at a private address (--allow-private)
    seen: int = 0


@dataclass(frozen=True)
class Seen:
    """A row of feed_entries: this feed has given this entry (keyed by guid, URL or hash)."""

    feed_id: int
    key: str
    canonical_url: str | None
    first_seen: str


@dataclass(frozen=True)
class Rejection:
    """What an editor rejected, kept so no feed proposes it again."""

    canonical_url: str | None
    guid: str | None
    title_key: str | None
    title: str
    issue_id: str
    feed: str | None  # the feed URL its guid came from; None: matched by guid alone


def list_feeds(db: Database) -> list[Feed]:
    rows = db.execute(
        "SELECT feeds.*, (SELECT COUNT(*) FROM feed_entries e WHERE e.feed_id = feeds.id) AS seen"
        " FROM feeds ORDER BY id"
    )
    columns = [c[0] for c in rows.description]
    return [Feed(**dict(zip(columns, row, strict=True))) for row in rows]


def insert_feed(
    db: Database, url: str, name: str, section: str, private_host: str | None = None
) -> Feed:
    db.execute(
        "INSERT INTO feeds (url, name, section, added_at, private_host) VALUES (?, ?, ?, ?, ?)",
        [url, name, section, now(), private_host],
    )
    return next(f for f in list_feeds(db) if f.url == url)


def set_private_host(db: Database, feed_id: int, host: str | None) -> None:
    """Let this feed's one host resolve to a private address (None: public addresses only)."""
    db.execute("UPDATE feeds SET private_host = ? WHERE id = ?", [host, feed_id])


def delete_feed(db: Database, feed_id: int) -> None:
    """Forget a feed and the entries it gave; rejections and used URLs stay."""
    db.execute("DELETE FROM feed_entries WHERE feed_id = ?", [feed_id])
    db.execute("DELETE FROM feed_stats WHERE feed_id = ?", [feed_id])
    db.execute("DELETE FROM feeds WHERE id = ?", [feed_id])


def quiet_feeds(db: Database) -> set[int]:
    """Feeds that gave nothing new for the issue they were last collected for."""
    rows = db.execute(
        "SELECT s.feed_id, s.new FROM feed_stats s WHERE s.last_run ="
        " (SELECT MAX(last_run) FROM feed_stats t WHERE t.feed_id = s.feed_id)"
    )
    return {feed_id for feed_id, new in rows if not new}


def seen_keys(db: Database) -> set[tuple[int, str]]:
    """(feed id, entry key) of every entry any feed has given."""
    return {(row[0], row[1]) for row in db.execute("SELECT feed_id, key FROM feed_entries")}


def add_seen(db: Database, seen: Iterable[Seen]) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO feed_entries VALUES (?, ?, ?, ?)",
        [(s.feed_id, s.key, s.canonical_url, s.first_seen) for s in seen],
    )


def add_stats(
    db: Database, feed_id: int, issue_id: str, new: int, duplicate: int, old: int, at: str
) -> int:
    """Add one run's counts for a feed and issue; the issue's new entries so far."""
    db.execute(
        "INSERT INTO feed_stats VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT DO UPDATE SET"
        " new = new + excluded.new, duplicate = duplicate + excluded.duplicate,"
        " old = old + excluded.old, runs = runs + 1, last_run = excluded.last_run",
        [feed_id, issue_id, new, duplicate, old, at],
    )
    return db.execute(
        "SELECT new FROM feed_stats WHERE feed_id = ? AND issue_id = ?", [feed_id, issue_id]
    ).fetchone()[0]


# The columns a collect may update on a feed's row.
HEALTH = frozenset(
    {
        "last_status",
        "last_error",
        "last_checked",
        "last_new",
        "last_duplicate",
        "last_old",
        "errors",
        "last_success",
        "cache_key",
        "etag",
        "last_modified",
        "url",
        "moved_from",
    }
)


def update_feed(db: Database, feed_id: int, values: dict[str, object]) -> None:
    unknown = set(values) - HEALTH
    if unknown:  # column names go into the SQL text: only known ones
        raise ValueError(f"not feed health columns: {sorted(unknown)}")
    sets = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE feeds SET {sets} WHERE id = ?", [*values.values(), feed_id])


def used_urls(db: Database) -> set[str]:
    """Canonical URLs of candidates accepted into any issue, even if the file is gone."""
    return {row[0] for row in db.execute("SELECT canonical_url FROM feed_used")}


def add_used(db: Database, urls: Iterable[str], issue_id: str, item: str, at: str) -> None:
    for url in urls:
        db.execute(
            "INSERT OR REPLACE INTO feed_used VALUES (?, ?, ?, ?)", [url, issue_id, item, at]
        )


def add_rejection(db: Database, rejection: Rejection, at: str) -> None:
    r = rejection
    db.execute(
        "INSERT INTO feed_rejections (canonical_url, guid, title_key, title, issue_id,"
        " rejected_at, feed) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [r.canonical_url, r.guid, r.title_key, r.title, r.issue_id, at, r.feed],
    )


def rejections(db: Database) -> tuple[set[str], set[tuple[str | None, str]], set[str]]:
    """Rejected canonical URLs, (feed, guid) pairs and title keys."""
    rows = db.execute("SELECT canonical_url, guid, title_key, feed FROM feed_rejections").fetchall()
    urls = {r[0] for r in rows if r[0]}
    guids = {(r[3], r[1]) for r in rows if r[1]}
    return urls, guids, {r[2] for r in rows if r[2]}
