"""Process returned mail: bounces retire addresses, auto-replies are ignored.

Each message is read by ``newsletter.dsn`` and mapped to its recipient through
the original Message-ID in the delivery ledger (``newsletter.ledger``): that
says exactly which contact and which issue, even when the report names a
forwarding address. Only a report that quotes no Message-ID at all falls back
to the address it names, and then only for a contact the ledger says we mailed,
so backscatter for strangers or for mail the tool never sent changes nothing.

A hard bounce marks the contact bounced at once. A soft bounce is remembered
per contact and issue; the contact is marked bounced when the last
``SOFT_LIMIT`` issues they were sent, in send order, all bounced softly (an
issue that got through breaks the run). Every message's SHA-256 is kept, so a
mailbox processed twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from newsletter import tokens
from newsletter.errors import NewsletterError
from newsletter.returns.dsn import Bounce, classify
from newsletter.store import Database, bounces, contacts, ledger, writing

SOFT_LIMIT = 3


@dataclass(frozen=True)
class Outcome:
    label: str  # where the message is in the mailbox: "message 3" or a Maildir file
    kind: str  # Bounce.kind, or "seen" when it was processed before
    text: str  # what happened, for one line of output
    changed: bool = False  # a contact's status changed

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


_HEADER_LINE = re.compile(rb"[!-9;-~]+:")  # a field name and its colon (RFC 5322 2.2)


def read_mailbox(path: Path) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for each message of an mbox file, a Maildir folder or one .eml."""
    try:
        if path.is_dir():
            yield from _maildir(path)
            return
        if not path.is_file():
            raise NewsletterError(f"{path}: no such file or folder. Pass an mbox file or Maildir.")
        with path.open("rb") as fh:
            start = fh.read(5)
        if start == b"":
            return  # an emptied mailbox: nothing to do
        if start != b"From ":
            data = path.read_bytes()
            if not _HEADER_LINE.match(data):
                raise NewsletterError(
                    f"{path}: not an mbox file (it does not start with a 'From ' line) nor "
                    "one message. Export the mailbox as mbox, or pass a Maildir folder."
                )
            yield path.name, data  # one saved message (.eml)
            return
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            for n, key in enumerate(box.keys(), 1):
                yield f"message {n}", box.get_bytes(key)
        finally:
            box.close()
    except OSError as exc:  # permissions, a file removed mid-run: say which and stop
        where = exc.filename or path
        raise NewsletterError(
            f"{where}: cannot read it ({exc.strerror or exc}). Check that it exists and that "
            "you may read it; messages before it are done, and a second run skips them."
        ) from None


def _maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    if not all((path / sub).is_dir() for sub in ("cur", "new")):
        raise NewsletterError(
            f"{path}: a folder but not a Maildir (no cur/ and new/). "
            "Pass a Maildir folder or an mbox file."
        )
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        yield key, box.get_bytes(key)


def process(db: Database, path: Path, actor: str | None = None) -> Iterator[Outcome]:
    """Process each message of the mailbox at ``path``, yielding what was done."""
    secret = _secret()
    for label, data in read_mailbox(path):
        digest = hashlib.sha256(data).hexdigest()
        if bounces.processed(db, digest):
            yield Outcome(label, "seen", "already processed; nothing to do")
            continue
        bounce = classify(data)
        if bounce.kind == "unsubscribe" and secret is None:
            # Not marked as processed: it is acted on once the secret is set.
            why = "skipped: an unsubscribe request, but NEWSLETTER_SECRET is not set"
            yield Outcome(label, bounce.kind, f"{why}; run again with it")
            continue
        with writing(db):  # the outcome and the "seen" mark land together
            text, changed = _apply(db, bounce, secret, actor)
            bounces.mark_processed(db, digest, bounce.kind)
        yield Outcome(label, bounce.kind, text, changed)


def _secret() -> bytes | None:
    try:
        return tokens.secret_from_env()
    except NewsletterError:
        return None  # only needed for unsubscribe requests, which are then reported


def _apply(db: Database, b: Bounce, secret: bytes | None, actor: str | None) -> tuple[str, bool]:
    """Act on one classified message: (what happened, whether a status changed)."""
    if b.kind == "malformed":
        return f"skipped: malformed message ({b.reason})", False
    if b.kind == "auto-reply":
        return f"ignored: auto-reply ({b.reason})", False
    if b.kind == "delivered":
        return "ignored: a report of successful delivery", False
    if b.kind == "delayed":
        return f"ignored: delivery delayed, the server is still trying ({b.status})", False
    if b.kind == "other":
        return f"ignored: {b.reason}", False
    if b.kind == "unsubscribe":
        return _unsubscribe(db, b.reason, secret, actor)
    found = _recipient(db, b)
    if isinstance(found, str):
        return f"skipped: {b.kind} bounce {b.status}, {found}", False
    contact, issue, how = found
    assert contact.id is not None  # read from contacts.db, so stored
    what = f"{b.kind} bounce {b.status} for {contact.email} (issue {issue}, {how})"
    if b.kind == "hard":
        return _mark(db, contact, issue, what, actor)
    bounces.add_soft(db, contact.id, issue, b.status)
    streak = bounces.soft_streak(db, contact.id)
    if streak >= SOFT_LIMIT:
        return _mark(db, contact, issue, f"{what}: {streak} soft bounces in a row", actor)
    return f"{what}: {streak} of {SOFT_LIMIT} soft bounces in a row", False


def _mark(
    db: Database, contact: contacts.Contact, issue: str, what: str, actor: str | None
) -> tuple[str, bool]:
    if contacts.mark_bounced(db, contact.email, source=f"bounce:{issue}", actor=actor):
        return f"{what}: marked bounced", True
    return f"{what}: already {contact.status}, unchanged", False


def _recipient(db: Database, b: Bounce) -> tuple[contacts.Contact, str, str] | str:
    """(contact, issue, how it was matched), or why no contact could be found."""
    for message_id in b.message_ids:
        delivery = ledger.find_message(db, message_id)
        if delivery is not None:
            contact = contacts.get_contact(db, delivery.contact_id)
            if contact is None:
                return f"contact {delivery.contact_id} no longer exists"
            return contact, delivery.issue, "by Message-ID"
    if b.message_ids:
        return f"Message-ID {b.message_ids[0]} is not in the delivery ledger (not our mail)"
    for address in b.recipients:
        contact = contacts.get_contact(db, address)
        if contact is None:
            continue
        assert contact.id is not None  # read from contacts.db, so stored
        issue = ledger.latest_issue(db, contact.id)
        if issue:  # no Message-ID: the latest issue they were sent is the likely one
            return contact, issue, "no Message-ID; matched by address"
    named = ", ".join(b.recipients) or "no address"
    return f"no Message-ID, and {named} is not a contact the ledger says we mailed"


def _unsubscribe(
    db: Database, token: str, secret: bytes | None, actor: str | None
) -> tuple[str, bool]:
    assert secret is not None  # process() holds requests back without it
    found = tokens.read_token(secret, token)
    if found is None:
        return "ignored: an unsubscribe request with an invalid token", False
    contact = contacts.get_contact(db, found[0])
    if contact is None:
        return f"unsubscribe request (issue {found[1]}): contact {found[0]} no longer exists", False
    what = f"unsubscribe request for {contact.email} (issue {found[1]})"
    source = f"unsubscribe-mail:{found[1]}"
    assert contact.id is not None  # read from contacts.db, so stored
    if contacts.unsubscribe(db, contact.id, source=source, actor=actor or "recipient"):
        return f"{what}: unsubscribed", True
    return f"{what}: already {contact.status}, unchanged", False
