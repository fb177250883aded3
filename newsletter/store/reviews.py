"""Reviews of an issue's build: who was sent a link, their comments and approvals.

Each row names the issue, the reviewer's address, when, and the build's input
digest (``build.input_digest``, as ``build/report.json`` records it) that the
reviewer saw: an approval counts only for that build, so a rebuild that changed
anything voids it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now, writing

LINK = "link"  # a review link was sent
COMMENT = "comment"
APPROVAL = "approval"
KINDS = (LINK, COMMENT, APPROVAL)

migrations = Migrations("newsletter.reviews")


@migrations()
def m001_reviews(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            issue TEXT NOT NULL,
            reviewer TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('link', 'comment', 'approval')),
            digest TEXT NOT NULL,
            body TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX reviews_issue ON reviews (issue, kind)")


@dataclass(frozen=True)
class Entry:
    """One row: a link sent, a comment or an approval."""

    issue: str
    reviewer: str
    kind: str
    digest: str
    body: str
    at: str


def record(db: Database, issue: str, reviewer: str, kind: str, digest: str, body: str = "") -> None:
    """Add one row of ``kind`` for ``issue`` by ``reviewer`` on the build ``digest``."""
    if kind not in KINDS:
        raise ValueError(f"{kind!r} is not a kind of review row")
    with writing(db):
        db.execute(
            "INSERT INTO reviews (issue, reviewer, kind, digest, body, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [issue, reviewer, kind, digest, body, now()],
        )


def entries(db: Database, issue: str) -> list[Entry]:
    """Every row of ``issue``, oldest first."""
    rows = db.execute(
        "SELECT issue, reviewer, kind, digest, body, at FROM reviews WHERE issue = ?"
        " ORDER BY at, id",
        [issue],
    )
    return [Entry(*row) for row in rows]


def forget_address(db: Database, address: str, contact_id: int | None) -> None:
    """A purge: the person's reviews go with them."""
    db.execute("DELETE FROM reviews WHERE reviewer = ? COLLATE NOCASE", [address])
