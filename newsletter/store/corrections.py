"""Published corrections: what an editor says an earlier issue got wrong.

One row per correction, never edited: the next issue carries it in a short
"Corrections" box, and the archive page of the corrected issue shows it as a
dated note. The text is the editor's, checked by ``directory.correct`` before
it gets here; no address of a person is stored, so there is no purge step.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, writing

migrations = Migrations("newsletter.corrections")


@migrations()
def m001_corrections(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            issue TEXT NOT NULL,
            text TEXT NOT NULL,
            actor TEXT NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_corrections_issue ON corrections(issue)")


@dataclass(frozen=True)
class Correction:
    id: int
    issue: str  # the corrected issue's ID
    text: str
    actor: str
    at: str  # UTC, ISO 8601


def add_correction(db: Database, issue: str, text: str, actor: str, at: str) -> Correction:
    """Record a correction of ``issue``, in its own transaction."""
    with writing(db):
        cursor = db.execute(
            "INSERT INTO corrections (issue, text, actor, at) VALUES (?, ?, ?, ?)",
            [issue, text, actor, at],
        )
    assert cursor.lastrowid is not None  # sqlite3 sets it on every INSERT
    return Correction(cursor.lastrowid, issue, text, actor, at)


def corrections(db: Database, issues: tuple[str, ...] | None = None) -> list[Correction]:
    """Every correction (of ``issues``), oldest first."""
    sql = "SELECT id, issue, text, actor, at FROM corrections"
    args: list[str] = list(issues or ())
    if issues is not None:
        sql += f" WHERE issue IN ({','.join('?' * len(args))})"
    return [Correction(*row) for row in db.execute(sql + " ORDER BY at, id", args)]
