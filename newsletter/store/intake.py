"""Messages taken in by ``newsletter intake``: one row per message, so none is taken twice.

A message is known by its Message-ID, or by a digest of its bytes when it has
none (``intake.message.key_of``). A row keeps the issue and the candidate file
it became; no address, so there is nothing to purge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database

migrations = Migrations("newsletter.intake")


@migrations()
def m001_intake_messages(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE intake_messages (
            key TEXT PRIMARY KEY,
            issue TEXT NOT NULL,
            name TEXT NOT NULL,
            taken_at TEXT NOT NULL
        )"""
    )


def taken_keys(db: Database, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` were taken in before (one query per 500)."""
    found: set[str] = set()
    for n in range(0, len(keys), 500):
        part = list(keys[n : n + 500])
        sql = f"SELECT key FROM intake_messages WHERE key IN ({', '.join('?' * len(part))})"
        found.update(row[0] for row in db.execute(sql, part))
    return found


def record_taken(db: Database, rows: Iterable[tuple[str, str, str]], taken_at: str) -> None:
    """Remember (key, issue, candidate name) for each message taken in; the caller's transaction."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO intake_messages (key, issue, name, taken_at) VALUES (?, ?, ?, ?)",
        [(key, issue, name, taken_at) for key, issue, name in rows],
    )
