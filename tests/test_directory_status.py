"""`newsletter directory status` and contacts.freshness: how current the directory is."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from helpers import cli

from newsletter.contacts import freshness
from newsletter.contacts.freshness import Freshness, OpenSeat
from newsletter.models import Contact
from newsletter.store import open_db
from newsletter.store.contacts import create_contact, get_contact, mark_left
from newsletter.store.proposals import set_confirmed

ON = dt.date(2026, 12, 1)


def person(db, email, org, at, **values):
    return create_contact(db, Contact(email=email, organisation=org, **values), "test", "t", at)


def directory(project):
    """Four listed entries (three fresh on ON), two vacant seats, one unlisted person."""
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(db, "ana@undp.example.org", "UNDP", "2025-03-04T09:00:00+00:00", name="Ana Holder")
        person(db, "ben@undp.example.org", "UNDP", "2024-01-10T09:00:00+00:00", name="Ben Alt")
        set_confirmed(db, get_contact(db, "ben@undp.example.org").id, "2026-11-01T10:00:00+00:00")
        person(db, "cy@undp.example.org", "UNDP", "2025-06-01T09:00:00+00:00", name="Cy Left")
        mark_left(db, "cy@undp.example.org", "test", "t", "2026-03-12T08:00:00+00:00")
        person(db, "dee@unep.example.org", "UNEP", "2026-06-01T09:00:00+00:00", name="Dee Gone")
        mark_left(db, "dee@unep.example.org", "test", "t", "2026-11-20T08:00:00+00:00")
        person(db, "fay@who.example.org", "WHO", "2026-10-10T09:00:00+00:00", name="Fay Fresh")
        person(db, "nemo@example.org", "", "2026-01-01T09:00:00+00:00")
        person(db, "hal@who.example.org", "WHO", "2020-01-01T09:00:00+00:00", listed=False)
    return db


def test_status_counts_overall_per_organisation_seats_and_oldest(project):
    directory(project).conn.close()
    result = cli(project, "directory", "status", "--on", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Directory: 3 of 4 entries confirmed in the last 12 months (75%);"
        " 2 vacant seats, the oldest 264 days.\n"
        "By organisation (confirmed in the last 12 months, of listed):\n"
        "  UNDP: 1 of 2\n"
        "  WHO: 1 of 1\n"
        "  No organisation: 1 of 1\n"
        "Vacant seats, longest first:\n"
        "  UNDP, Alternate 2: vacant since 2026-03-12 (264 days)\n"
        "  UNEP, Private-sector focal point: vacant since 2026-11-20 (11 days)\n"
        "The oldest confirmations:\n"
        "  2025-03-04 added: Ana Holder (UNDP)\n"
        "  2026-01-01 added: nemo@example.org (no organisation)\n"
        "  2026-10-10 added: Fay Fresh (WHO)\n"
        "  2026-11-01 confirmed: Ben Alt (UNDP)\n"
    )


def test_status_json(project):
    directory(project).conn.close()
    result = cli(project, "directory", "status", "--on", "2026-12-01", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k: data[k] for k in ("today", "fresh", "listed", "percent")} == {
        "today": "2026-12-01",
        "fresh": 3,
        "listed": 4,
        "percent": 75,
    }
    assert data["organisations"][0] == {"organisation": "UNDP", "fresh": 1, "listed": 2}
    assert data["vacant_seats"] == [
        {"organisation": "UNDP", "role": "Alternate 2", "since": "2026-03-12", "days": 264},
        {
            "organisation": "UNEP",
            "role": "Private-sector focal point",
            "since": "2026-11-20",
            "days": 11,
        },
    ]
    assert data["oldest"][0] == {
        "name": "Ana Holder",
        "email": "ana@undp.example.org",
        "organisation": "UNDP",
        "confirmed": "2025-03-04",
        "never": True,
    }


def test_a_year_later_nothing_is_fresh_and_the_seats_are_older(project):
    db = directory(project)
    later = freshness(db, dt.date(2027, 12, 1))
    assert (later.fresh, later.listed, later.percent) == (0, 4, 0)
    assert [s.days for s in later.vacant] == [629, 376]


def test_only_the_ten_oldest_are_named(project):
    db = open_db(project / "contacts.db")
    with db.atomic():
        for n in range(12):
            person(db, f"p{n}@who.example.org", "WHO", f"2025-01-{n + 10:02d}T09:00:00+00:00")
    found = freshness(db, ON)
    assert [o.email for o in found.oldest] == [f"p{n}@who.example.org" for n in range(10)]


def test_an_empty_directory(project):
    result = cli(project, "directory", "status", "--on", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Directory: 0 of 0 entries confirmed in the last 12 months (0%); no vacant seats.\n"
    )


def seat(days):
    return OpenSeat("UNDP", "Alternate", "2026-01-01", days)


@pytest.mark.parametrize(
    ("fresh", "listed", "vacant", "line"),
    [
        (
            41,
            66,
            (seat(240), seat(30), seat(2)),
            "41 of 66 entries confirmed in the last 12 months (62%); 3 vacant seats, the oldest 240 days.",
        ),
        (1, 1, (), "1 of 1 entry confirmed in the last 12 months (100%); no vacant seats."),
        (
            0,
            3,
            (seat(1),),
            "0 of 3 entries confirmed in the last 12 months (0%); 1 vacant seat, 1 day.",
        ),
        (
            2,
            3,
            (seat(0),),
            "2 of 3 entries confirmed in the last 12 months (67%); 1 vacant seat, 0 days.",
        ),
    ],
)
def test_the_figure(fresh, listed, vacant, line):
    assert Freshness(ON, fresh, listed, (), vacant, ()).line == f"Directory: {line}"


def test_a_bad_day_is_a_usage_error(project):
    result = cli(project, "directory", "status", "--on", "yesterday")
    assert result.exit_code == 2
    assert "'yesterday' does not match the format '%Y-%m-%d'" in result.output
