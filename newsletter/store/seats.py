"""Seats: the focal-point roles of an organisation, and who held each, from when to when.

A focal point is a role, not a person: an organisation has seats (its
"Private-sector focal point", an "Alternate"...), and people hold them in turn.
A tenure is one person holding one seat from a day to a day; the open tenure
(no ``end``) is the current holder, and the closed ones are the seat's history.
A seat whose last tenure is closed is vacant since that tenure's end.

Seats follow the contacts by one rule, ``settle``, which the contact writes in
``store.contacts`` call for the contact they change, inside their transaction:

* a contact who holds the directory role (listed, with an organisation, and
  subscribed, unsubscribed or bounced: a bouncing address is still the
  agency's nominee until someone says otherwise) holds exactly one seat of
  their organisation; a contact without a seat takes the organisation's
  longest-vacant seat, or a new one (``ROLES`` in order, then "Alternate 2"...);
* anyone else (left, unlisted, moved to another organisation, erased) holds
  none: their open tenure ends today, and the seat stays, vacant.

``succeed`` hands a seat to a named successor, as an approved departure does.
Stewards (``stewards``) are contacts who may propose changes for every seat
of an organisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now

migrations = Migrations("newsletter.seats")

# The first seats of an organisation, in order; then "Alternate 2", "Alternate 3"...
ROLES = ("Private-sector focal point", "Alternate")
# Statuses whose contact still holds their seat.
HOLDING = ("subscribed", "unsubscribed", "bounced")


@migrations()
def m001_seats(db: Database) -> None:
    db.table("seats").create(
        {"id": int, "organisation_id": int, "role": str, "created_at": str},
        pk="id",
        not_null={"organisation_id", "role", "created_at"},
        foreign_keys=[("organisation_id", "organisations", "id")],
    )
    db.execute("CREATE UNIQUE INDEX idx_seats_role ON seats(organisation_id, role COLLATE NOCASE)")
    # No foreign key to contacts: an erased person's tenure stays, with no contact,
    # so the seat's history still shows when it changed hands.
    db.table("tenures").create(
        {
            "id": int,
            "seat_id": int,
            "contact_id": int,
            "start": str,
            "end": str,
            "source": str,
        },
        pk="id",
        not_null={"seat_id", "start"},
        foreign_keys=[("seat_id", "seats", "id")],
    )
    db.execute("CREATE INDEX idx_tenures_closed ON tenures(seat_id) WHERE end IS NOT NULL")
    db.table("tenures").create_index(["seat_id"])
    db.table("tenures").create_index(["contact_id"])
    db.table("stewards").create(
        {"organisation_id": int, "contact_id": int, "at": str},
        pk=("organisation_id", "contact_id"),
        foreign_keys=[("organisation_id", "organisations", "id")],
    )
    # Existing contacts take their seats now, in the order they were added.
    at = now()
    for (contact_id,) in db.execute("SELECT id FROM contacts ORDER BY id").fetchall():
        settle(db, contact_id, at, "migration")
    _vacate_left_organisations(db, at)


def _vacate_left_organisations(db: Database, at: str) -> None:
    """An organisation whose focal points have all left gets its first seat, vacant.

    Vacant since the day the last of them left (the history says when), so the
    directory shows how long the agency has had nobody.
    """
    rows = db.execute(
        "SELECT c.organisation_id, c.id, coalesce(max(h.at), c.updated_at) FROM contacts c"
        " LEFT JOIN history h ON h.contact_id = c.id AND h.field = 'status' AND h.new = 'left'"
        " WHERE c.status = 'left' AND c.organisation_id IS NOT NULL"
        " AND c.organisation_id NOT IN (SELECT organisation_id FROM seats)"
        " GROUP BY c.id ORDER BY 3"
    ).fetchall()
    last: dict[int, tuple[int, str]] = {}
    for org_id, contact_id, left_at in rows:
        last[org_id] = (contact_id, left_at or at)  # ordered by date: the last one wins
    for org_id, (contact_id, left_at) in last.items():
        seat, _ = _new_seat(db, org_id, at)
        _open(db, seat, contact_id, left_at[:10], "migration")
        db.execute(
            "UPDATE tenures SET end = ? WHERE seat_id = ? AND end IS NULL", [left_at[:10], seat]
        )


@dataclass(frozen=True)
class Tenure:
    """One person's time in one seat; ``end`` is "" while they hold it."""

    seat_id: int
    contact_id: int | None  # None: the person was erased
    start: str  # YYYY-MM-DD
    end: str  # YYYY-MM-DD, or ""
    source: str


@dataclass(frozen=True)
class Seat:
    """A seat as it stands: its holder's contact id, or the day it fell vacant."""

    id: int
    organisation_id: int
    role: str
    holder: int | None  # the current holder's contact id
    since: str  # YYYY-MM-DD: when the holder took it, or when it fell vacant
    created_at: str

    @property
    def vacant(self) -> bool:
        return self.holder is None

    def vacant_days(self, today: dt.date) -> int | None:
        """How many days the seat has been vacant on ``today``; None if it is held."""
        if not self.vacant:
            return None
        return max((today - dt.date.fromisoformat(self.since[:10])).days, 0)


def _day(at: str) -> str:
    return at[:10]


def _role(n: int) -> str:
    """The name of an organisation's ``n``-th seat, from 0: ``ROLES``, then "Alternate 2"..."""
    return ROLES[n] if n < len(ROLES) else f"{ROLES[-1]} {n}"


def _new_seat(db: Database, org_id: int, at: str, n: int | None = None) -> tuple[int, int]:
    """A new seat of the organisation: its id, and the seat number to try next.

    Named from the number of seats on (``n``, or counted): the names before it
    are taken unless an editor renamed one, and then the unique index says so
    and the next name is tried. No list of the names taken: an import of a
    million people in one organisation must not hold them all, nor scan them.
    """
    if n is None:
        query = "SELECT count(*) FROM seats WHERE organisation_id = ?"
        (n,) = db.execute(query, [org_id]).fetchone()
    while True:
        cursor = db.execute(
            "INSERT OR IGNORE INTO seats (organisation_id, role, created_at) VALUES (?, ?, ?)",
            [org_id, _role(n), at],
        )
        n += 1
        if cursor.rowcount:
            assert cursor.lastrowid is not None  # sqlite3 sets it on every INSERT
            return cursor.lastrowid, n


def _open(db: Database, seat_id: int, contact_id: int, day: str, source: str) -> None:
    db.execute(
        "INSERT INTO tenures (seat_id, contact_id, start, source) VALUES (?, ?, ?, ?)",
        [seat_id, contact_id, day, source],
    )


def _vacant_seats(db: Database, org_id: int) -> list[int]:
    """The organisation's vacant seats, longest vacant first (then in role order).

    Read from the closed tenures, which are few (every seat has at least one
    tenure: ``succeed`` deletes a seat it leaves with none), so a bulk import
    asking once per organisation and chunk does not scan every seat each time.
    """
    rows = db.execute(
        # CROSS JOIN: SQLite then reads the closed tenures first (idx_tenures_closed).
        "SELECT t.seat_id, max(t.end) AS ended FROM tenures t"
        " CROSS JOIN seats s ON s.id = t.seat_id"
        " WHERE s.organisation_id = ? AND t.end IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM tenures o WHERE o.seat_id = t.seat_id AND o.end IS NULL)"
        " GROUP BY t.seat_id ORDER BY ended, t.seat_id",
        [org_id],
    )
    return [row[0] for row in rows]


def end_tenure(db: Database, contact_id: int, at: str) -> int | None:
    """Close ``contact_id``'s open tenure on ``at``'s day; the seat it frees, if any."""
    row = db.execute(
        "SELECT id, seat_id FROM tenures WHERE contact_id = ? AND end IS NULL", [contact_id]
    ).fetchone()
    if row is None:
        return None
    db.execute("UPDATE tenures SET end = ? WHERE id = ?", [_day(at), row[0]])
    return int(row[1])


def settle(db: Database, contact_id: int, at: str | None = None, source: str = "") -> None:
    """Bring ``contact_id``'s seat in line with the contact; the caller holds the transaction."""
    at = at or now()
    row = db.execute(
        "SELECT organisation_id, listed, status FROM contacts WHERE id = ?", [contact_id]
    ).fetchone()
    holds = row is not None and row[0] is not None and bool(row[1]) and row[2] in HOLDING
    current = db.execute(
        "SELECT t.id, s.organisation_id FROM tenures t JOIN seats s ON s.id = t.seat_id"
        " WHERE t.contact_id = ? AND t.end IS NULL",
        [contact_id],
    ).fetchone()
    if current is not None and (not holds or current[1] != row[0]):
        end_tenure(db, contact_id, at)
        current = None
    if holds and current is None:
        org_id = int(row[0])
        seat = next(iter(_vacant_seats(db, org_id)), None) or _new_seat(db, org_id, at)[0]
        _open(db, seat, contact_id, _day(at), source or "contact")


def settle_from(db: Database, first_id: int, at: str, source: str) -> None:
    """Seat every contact with an id from ``first_id`` up: a bulk import's new rows.

    The same rule as ``settle`` for people who hold no seat yet, in bulk: each
    organisation's vacant seats are filled first (longest vacant first), then new
    seats are made; one pass, streamed, so a million rows stay a few MB.
    """
    rows = db.execute(
        "SELECT id, organisation_id FROM contacts WHERE id >= ? AND organisation_id IS NOT NULL"
        f" AND listed = 1 AND status IN ({', '.join('?' * len(HOLDING))})"
        " ORDER BY organisation_id, id",
        [first_id, *HOLDING],
    )
    org: int | None = None
    vacant: Iterator[int] = iter(())
    n: int | None = None
    batch: list[tuple[int, int, str, str]] = []
    for contact_id, org_id in rows:
        if org_id != org:
            org, vacant, n = org_id, iter(_vacant_seats(db, org_id)), None
        seat = next(vacant, None)
        if seat is None:
            seat, n = _new_seat(db, org_id, at, n)
        batch.append((seat, contact_id, _day(at), source))
        if len(batch) >= 10_000:
            _open_many(db, batch)
    _open_many(db, batch)


def _open_many(db: Database, batch: list[tuple[int, int, str, str]]) -> None:
    db.conn.executemany(
        "INSERT INTO tenures (seat_id, contact_id, start, source) VALUES (?, ?, ?, ?)", batch
    )
    batch.clear()


def succeed(db: Database, seat_id: int, contact_id: int, at: str, source: str) -> None:
    """Give ``seat_id`` to ``contact_id``: the seat's holder (if any) and the successor's
    own seat (if any, e.g. just given by ``settle``) are closed first. A holder who
    still holds the role (an editor named someone else to their seat) takes another."""
    holder = db.execute(
        "SELECT contact_id FROM tenures WHERE seat_id = ? AND end IS NULL", [seat_id]
    ).fetchone()
    if holder is not None and holder[0] == contact_id:
        return
    if holder is not None:
        db.execute(
            "UPDATE tenures SET end = ? WHERE seat_id = ? AND end IS NULL", [_day(at), seat_id]
        )
    freed = end_tenure(db, contact_id, at)
    if freed is not None and freed != seat_id:
        # A seat they took today only on the way to this one: that tenure never was
        # real. Dropped, so a long-vacant seat keeps its date ("vacant since"), and a
        # seat made a moment ago only to hold them goes with it.
        db.execute(
            "DELETE FROM tenures WHERE seat_id = ? AND contact_id = ? AND start = ? AND end = ?",
            [freed, contact_id, _day(at), _day(at)],
        )
        db.execute(
            "DELETE FROM seats WHERE id = ?"
            " AND NOT EXISTS (SELECT 1 FROM tenures WHERE seat_id = ?)",
            [freed, freed],
        )
    _open(db, seat_id, contact_id, _day(at), source)
    if holder is not None and holder[0] is not None:
        settle(db, holder[0], at, source)


_SEATS = (
    "SELECT s.id, s.organisation_id, s.role, t.contact_id,"
    " coalesce(t.start, (SELECT max(e.end) FROM tenures e WHERE e.seat_id = s.id),"
    " substr(s.created_at, 1, 10)), s.created_at"
    " FROM seats s LEFT JOIN tenures t ON t.seat_id = s.id AND t.end IS NULL"
)


def seats(db: Database, organisation_id: int | None = None) -> list[Seat]:
    """Every seat (of one organisation), by organisation and then in role order."""
    where, args = (
        (" WHERE s.organisation_id = ?", [organisation_id]) if organisation_id else ("", [])
    )
    rows = db.execute(f"{_SEATS}{where} ORDER BY s.organisation_id, s.id", args).fetchall()
    return [Seat(*row) for row in rows]


def seat_of(db: Database, contact_id: int) -> Seat | None:
    """The seat ``contact_id`` holds now, if any."""
    row = db.execute(f"{_SEATS} WHERE t.contact_id = ?", [contact_id]).fetchone()
    return Seat(*row) if row else None


def succeeded(db: Database, contact_ids: Sequence[int]) -> set[int]:
    """Those of ``contact_ids`` who held no seat now, but whose last seat someone holds."""
    marks = ", ".join("?" * len(contact_ids))
    rows = db.execute(
        "SELECT t.contact_id FROM tenures t WHERE t.end IS NOT NULL"
        f" AND t.contact_id IN ({marks}) AND t.id = (SELECT max(m.id) FROM tenures m"
        " WHERE m.contact_id = t.contact_id) AND EXISTS (SELECT 1 FROM tenures o"
        " WHERE o.seat_id = t.seat_id AND o.end IS NULL)",
        list(contact_ids),
    )
    return {row[0] for row in rows} if contact_ids else set()


def tenures(db: Database, seat_id: int) -> list[Tenure]:
    """A seat's holders, first first: its chain."""
    rows = db.execute(
        "SELECT seat_id, contact_id, start, coalesce(end, ''), coalesce(source, '')"
        " FROM tenures WHERE seat_id = ? ORDER BY start, id",
        [seat_id],
    ).fetchall()
    return [Tenure(*row) for row in rows]


def listed_holders(db: Database) -> list[int]:
    """The contacts who hold a seat now and are listed and subscribed, in id order: the
    focal points a confirmation round writes to (the caller leaves out the suppressed)."""
    rows = db.execute(
        "SELECT DISTINCT t.contact_id FROM tenures t JOIN contacts c ON c.id = t.contact_id"
        " WHERE t.end IS NULL AND c.listed = 1 AND c.status = 'subscribed' ORDER BY 1"
    )
    return [row[0] for row in rows]


# -- stewards ------------------------------------------------------------------------


def set_steward(db: Database, organisation_id: int, contact_id: int, on: bool, at: str) -> bool:
    """Make (or stop) ``contact_id`` a steward of the organisation; whether it changed."""
    if on:
        cursor = db.execute(
            "INSERT OR IGNORE INTO stewards (organisation_id, contact_id, at) VALUES (?, ?, ?)",
            [organisation_id, contact_id, at],
        )
    else:
        cursor = db.execute(
            "DELETE FROM stewards WHERE organisation_id = ? AND contact_id = ?",
            [organisation_id, contact_id],
        )
    return cursor.rowcount > 0


def stewarded(db: Database, contact_id: int) -> list[int]:
    """The organisations ``contact_id`` is a steward of."""
    rows = db.execute(
        "SELECT organisation_id FROM stewards WHERE contact_id = ? ORDER BY organisation_id",
        [contact_id],
    )
    return [row[0] for row in rows]


def stewards(db: Database) -> list[tuple[int, int]]:
    """Every (organisation id, contact id) steward pair."""
    rows = db.execute("SELECT organisation_id, contact_id FROM stewards ORDER BY 1, 2")
    return [(int(org), int(contact)) for org, contact in rows]


def forget_address(db: Database, address: str, contact_id: int | None) -> None:
    """Purge step: the erased person's seat falls vacant today; their tenures stay, nameless."""
    if contact_id is None:
        return
    end_tenure(db, contact_id, now())
    db.execute("UPDATE tenures SET contact_id = NULL WHERE contact_id = ?", [contact_id])
    db.execute("DELETE FROM stewards WHERE contact_id = ?", [contact_id])
