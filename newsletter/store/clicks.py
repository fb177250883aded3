"""Click counts (``readership = "aggregate"``): how often each link of an issue was followed,
and how often by the people of each organisation large enough to be counted.

``clicks``: one row per issue and link: the link's address and a count,
incremented by one per click. ``click_organisations`` (m002): one row per issue,
link and organisation (its row id) with a count, incremented when the click link
carried a genuine organisation part (``tokens.CLICK_ORG``), which only an
organisation of at least ``models.MIN_GROUP`` recipients of the issue gets. A
click without one (an older email, a smaller organisation, a contact without
one) counts in ``clicks`` only: the difference is "other organisations". Nothing
else is stored: no person, address, IP address, user agent or time, so there is
nothing to purge.
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


@migrations()
def m002_click_organisations(db: Database) -> None:
    # The organisation by row id, as the signed part names it: a report shows the
    # name it has then. No foreign key: a count outlives whatever happens to the row.
    db.execute(
        """
        CREATE TABLE click_organisations (
            issue TEXT NOT NULL,
            link INTEGER NOT NULL,
            organisation INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (issue, link, organisation)
        )"""
    )


@dataclass(frozen=True)
class LinkClicks:
    link: int  # the link's number in the email, from 1
    url: str
    count: int


@dataclass(frozen=True)
class OrganisationClicks:
    """An organisation's clicks on an issue's links, all links together."""

    organisation: str  # its name now
    count: int


def count_click(
    db: Database, issue: str, link: int, url: str, organisation: int | None = None
) -> None:
    """Add one click on ``issue``'s link ``link``, and on that link for ``organisation``
    (a row id from a genuine organisation part) when given, in one transaction."""
    with writing(db):
        db.execute(
            "INSERT INTO clicks (issue, link, url, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (issue, link) DO UPDATE SET count = count + 1",
            [issue, link, url],
        )
        if organisation is not None:
            db.execute(
                "INSERT INTO click_organisations (issue, link, organisation, count)"
                " VALUES (?, ?, ?, 1) ON CONFLICT (issue, link, organisation)"
                " DO UPDATE SET count = count + 1",
                [issue, link, organisation],
            )


def clicks(db: Database, issue: str) -> list[LinkClicks]:
    """``issue``'s links that were followed, in the email's order."""
    rows = db.execute(
        "SELECT link, url, count FROM clicks WHERE issue = ? ORDER BY link", [issue]
    ).fetchall()
    return [LinkClicks(*row) for row in rows]


def by_organisation(db: Database, issue: str) -> list[OrganisationClicks]:
    """``issue``'s clicks per organisation, all links together, by name. An organisation
    whose row is gone is left out: its clicks are among those that name no organisation."""
    rows = db.execute(
        "SELECT o.name, sum(k.count) FROM click_organisations k"
        " JOIN organisations o ON o.id = k.organisation WHERE k.issue = ?"
        " GROUP BY o.id ORDER BY o.name COLLATE NOCASE",
        [issue],
    ).fetchall()
    return [OrganisationClicks(*row) for row in rows]
