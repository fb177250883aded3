"""The review queue: proposed changes to the directory, approved or rejected by an editor.

Every source (the self-service page, auto-replies, stewards, a sync) calls
``propose``; nothing is applied until ``approve``. An approval goes through the
same rules as a hand edit (``contacts.edit_contact`` / ``add_contact``), with
history rows whose source is ``proposal:ID``, one transaction per proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.contacts import PREVIEW, add_contact, edit_contact
from newsletter.errors import NewsletterError
from newsletter.models import Contact
from newsletter.schema import shown
from newsletter.store import Database, now, writing
from newsletter.store.contacts import default_actor, get_contact, mark_left, record_change
from newsletter.store.proposals import (
    Proposal,
    decide,
    get_proposals,
    pending_about,
    pending_new,
    pending_proposals,
    propose,
    set_confirmed,
)
from newsletter.store.seats import HOLDING, seat_of, succeed


@dataclass(frozen=True)
class Pending:
    """One pending proposal, with the lines of its diff."""

    proposal: Proposal
    who: str
    diff: list[str]

    def as_json(self) -> dict[str, object]:
        p = self.proposal
        return {
            "id": p.id,
            "kind": p.kind,
            "contact_id": p.contact_id,
            "who": self.who,
            "organisation": p.organisation,
            "source": p.source,
            "created_at": p.created_at,
            "diff": self.diff,
        }


def _diff(db: Database, proposal: Proposal) -> tuple[str, list[str]]:
    """Who the proposal is about, and its changes as "field: old → new"."""
    contact = get_contact(db, proposal.contact_id) if proposal.contact_id is not None else None
    if proposal.kind == "new" or contact is None:
        who = shown(proposal.fields.get("email", "(erased contact)"), PREVIEW, quote=False)
        return who, [f"{f}: (none) → {_value(v)}" for f, v in proposal.fields.items()]
    name = shown(contact.name, PREVIEW, quote=False)
    who = f"{name} <{contact.email}>" if contact.name else contact.email
    if proposal.kind == "confirm":
        return who, ["confirmed: entry is correct"]
    if proposal.kind == "left":
        return who, [f"status: {contact.status} → left", *_successor(proposal)]
    return who, [
        f"{field}: {_value(getattr(contact, field))} → {_value(value)}"
        for field, value in proposal.fields.items()
    ]


def _successor(proposal: Proposal) -> list[str]:
    """The diff line of the successor a departure names, if any."""
    f = proposal.fields
    if not f.get("successor_email"):
        return []
    about = ", ".join(
        shown(f[k], PREVIEW, quote=False)
        for k in ("successor_name", "successor_job_title")
        if f.get(k)
    )
    email = shown(f["successor_email"], PREVIEW, quote=False)
    return [f"successor: (none) → {email}" + (f" ({about})" if about else "")]


def _value(value: str) -> str:
    return shown(value, PREVIEW) if value else "(none)"


def review(db: Database) -> list[Pending]:
    """The pending proposals, oldest first, each with its diff."""
    found = []
    for proposal in pending_proposals(db):
        who, diff = _diff(db, proposal)
        found.append(Pending(proposal, who, diff))
    return found


def _pending(db: Database, ids: Sequence[int]) -> list[Proposal]:
    """The proposals ``ids``, all pending, or a NewsletterError naming the first that is not."""
    found = get_proposals(db, list(ids))
    for each in ids:
        if each not in found:
            raise NewsletterError(
                f"proposal {each}: no such proposal. List them with: newsletter directory review"
            )
        if found[each].state != "pending":
            raise NewsletterError(
                f"proposal {each}: already {found[each].state}; nothing was changed."
            )
    return [found[each] for each in dict.fromkeys(ids)]


def _apply(db: Database, proposal: Proposal, actor: str, at: str) -> None:
    source = f"proposal:{proposal.id}"
    contact = get_contact(db, proposal.contact_id) if proposal.contact_id is not None else None
    if proposal.kind != "new" and contact is None:
        raise NewsletterError(f"proposal {proposal.id}: its contact was erased. Reject it.")
    if proposal.kind == "new":
        raw: dict[str, object] = {**proposal.fields, "organisation": proposal.organisation}
        add_contact(db, raw, source, actor)
    elif contact is not None and proposal.kind == "correct":
        edit_contact(db, contact.email, dict(proposal.fields), source=source, actor=actor)
        if proposal.source == "self-service" and contact.id is not None:
            # They read their whole entry to correct it: as good as "This is correct".
            old = set_confirmed(db, contact.id, at)
            record_change(db, contact.id, "confirmed_at", old, at, source, actor, at)
    elif contact is not None and contact.id is not None and proposal.kind == "confirm":
        old = set_confirmed(db, contact.id, at)
        record_change(db, contact.id, "confirmed_at", old, at, source, actor, at)
    elif contact is not None and contact.id is not None and proposal.kind == "left":
        seat = seat_of(db, contact.id)  # before leaving, which vacates it
        if contact.status != "left":
            mark_left(db, contact.id, source, actor, at)
        if proposal.fields.get("successor_email"):
            successor = _successor_contact(db, proposal, source, actor)
            if seat is not None and successor.id is not None:
                _may_take_seat(successor, contact.organisation)
                succeed(db, seat.id, successor.id, at, source)


def _may_take_seat(successor: Contact, organisation: str) -> None:
    """A NewsletterError unless ``successor`` may hold a seat of ``organisation``: a
    seat holder is a listed member of it who has not left (``store.seats.settle``)."""
    if successor.organisation.casefold() != organisation.casefold():
        why = f"a contact of {shown(successor.organisation or '(none)', PREVIEW, quote=False)}"
        why += f", not {shown(organisation, PREVIEW, quote=False)}"
    elif not successor.listed:
        why = "not listed in the directory"
    elif successor.status not in HOLDING:
        why = successor.status
    else:
        return
    raise NewsletterError(
        f"{successor.email}: {why}, so they cannot take the seat. Change them first with: "
        f"newsletter contacts edit {successor.email}"
    )


def _successor_contact(db: Database, proposal: Proposal, source: str, actor: str) -> Contact:
    """The successor a departure names: the contact with that address, or a new one,
    subscribed, in the organisation of the person who left."""
    f = proposal.fields
    found = get_contact(db, f["successor_email"])
    if found is not None:
        return found
    raw: dict[str, object] = {
        "email": f["successor_email"],
        "name": f.get("successor_name", ""),
        "job_title": f.get("successor_job_title", ""),
        "organisation": proposal.organisation,
    }
    return add_contact(db, raw, source, actor)


def approve(db: Database, ids: Sequence[int], actor: str | None = None) -> list[Proposal]:
    """Apply the proposals, each in its own transaction; the ones applied.

    Every id is checked before the first is applied, so a wrong id changes nothing.
    """
    actor = actor or default_actor()
    with writing(db):
        chosen = _pending(db, ids)
    for n, proposal in enumerate(chosen):
        try:
            with writing(db):
                at = now()
                _apply(db, proposal, actor, at)
                decide(db, proposal.id, "approved", "", actor, at)
        except NewsletterError as exc:
            done = ", ".join(f"#{p.id}" for p in chosen[:n])
            raise NewsletterError(
                f"proposal {proposal.id}: not applied, still pending"
                + (f" ({done} approved)" if done else "")
                + f": {exc.message}"
            ) from None
    return chosen


def reject(
    db: Database, ids: Sequence[int], reason: str, actor: str | None = None
) -> list[Proposal]:
    """Drop the proposals with a reason, in one transaction; the ones rejected."""
    actor = actor or default_actor()
    with writing(db):
        chosen = _pending(db, ids)
        at = now()
        for proposal in chosen:
            decide(db, proposal.id, "rejected", reason, actor, at)
    return chosen


# -- what a focal point's own link does (directory.web) ------------------------------


def confirm(
    db: Database, contact_id: int, source: str = "entry-link", actor: str = "recipient"
) -> str:
    """Record that the contact says their entry is correct, with its history row, in one
    transaction; when. It changes no data, so it needs no review."""
    with writing(db):
        at = now()
        old = set_confirmed(db, contact_id, at)
        record_change(db, contact_id, "confirmed_at", old, at, source, actor, at)
    return at


def propose_once(
    db: Database,
    kind: str,
    source: str,
    contact_id: int | None = None,
    organisation: str = "",
    fields: dict[str, str] | None = None,
    proposed_by: int | None = None,
) -> tuple[int, bool]:
    """``propose``, unless the same change (kind, contact, fields) is already pending:
    (its id, whether it is new). A form sent twice queues one proposal."""
    fields = dict(fields or {})
    with writing(db):
        waiting = (
            pending_about(db, contact_id)
            if contact_id is not None
            else pending_new(db, organisation)
        )
        for each in waiting:
            if each.kind == kind and each.fields == fields:
                return each.id, False
        return propose(db, kind, source, contact_id, organisation, fields, proposed_by), True
