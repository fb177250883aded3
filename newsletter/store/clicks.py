"""Click counts (``readership = "aggregate"``): how often each link of an issue was followed.

One row per issue and link: the link's address and a count, incremented by one
per click. Nothing else is stored: no person, address, IP address, user agent
or time, so there is nothing to purge.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, writing

migrations = Migrations("newsletter.clicks")


@migrations()
def m001_clicks(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE clicks (
            issue TEXT NOT NULL,
            link INTEGER NOT NULL,
            url TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (issue, link)
        )"""
    )


@dataclass(frozen=True)
class LinkClicks:
    link: int  # the link's number in the email, from 1
    url: str
    count: int


def count_click(db: Database, issue: str, link: int, url: str) -> None:
    """Add one click on ``issue``'s link ``link``, in its own transaction."""
    with writing(db):
        db.execute(
            "INSERT INTO clicks (issue, link, url, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (issue, link) DO UPDATE SET count = count + 1",
            [issue, link, url],
        )


def clicks(db: Database, issue: str) -> list[LinkClicks]:
    """``issue``'s links that were followed, in the email's order."""
    rows = db.execute(
        "SELECT link, url, count FROM clicks WHERE issue = ? ORDER BY link", [issue]
    ).fetchall()
    return [LinkClicks(*row) for row in rows]
