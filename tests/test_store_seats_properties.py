"""store.seats by property: whatever the contact writes do (adds, imports, edits, moves,
unlisting, departures, successors, purges), the seats stay consistent.

The invariant: every contact who holds the role (listed, with an organisation, and
subscribed, unsubscribed or bounced) holds exactly one seat, of their own
organisation; nobody else holds any; no seat has two holders.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from newsletter.contacts import add_contact, edit_contact, purge_contact
from newsletter.directory import approve, propose
from newsletter.errors import NewsletterError
from newsletter.models import Contact
from newsletter.store import now, open_db, writing
from newsletter.store.contacts import create_contacts, get_contact, mark_left
from newsletter.store.seats import HOLDING

ORGS = st.sampled_from(["WHO", "ILO", "UNDP"])
PEOPLE = st.integers(0, 7)
STATUSES = st.sampled_from(["subscribed", "unsubscribed", "bounced"])


def email(n: int) -> str:
    return f"p{n}@example.org"


class Seats(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.db = open_db(self.folder / "contacts.db")
        self.erased: set[int] = set()  # on the suppression list: never added again

    def teardown(self) -> None:
        self.db.conn.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def contact(self, n: int) -> Contact | None:
        return get_contact(self.db, email(n))

    @rule(n=PEOPLE, org=ORGS, listed=st.booleans())
    def add(self, n: int, org: str, listed: bool) -> None:
        if self.contact(n) is None and n not in self.erased:
            add_contact(self.db, {"email": email(n), "organisation": org, "listed": listed})

    @rule(ns=st.sets(PEOPLE, max_size=4), org=ORGS)
    def import_new(self, ns: set[int], org: str) -> None:
        new = [
            Contact(email=email(n), organisation=org)
            for n in sorted(ns - self.erased)
            if not self.contact(n)
        ]
        with writing(self.db):
            create_contacts(self.db, new, "import", "t", now())

    @rule(n=PEOPLE, org=ORGS)
    def move(self, n: int, org: str) -> None:
        if self.contact(n) is not None:
            edit_contact(self.db, email(n), {"organisation": org})

    @rule(n=PEOPLE, listed=st.booleans())
    def list_or_unlist(self, n: int, listed: bool) -> None:
        if self.contact(n) is not None:
            edit_contact(self.db, email(n), {"listed": listed})

    @rule(n=PEOPLE, status=STATUSES)
    def set_status(self, n: int, status: str) -> None:
        if self.contact(n) is not None:
            edit_contact(self.db, email(n), {"status": status}, status == "subscribed")

    @rule(n=PEOPLE)
    def leave(self, n: int) -> None:
        found = self.contact(n)
        if found is not None:
            mark_left(self.db, found.id or 0)

    @rule(n=PEOPLE, successor=PEOPLE)
    def leave_naming_a_successor(self, n: int, successor: int) -> None:
        found = self.contact(n)
        if found is None or found.id is None:
            return
        fields = {"successor_email": email(successor)}
        pid = propose(self.db, "left", "self-service", found.id, fields=fields)
        try:
            approve(self.db, [pid])
        except NewsletterError:
            pass  # refused as a whole (a successor who cannot take the seat)

    @rule(n=PEOPLE)
    def purge(self, n: int) -> None:
        purge_contact(self.db, email(n))
        self.erased.add(n)

    @invariant()
    def seats_are_consistent(self) -> None:
        holding = ", ".join(f"'{s}'" for s in HOLDING)
        rows = self.db.execute(
            "SELECT c.id, c.organisation_id, c.listed = 1 AND c.organisation_id IS NOT NULL"
            f" AND c.status IN ({holding}) FROM contacts c"
        ).fetchall()
        for contact_id, org_id, holds in rows:
            held = self.db.execute(
                "SELECT s.organisation_id FROM tenures t JOIN seats s ON s.id = t.seat_id"
                " WHERE t.contact_id = ? AND t.end IS NULL",
                [contact_id],
            ).fetchall()
            assert held == ([(org_id,)] if holds else []), (contact_id, org_id, holds, held)
        doubled = self.db.execute(
            "SELECT seat_id FROM tenures WHERE end IS NULL GROUP BY seat_id HAVING count(*) > 1"
        ).fetchall()
        assert doubled == []
        orphans = self.db.execute(
            "SELECT t.id FROM tenures t LEFT JOIN contacts c ON c.id = t.contact_id"
            " WHERE t.end IS NULL AND c.id IS NULL"
        ).fetchall()
        assert orphans == []


Seats.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_seats_stay_consistent = Seats.TestCase
