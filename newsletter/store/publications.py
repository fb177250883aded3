"""Which issues are published: one row per issue, in contacts.db beside the ledger.

A row is written when a real send of the issue completes, or when the editor
says so (``newsletter publish`` / ``unpublish``); an issue without a row is
decided by its issue.toml (``publish.publication`` holds that rule). The
editor's word is kept: a send that completes later never overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now, writing

SEND = "send"  # written when a real send completed
EDITOR = "editor"  # written by newsletter publish or unpublish

migrations = Migrations("newsletter.publications")


@migrations()
def m001_publications(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE publications (
            issue TEXT PRIMARY KEY,
            published INTEGER NOT NULL CHECK (published IN (0, 1)),
            by TEXT NOT NULL CHECK (by IN ('send', 'editor')),
            source TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )


@dataclass(frozen=True)
class Publication:
    """The decision on one issue: who made it (``SEND`` or ``EDITOR``), how and when."""

    issue: str
    published: bool
    by: str
    source: str  # "sent via smtp", "newsletter publish", ...
    at: str

    @property
    def day(self) -> str:
        return self.at[:10]


_COLUMNS = "issue, published, by, source, at"


def _row(row: tuple[str, int, str, str, str]) -> Publication:
    return Publication(row[0], bool(row[1]), row[2], row[3], row[4])


def get(db: Database, issue: str) -> Publication | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM publications WHERE issue = ?", [issue]).fetchone()
    return _row(row) if row else None


def every(db: Database) -> dict[str, Publication]:
    """Every issue's decision, by issue ID."""
    return {row[0]: _row(row) for row in db.execute(f"SELECT {_COLUMNS} FROM publications")}


def decide(db: Database, issue: str, published: bool, source: str) -> None:
    """Record the editor's decision on ``issue``, replacing any before it."""
    with writing(db):
        db.execute(
            "INSERT INTO publications (issue, published, by, source, at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (issue) DO UPDATE SET published = excluded.published,"
            " by = excluded.by, source = excluded.source, at = excluded.at",
            [issue, int(published), EDITOR, source, now()],
        )


def sent(db: Database, issue: str, source: str) -> tuple[Publication, bool]:
    """A real send of ``issue`` completed: published, unless a decision is already
    recorded (the editor's, or an earlier send's). The decision, and whether it is new."""
    with writing(db):
        before = get(db, issue)
        if before is not None:
            return before, False
        db.execute(
            "INSERT INTO publications (issue, published, by, source, at) VALUES (?, 1, ?, ?, ?)",
            [issue, SEND, source, now()],
        )
    found = get(db, issue)
    assert found is not None
    return found, True
