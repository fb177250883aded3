"""Contributions taken in: one row per email (``newsletter intake``) or form sent
(``/submit/<token>``), so none is taken twice, and the record the contribution
tracker counts.

An email is known by its Message-ID, or by a digest of its bytes when it has
none (``intake.message.key_of``); a form by the one-time key its page carried.
A row keeps the issue, the candidate file it became, the route (``email`` or
``form``) and the contributor's organisation as the directory names it (""
for an unverified sender); no address or name, so there is nothing to purge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


@migrations()
def m002_organisation_and_route(db: Database) -> None:
    # The contribution tracker counts by organisation and issue; a form is taken in too.
    db.execute("ALTER TABLE intake_messages ADD COLUMN organisation TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE intake_messages ADD COLUMN route TEXT NOT NULL DEFAULT 'email'")
    db.execute("CREATE INDEX intake_messages_issue ON intake_messages (issue)")


def taken_keys(db: Database, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` were taken in before (one query per 500)."""
    found: set[str] = set()
    for n in range(0, len(keys), 500):
        part = list(keys[n : n + 500])
        sql = f"SELECT key FROM intake_messages WHERE key IN ({', '.join('?' * len(part))})"
        found.update(row[0] for row in db.execute(sql, part))
    return found


ROUTES = ("email", "form")


@dataclass(frozen=True)
class Taken:
    """One contribution taken in: its key, issue, candidate file and organisation."""

    key: str
    issue: str
    name: str
    organisation: str = ""  # "" for an unverified sender
    route: str = "email"


def record_taken(db: Database, rows: Iterable[Taken], taken_at: str) -> None:
    """Remember each contribution taken in; the caller's transaction."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO intake_messages (key, issue, name, taken_at, organisation, route)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(t.key, t.issue, t.name, taken_at, t.organisation, t.route) for t in rows],
    )


def submitted(db: Database, issues: Sequence[str]) -> dict[tuple[str, str], int]:
    """How many contributions each organisation sent to each of ``issues``, by
    (issue, organisation); "" is the unverified senders'."""
    found: dict[tuple[str, str], int] = {}
    for n in range(0, len(issues), 500):
        part = list(issues[n : n + 500])
        sql = (
            "SELECT issue, organisation, COUNT(*) FROM intake_messages"
            f" WHERE issue IN ({', '.join('?' * len(part))}) GROUP BY issue, organisation"
        )
        found.update({(issue, org): count for issue, org, count in db.execute(sql, part)})
    return found


def taken(db: Database, key: str) -> Taken | None:
    """The contribution taken in under ``key``, if any (a form's receipt reads it)."""
    row = db.execute(
        "SELECT key, issue, name, organisation, route FROM intake_messages WHERE key = ?", [key]
    ).fetchone()
    return Taken(*row) if row else None
