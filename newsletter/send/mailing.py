"""The short mailings a stage makes (the directory's round and welcome, a call for
contributions), made with these helpers and sent by ``send``'s own run.

None is an issue, and none has a send loop of its own: each is a
``preflight.Mailing`` with its own ledger key (``round-YYYY-MM-DD``, ``welcome``,
``call-ID``), its own audience and its own small message, sent by
``delivery.run`` under ``lock.hold``: the same senders, throttle, retries, lock and
exactly-once ledger as an issue. Whoever the ledger shows already has it (a row
via this sender, or a message that went via any sender that delivers) is never in
the audience again. It imports ``send``'s modules, not the package, which
imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.build.render import small_mail
from newsletter.config import Settings
from newsletter.contacts.checks import international
from newsletter.issue import load_issue
from newsletter.models import Contact, Issue
from newsletter.send.delivery import Tally, run
from newsletter.send.lock import hold
from newsletter.send.preflight import Mailing, Prepared, prepare_mailing
from newsletter.store import Database, ledger
from newsletter.store.contacts import address_hash, get_contact, suppressed_hashes

# Where a mailing's files go (the outbox sender's .eml files): mailings/ID/.
FOLDER = "mailings"


@dataclass(frozen=True)
class Ready:
    """A mailing ready to send: its key, who this run is for, and the prepared send."""

    id: str
    recipients: tuple[Contact, ...]  # those the ledger does not show with it yet
    prep: Prepared
    # What the stage records as the send starts, under its lock and before the first
    # message (a call's deadline): never for a dry run, a test copy or a "no".
    start: Callable[[Database], None] | None = None


def sender_name(settings: Settings, sender: str | None) -> str:
    """The sender a run uses, as the ledger keys its rows."""
    return sender or settings.send.sender


def pending(db: Database, mailing_id: str, sender: str, candidates: Sequence[int]) -> list[Contact]:
    """Those of ``candidates`` to mail now: subscribed, not suppressed, and without the
    mailing yet (``ledger.addressed``)."""
    done = ledger.addressed(db, mailing_id, sender)
    hashes = suppressed_hashes(db)
    found = []
    for contact_id in candidates:
        contact = get_contact(db, contact_id) if contact_id not in done else None
        if contact and contact.status == "subscribed" and address_hash(contact.email) not in hashes:
            found.append(contact)
    return found


def entry_fields(contact: Contact) -> tuple[tuple[str, str], ...]:
    """The markers of a recipient's entry as it stands; a phone in international format
    where it can be read."""
    phone = international(contact.phone, contact.country) or contact.phone if contact.phone else ""
    return (
        ("job_title", contact.job_title),
        ("organisation", contact.organisation),
        ("phone", phone),
        ("city", contact.city),
    )


def latest_issue(settings: Settings, db: Database) -> Issue | None:
    """The issue whose real send finished last; else the one built last; None for none."""
    issues = settings.root / "issues"
    found = sorted(issues.iterdir()) if issues.is_dir() else []
    built = [f for f in found if (f / "build" / "email.html").is_file()]
    if not built:
        return None
    sent = [(at, f.name, f) for f in built if (at := ledger.send_finished(db, f.name))]
    if sent:
        folder = max(sent)[2]
    else:
        folder = max(built, key=lambda f: ((f / "build" / "email.html").stat().st_mtime, f.name))
    issue, _ = load_issue(settings, folder)
    return issue


def make(
    settings: Settings,
    mailing_id: str,
    subject: str,
    template: str,
    ctx: dict[str, Any],
    recipients: Sequence[Contact],
    templates_from: Path | None,
) -> Mailing:
    """A mailing of ``template`` (.txt.j2, .mjml.j2) for ``recipients``, with their entries."""
    folder = settings.root / FOLDER / mailing_id
    text, html = small_mail(settings, templates_from or folder, template, ctx)
    audience = tuple(c.id for c in recipients if c.id is not None)
    fields = {c.id: entry_fields(c) for c in recipients if c.id is not None}
    return Mailing(mailing_id, folder, subject, text, html, audience, fields)


def ready(
    settings: Settings,
    mailing: Mailing,
    recipients: Sequence[Contact],
    sender: str | None,
    options: dict[str, str] | None,
    start: Callable[[Database], None] | None = None,
    **overrides: Any,
) -> Ready:
    prep = prepare_mailing(settings, mailing, sender, options, **overrides)
    return Ready(mailing.id, tuple(recipients), prep, start)


def left_queued(db: Database, mailing: Ready) -> int:
    """Messages an earlier run of the mailing left queued via this sender (it stopped)."""
    return ledger.count(db, mailing.id, mailing.prep.spec.name, "queued")


def deliver(
    db: Database,
    mailing: Ready,
    progress: Callable[[int, int], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Tally:
    """Send the mailing under its send lock, as ``send`` sends an issue: resumable, and
    never twice to anyone."""
    with hold(db, mailing.prep) as held:
        if held.recovered and notice:
            notice(
                f"{held.recovered:,} message(s) were being handed over when the last run "
                "stopped; they are now uncertain (see newsletter status "
                f"{mailing.id})."
            )
        if mailing.start:
            mailing.start(db)
        return run(db, mailing.prep, progress=progress, notice=notice, held=held)
