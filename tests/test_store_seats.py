"""store.seats: seats follow the contacts by one rule, and keep their history."""

from __future__ import annotations

import datetime as dt
import sqlite3

from helpers import cli

from newsletter.models import Contact
from newsletter.store import open_db
from newsletter.store.contacts import create_contact, get_contact, mark_left
from newsletter.store.purge import purge
from newsletter.store.seats import ROLES, seat_of, seats, succeed, tenures

DAY = "2026-01-05T09:00:00+00:00"
TODAY = "2026-12-01T09:00:00+00:00"


def _add(project, email, org, *extra):
    result = cli(project, "contacts", "add", email, "--org", org, *extra)
    assert result.exit_code == 0, result.output


def _roster(db):
    names = {o: n for o, n in db.execute("SELECT id, name FROM organisations")}
    emails = {i: e for i, e in db.execute("SELECT id, email FROM contacts")}
    return [
        (names[s.organisation_id], s.role, emails.get(s.holder) if s.holder else None)
        for s in seats(db)
    ]


def test_each_listed_contact_takes_the_next_seat_of_their_organisation(project):
    for email in ("a@who.int", "b@who.int", "c@who.int"):
        _add(project, email, "WHO")
    _add(project, "d@ilo.org", "ILO")
    db = open_db(project / "contacts.db")
    assert _roster(db) == [
        ("WHO", "Private-sector focal point", "a@who.int"),
        ("WHO", "Alternate", "b@who.int"),
        ("WHO", "Alternate 2", "c@who.int"),
        ("ILO", "Private-sector focal point", "d@ilo.org"),
    ]
    assert ROLES[0] == "Private-sector focal point"


def test_a_departure_leaves_the_seat_vacant_and_the_next_person_fills_it(project):
    _add(project, "a@who.int", "WHO")
    _add(project, "b@who.int", "WHO")
    db = open_db(project / "contacts.db")
    a = get_contact(db, "a@who.int").id
    assert mark_left(db, a, at="2026-03-12T09:00:00+00:00")
    first = seats(db)[0]
    assert (first.role, first.holder, first.since) == (ROLES[0], None, "2026-03-12")
    assert first.vacant_days(dt.date(2026, 12, 1)) == 264
    assert seat_of(db, a) is None
    _add(project, "c@who.int", "WHO")  # fills the vacancy, no third seat
    assert _roster(db) == [
        ("WHO", ROLES[0], "c@who.int"),
        ("WHO", "Alternate", "b@who.int"),
    ]
    chain = tenures(db, first.id)
    assert [(t.contact_id, t.end) for t in chain] == [
        (a, "2026-03-12"),
        (get_contact(db, "c@who.int").id, ""),
    ]


def test_unlisting_or_moving_gives_the_seat_up(project):
    _add(project, "a@who.int", "WHO")
    cli(project, "contacts", "edit", "a@who.int", "--org", "ILO")
    db = open_db(project / "contacts.db")
    assert _roster(db) == [("WHO", ROLES[0], None), ("ILO", ROLES[0], "a@who.int")]
    cli(project, "contacts", "edit", "a@who.int", "--unlisted")
    assert _roster(db) == [("WHO", ROLES[0], None), ("ILO", ROLES[0], None)]


def test_succeed_hands_a_seat_on_without_a_phantom_seat(project):
    _add(project, "a@who.int", "WHO")
    db = open_db(project / "contacts.db")
    a = get_contact(db, "a@who.int").id
    seat = seat_of(db, a)
    mark_left(db, a)
    _add(project, "b@who.int", "WHO")  # takes the vacant seat by itself
    _add(project, "c@who.int", "WHO")  # a new seat, "Alternate"
    c = get_contact(db, "c@who.int").id
    with db.conn:
        succeed(db, seat.id, c, "2027-01-05T10:00:00+00:00", "proposal:1")
    assert seat_of(db, c).id == seat.id
    # The holder the seat had still holds the role: they take the seat c gave up
    # (made today for c alone, so not a vacancy of its own); no third seat.
    assert _roster(db) == [("WHO", ROLES[0], "c@who.int"), ("WHO", "Alternate", "b@who.int")]


def test_a_successor_passing_through_a_long_vacant_seat_leaves_its_age_alone(project):
    db = open_db(project / "contacts.db")
    a = create_contact(db, Contact(email="a@who.int", organisation="WHO"), "t", "t", DAY)
    b = create_contact(db, Contact(email="b@who.int", organisation="WHO"), "t", "t", DAY)
    mark_left(db, a.id, at="2026-03-12T09:00:00+00:00")
    seat = seat_of(db, b.id)
    mark_left(db, b.id, at=TODAY)
    # As an approved departure does: c, added today, takes the longest-vacant seat
    # by the rule, then b's seat as the successor named.
    c = create_contact(db, Contact(email="c@who.int", organisation="WHO"), "t", "t", TODAY)
    with db.conn:
        succeed(db, seat.id, c.id, TODAY, "proposal:1")
    first = seats(db)[0]
    assert (first.role, first.holder, first.since) == (ROLES[0], None, "2026-03-12")
    assert [(t.contact_id, t.start, t.end) for t in tenures(db, first.id)] == [
        (a.id, "2026-01-05", "2026-03-12")
    ]
    assert [t.contact_id for t in tenures(db, seat.id)] == [b.id, c.id]


def test_an_erased_person_leaves_a_vacant_seat_with_a_nameless_history(project):
    _add(project, "a@who.int", "WHO")
    db = open_db(project / "contacts.db")
    seat = seat_of(db, get_contact(db, "a@who.int").id)
    purge(db, "a@who.int")
    assert seats(db)[0].vacant
    assert [t.contact_id for t in tenures(db, seat.id)] == [None]


def test_the_migration_seats_existing_contacts_and_vacates_organisations_all_gone(tmp_path):
    path = tmp_path / "contacts.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT,
            PRIMARY KEY (migration_set, name));
        """
    )
    old.close()
    db = open_db(path)  # a fresh database: every migration, seats last
    db.execute("DELETE FROM _sqlite_migrations WHERE migration_set = 'newsletter.seats'")
    for table in ("stewards", "tenures", "seats"):
        db.execute(f"DROP TABLE {table}")
    db.execute("INSERT INTO organisations (id, name) VALUES (1, 'WHO'), (2, 'ILO')")
    db.execute(
        "INSERT INTO contacts (id, email, organisation_id, status, listed) VALUES"
        " (1, 'a@who.int', 1, 'subscribed', 1), (2, 'b@ilo.org', 2, 'left', 1),"
        " (3, 'c@who.int', 1, 'left', 1)"
    )
    db.execute(
        "INSERT INTO history (contact_id, field, old, new, at) VALUES"
        " (2, 'status', 'subscribed', 'left', '2025-06-30T12:00:00+00:00')"
    )
    db.conn.close()
    db = open_db(path)
    assert _roster(db) == [("WHO", ROLES[0], "a@who.int"), ("ILO", ROLES[0], None)]
    ilo = seats(db, 2)[0]
    assert ilo.since == "2025-06-30"
    assert [(t.contact_id, t.start, t.end) for t in tenures(db, ilo.id)] == [
        (2, "2025-06-30", "2025-06-30")
    ]


def test_a_bulk_import_fills_the_vacant_seats_first_then_adds_seats(project, tmp_path):
    _add(project, "a@who.int", "WHO")
    _add(project, "b@who.int", "WHO")
    db = open_db(project / "contacts.db")
    mark_left(db, get_contact(db, "b@who.int").id, at="2026-01-01T00:00:00+00:00")
    mark_left(db, get_contact(db, "a@who.int").id, at="2026-02-01T00:00:00+00:00")
    db.execute("UPDATE seats SET role = 'Alternate 3' WHERE role = 'Alternate'")  # renamed
    rows = "".join(f"{n}@who.int,WHO\n" for n in "cdef")
    (tmp_path / "more.csv").write_text("email,organisation\n" + rows, encoding="utf-8")
    result = cli(project, "contacts", "import", str(tmp_path / "more.csv"))
    assert result.exit_code == 0, result.output
    assert _roster(db) == [
        ("WHO", ROLES[0], "d@who.int"),  # vacant since February: second
        ("WHO", "Alternate 3", "c@who.int"),  # vacant since January: first
        ("WHO", "Alternate 2", "e@who.int"),  # two seats already: the third is "Alternate 2"
        ("WHO", "Alternate 4", "f@who.int"),  # "Alternate 3" is taken: the next name
    ]
