"""Returned mail's tables: the messages already processed, and soft bounces per issue.

Only hashes and ids are kept: the returned mail itself, with its addresses, is not.
"""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now

migrations = Migrations("newsletter.bounces")


@migrations()
def m001_bounces(db: Database) -> None:
    db.execute(
        "CREATE TABLE bounce_messages (hash TEXT PRIMARY KEY, kind TEXT NOT NULL, at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE soft_bounces (contact_id INTEGER NOT NULL, issue TEXT NOT NULL,"
        " status TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (contact_id, issue))"
    )


def processed(db: Database, digest: str) -> bool:
    """Whether the message with this SHA-256 was processed before."""
    sql = "SELECT 1 FROM bounce_messages WHERE hash = ?"
    return db.execute(sql, [digest]).fetchone() is not None


def mark_processed(db: Database, digest: str, kind: str) -> None:
    db.execute(
        "INSERT INTO bounce_messages (hash, kind, at) VALUES (?, ?, ?)", [digest, kind, now()]
    )


def add_soft(db: Database, contact_id: int, issue: str, status: str) -> None:
    """Remember one soft bounce; a second one for the same issue changes nothing."""
    db.execute(
        "INSERT OR IGNORE INTO soft_bounces (contact_id, issue, status, at) VALUES (?, ?, ?, ?)",
        [contact_id, issue, status, now()],
    )


def soft_streak(db: Database, contact_id: int) -> int:
    """How many issues in a row, up to the latest soft-bounced one, bounced softly."""
    sql = "SELECT issue FROM soft_bounces WHERE contact_id = ?"
    soft = {row[0] for row in db.execute(sql, [contact_id])}
    if not soft:
        return 0
    # The issues they were sent, in send order (any sender: a rehearsal counts too).
    sql = (
        "SELECT issue FROM deliveries WHERE contact_id = ? AND status NOT IN ('queued', 'skipped')"
        " GROUP BY issue ORDER BY min(coalesce(sent_at, queued_at)), issue"
    )
    order = [row[0] for row in db.execute(sql, [contact_id])]
    order += sorted(soft - set(order))
    last = max(n for n, issue in enumerate(order) if issue in soft)
    streak = 0
    for issue in reversed(order[: last + 1]):
        if issue not in soft:
            break
        streak += 1
    return streak
