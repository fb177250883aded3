"""Hand edits from the command line: add, edit, remove and purge one contact.

Values go through the same validation as an import (``imports.clean_row``).
An edit may clear a field (an empty value), but it re-subscribes someone who
unsubscribed, bounced or left only when told so explicitly (``resubscribe``),
because that needs the person's renewed consent.
"""

from __future__ import annotations

from newsletter.contacts.fields import (
    CONTACT_TEXT,
    PREVIEW,
    RowError,
    clean_row,
    normalise_email,
)
from newsletter.errors import BadUsage, NewsletterError
from newsletter.models import Contact
from newsletter.schema import shown
from newsletter.store import Database, writing
from newsletter.store.contacts import (
    HistoryEntry,
    canonical_organisation,
    change_contact,
    create_contact,
    get_contact,
    history,
    is_suppressed,
    mark_left,
    unsubscribe,
)
from newsletter.store.purge import PurgeResult, purge

OPTION = {name: f"--{name.replace('_', '-')}" for name in CONTACT_TEXT + ("listed", "status")}
OPTION["email"] = "--email"
OPTION["organisation"] = "--org"


def _clean(raw: dict[str, object]) -> dict[str, object]:
    try:
        return clean_row(raw, OPTION)
    except RowError as exc:
        # A bad address is already quoted at the start of the message.
        where = (
            "" if "valid email address" in str(exc) else f"{shown(raw.get('email', ''), PREVIEW)}: "
        )
        raise NewsletterError(f"{where}{exc}") from None


def existing_contact(db: Database, email: str) -> Contact:
    """The stored contact, or a NewsletterError saying it is not there."""
    contact = get_contact(db, email.strip())
    if contact is None:
        raise NewsletterError(
            f"{shown(email, PREVIEW)}: not in contacts.db. "
            "Check the spelling with: newsletter contacts list"
        )
    return contact


def add_contact(
    db: Database,
    raw: dict[str, object],
    source: str = "manual",
    actor: str | None = None,
) -> Contact:
    """Add one contact; refuses an address that exists or was erased on request."""
    values = _clean(raw)
    email = str(values["email"])
    with writing(db):
        if get_contact(db, email):
            raise NewsletterError(
                f"{email}: already in contacts.db. Change it with: newsletter contacts edit {email}"
            )
        if is_suppressed(db, email):
            raise NewsletterError(
                f"{email}: erased on request and on the suppression list; it is never added again."
            )
        if values.get("organisation"):
            values["organisation"] = canonical_organisation(db, str(values["organisation"]))
        if values.get("status") not in (None, "subscribed"):
            raise NewsletterError(f"{email}: a new contact starts subscribed. Drop --status.")
        fields = {k: v for k, v in values.items() if k in CONTACT_TEXT + ("listed",)}
        return create_contact(db, Contact(email=email, **fields), source, actor)  # type: ignore[arg-type]  # each value was checked for its field by contacts.fields.ROW


def edit_contact(
    db: Database,
    email: str,
    raw: dict[str, object],
    resubscribe: bool = False,
    source: str = "manual",
    actor: str | None = None,
) -> tuple[Contact, dict[str, object]]:
    """Change the given fields; returns the stored contact and what changed."""
    if resubscribe and raw.get("status") not in (None, "subscribed"):
        # The command line contradicts itself: said before the database is read.
        raise BadUsage(f"{email}: --resubscribe and --status disagree.")
    with writing(db):
        current = existing_contact(db, email)
        values = _clean({**raw, "email": raw.get("email") or current.email})
        editable = CONTACT_TEXT + ("listed", "status")
        changes = {k: v for k, v in values.items() if k in editable and getattr(current, k) != v}
        if values["email"] != current.email:
            new = str(values["email"])
            if get_contact(db, new):
                raise NewsletterError(f"{new}: another contact already has this address.")
            if is_suppressed(db, new):
                raise NewsletterError(f"{new}: erased on request; it cannot be used again.")
            changes["email"] = new
        if changes.get("organisation"):
            changes["organisation"] = canonical_organisation(db, str(changes["organisation"]))
        if resubscribe:
            if current.status != "subscribed":
                changes["status"] = "subscribed"
        elif changes.get("status") == "subscribed":
            raise NewsletterError(
                f"{current.email} is {current.status}; an edit does not re-subscribe by itself. "
                "If they asked to be mailed again, add --resubscribe."
            )
        return change_contact(db, current, changes, source, actor), changes


def remove_contact(
    db: Database, email: str, source: str = "manual", actor: str | None = None
) -> bool:
    """Mark a contact left, keeping the record; False when already left."""
    with writing(db):
        contact = existing_contact(db, email)
        return mark_left(db, contact.id or 0, source, actor)


def purge_contact(
    db: Database, email: str, source: str = "manual", actor: str | None = None
) -> PurgeResult:
    """Erase everything about an address except its suppression hash."""
    try:
        address = normalise_email(email)
    except ValueError:
        address = email.strip().lower()  # still suppress exactly what was asked
    if not address:
        raise NewsletterError("no address given. Pass the email address to erase.")
    return purge(db, address, source, actor)


def unsubscribe_contact(
    db: Database, email: str, source: str = "manual", actor: str | None = None
) -> tuple[Contact, bool]:
    """Mark a contact unsubscribed; (the contact, whether that changed anything)."""
    with writing(db):
        contact = existing_contact(db, email)
        return contact, unsubscribe(db, contact.id or 0, source, actor)


def contact_history(db: Database, email: str) -> tuple[Contact, list[HistoryEntry]]:
    """A contact and every change to it, oldest first."""
    contact = existing_contact(db, email)
    return contact, history(db, contact.id or 0)
