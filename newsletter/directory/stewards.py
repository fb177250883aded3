"""Naming (or removing) an organisation's steward: a focal point whose personal link
shows the whole roster of the organisation and may propose changes for any seat in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.contacts import PREVIEW
from newsletter.errors import NewsletterError
from newsletter.schema import shown
from newsletter.store import Database, now, writing
from newsletter.store.contacts import (
    canonical_organisation,
    get_contact,
    organisations,
    record_change,
)
from newsletter.store.seats import set_steward


@dataclass(frozen=True)
class Stewardship:
    """What ``steward`` did: whose, of which organisation, on or off, and whether it changed."""

    email: str
    organisation: str
    steward: bool
    changed: bool

    def as_json(self) -> dict[str, object]:
        return {
            "email": self.email,
            "organisation": self.organisation,
            "steward": self.steward,
            "changed": self.changed,
        }


def steward(
    db: Database,
    email: str,
    organisation: str = "",
    remove: bool = False,
    actor: str | None = None,
) -> Stewardship:
    """Make the contact ``email`` a steward of ``organisation`` (default: their own), or
    stop it with ``remove``; one history row when it changes."""
    with writing(db):
        contact = get_contact(db, email)
        if contact is None or contact.id is None:
            raise NewsletterError(
                f"{shown(email, PREVIEW)}: no such contact. Add them first with: "
                "newsletter contacts add EMAIL --organisation NAME"
            )
        wanted = canonical_organisation(db, organisation) if organisation else contact.organisation
        if not wanted:
            raise NewsletterError(
                f"{contact.email}: has no organisation. Name one with --organisation NAME."
            )
        found = {org.name.casefold(): org.id for org in organisations(db)}
        org_id = found.get(wanted.casefold())
        if org_id is None:
            raise NewsletterError(
                f"--organisation {shown(wanted, PREVIEW)}: no such organisation. "
                "Use the name or acronym of one in the contacts (newsletter contacts list)."
            )
        at = now()
        changed = set_steward(db, org_id, contact.id, not remove, at)
        if changed:
            old, new = (wanted, None) if remove else (None, wanted)
            record_change(db, contact.id, "steward", old, new, "manual", actor, at)
    return Stewardship(contact.email, wanted, not remove, changed)
