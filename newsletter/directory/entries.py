"""A focal point's entry as their own pages show it, a steward's roster, the members'
directory, and the forms' values read through the contact field rules.

The pages (``directory.web``) only read through here and write through
``directory.proposals``; every value a form sends is checked by the same rules
as an import or ``contacts edit`` (``contacts.fields.ROW``), never by rules of
its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from newsletter.contacts.fields import ROW
from newsletter.directory.vcard import Card
from newsletter.models import Contact
from newsletter.store import Database, reading
from newsletter.store.contacts import get_contact, organisations
from newsletter.store.proposals import (
    CORRECTABLE,
    NEW_FIELDS,
    SUCCESSOR_FIELDS,
    Proposal,
    confirmed_at,
    pending_about,
    pending_new,
)
from newsletter.store.seats import Seat, seat_of, seats, stewarded

# The fields of each form, as the contact rules name them, in the order shown.
CORRECTION = ("name", "job_title", "phone", "city", "email")
SUCCESSOR = {
    "successor_name": "name",
    "successor_email": "email",
    "successor_job_title": "job_title",
}
NEWCOMER = ("name", "job_title", "email", "phone", "city")
LABELS = {
    "name": "Name",
    "job_title": "Job title",
    "phone": "Phone",
    "city": "City",
    "email": "Email",
    "successor_name": "Successor's name",
    "successor_email": "Successor's email",
    "successor_job_title": "Successor's job title",
}
# A value longer than this is no name or phone: refused before the rules read it.
MAX_FORM_VALUE = 1000


@dataclass(frozen=True)
class Entry:
    """One person's entry: the contact, their seat and organisation, when they last
    confirmed it, and the changes about them waiting for review."""

    contact: Contact
    seat: Seat | None
    confirmed_at: str  # "" if never
    pending: tuple[Proposal, ...] = ()

    @property
    def id(self) -> int:
        assert self.contact.id is not None  # read from the store
        return self.contact.id

    @property
    def holds_role(self) -> bool:
        """Whether the person still holds the role: their pages work only then."""
        return self.contact.status != "left"

    @property
    def is_member(self) -> bool:
        """Whether the members' directory opens for them: in the role and listed, as the
        issue's copies give its link only to listed focal points (``send``)."""
        return self.holds_role and self.contact.listed

    def card(self, role: str = "") -> Card:
        c = self.contact
        return Card(
            self.id,
            c.name,
            c.email,
            c.organisation,
            c.job_title,
            role or (self.seat.role if self.seat else ""),
            c.phone,
            c.city,
            c.country,
            c.updated_at,
        )


@dataclass(frozen=True)
class Place:
    """A seat as a roster shows it: its holder's entry, or vacant."""

    seat: Seat
    holder: Entry | None
    proposed: tuple[Proposal, ...] = ()  # pending "new" people for the organisation


@dataclass(frozen=True)
class Roster:
    """An organisation's seats."""

    organisation_id: int
    name: str
    places: tuple[Place, ...] = field(default=())


def entry(db: Database, contact_id: int) -> Entry | None:
    """The entry of ``contact_id``, or None when there is no such contact (erased)."""
    contact = get_contact(db, contact_id)
    if contact is None:
        return None
    return Entry(
        contact,
        seat_of(db, contact_id),
        confirmed_at(db, contact_id),
        tuple(pending_about(db, contact_id)),
    )


def _rosters(db: Database, only: Sequence[int] | None) -> list[Roster]:
    names = {org.id: org.name for org in organisations(db)}
    by_org: dict[int, list[Place]] = {}
    for seat in seats(db):
        if only is not None and seat.organisation_id not in only:
            continue
        holder = entry(db, seat.holder) if seat.holder is not None else None
        waiting = (
            tuple(pending_new(db, names.get(seat.organisation_id, ""))) if holder is None else ()
        )
        by_org.setdefault(seat.organisation_id, []).append(Place(seat, holder, waiting))
    found = [Roster(org, names.get(org, ""), tuple(places)) for org, places in by_org.items()]
    return sorted(found, key=lambda r: r.name.casefold())


def rosters(db: Database, steward_id: int) -> list[Roster]:
    """The rosters of every organisation ``steward_id`` is a steward of."""
    with reading(db):
        return _rosters(db, stewarded(db, steward_id))


def members(db: Database) -> list[Roster]:
    """The whole directory for its members: every organisation's seats, by name."""
    with reading(db):
        return _rosters(db, None)


def may_steward(db: Database, steward_id: int, contact_id: int) -> bool:
    """Whether ``steward_id`` may propose changes for ``contact_id``: a holder of a seat
    in an organisation they are a steward of."""
    seat = seat_of(db, contact_id)
    return seat is not None and seat.organisation_id in stewarded(db, steward_id)


def vacant_seat(db: Database, steward_id: int, seat_id: int) -> tuple[Seat, str] | None:
    """The vacant seat ``seat_id`` with its organisation's name, if ``steward_id`` is a
    steward of that organisation; else None."""
    for roster in rosters(db, steward_id):
        for place in roster.places:
            if place.seat.id == seat_id and place.seat.vacant:
                return place.seat, roster.name
    return None


@dataclass(frozen=True)
class FormValues:
    """A form read through the contact rules: clean values, and errors by field."""

    values: dict[str, str]
    errors: dict[str, str]
    sent: dict[str, str]  # what was typed, to show again beside an error

    @property
    def ok(self) -> bool:
        return not self.errors


def read_form(
    form: Mapping[str, str], names: Sequence[str], rule_of: Mapping[str, str] | None = None
) -> FormValues:
    """The fields ``names`` of ``form``, each checked by the rule of the contact field
    ``rule_of[name]`` (itself by default). A missing field is an empty one."""
    rule_of = rule_of or {}
    sent = {name: str(form.get(name, "")) for name in names}
    long = {
        n: f"{LABELS.get(n, n)} is {len(v)} characters long; shorten it."
        for n, v in sent.items()
        if len(v) > MAX_FORM_VALUE
    }
    if long:
        return FormValues({}, long, {n: v[:MAX_FORM_VALUE] for n, v in sent.items()})
    raw = {rule_of.get(n, n): v for n, v in sent.items()}
    labels = {rule_of.get(n, n): LABELS.get(n, n) for n in names}
    checked = ROW.check(raw, names=labels)
    back = {rule_of.get(n, n): n for n in names}
    errors = {back[e.key]: e.message for e in checked.errors if e.key in back}
    values = {
        back[k]: str(v) for k, v in checked.values.items() if k in back and back[k] not in errors
    }
    return FormValues(values, errors, sent)


def correction(form: Mapping[str, str], contact: Contact) -> FormValues:
    """The correction form: its values that differ from ``contact``'s (or its errors)."""
    read = read_form(form, CORRECTION)
    if not read.ok:
        return read
    changed = {k: v for k, v in read.values.items() if getattr(contact, k) != v}
    assert set(changed) <= set(CORRECTABLE)
    return FormValues(changed, {}, read.sent)


def departure(form: Mapping[str, str]) -> FormValues:
    """The "I have left" form: the successor it names, if any (their email is then needed)."""
    read = read_form(form, tuple(SUCCESSOR), SUCCESSOR)
    if not any(v.strip() for v in read.sent.values()):
        return FormValues({}, {}, read.sent)  # no successor named: none needed
    errors = dict(read.errors)
    if not read.sent["successor_email"].strip():
        errors["successor_email"] = (
            "Successor's email is needed to name a successor. Add it, or clear the other fields."
        )
    values = {k: v for k, v in read.values.items() if v}
    assert set(values) <= set(SUCCESSOR_FIELDS)
    return FormValues(values if not errors else {}, errors, read.sent)


def newcomer(form: Mapping[str, str]) -> FormValues:
    """A steward's new person for a vacant seat: email needed, the rest optional."""
    read = read_form(form, NEWCOMER)
    values = {k: v for k, v in read.values.items() if v}
    assert set(values) <= set(NEW_FIELDS)
    return FormValues(values if read.ok else {}, read.errors, read.sent)
