"""Process returned mail: bounces retire addresses, complaints unsubscribe; the rest is noted.

Each message is read by ``newsletter.dsn`` and mapped to its recipient through
the original Message-ID in the delivery ledger (``newsletter.ledger``): that
says exactly which contact and which issue, even when the report names a
forwarding address. An address alone proves nothing: anyone can send three
lines with ``X-Failed-Recipients: someone@...`` and retire that contact. So a
report that quotes no Message-ID of ours is reported and left unapplied (and
not remembered, so a later run can apply it); only with ``match_address`` does
it fall back to the address it names, and then only for a contact the ledger
says we mailed, so backscatter for strangers changes nothing even then.

A hard bounce marks the contact bounced at once. A soft bounce is remembered
per contact and issue; the contact is marked bounced when the last
``SOFT_LIMIT`` issues they were sent, in send order, all bounced softly (an
issue that got through breaks the run). Every message's SHA-256 is kept, so a
mailbox processed twice changes nothing the second time; a message that cannot
be parsed, or is left unapplied, is not kept, so the next run looks at it again.
"""

from __future__ import annotations

import hashlib
import mailbox
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from newsletter import tokens
from newsletter.errors import NewsletterError
from newsletter.files import NotRegular, TooLarge, read_regular, what_is
from newsletter.returns.dsn import Bounce, classify
from newsletter.store import Database, bounces, contacts, ledger, writing

SOFT_LIMIT = 3
# A Maildir file over this is not a bounce (those are a few KB, a quoted message at
# most a few MB); it is skipped with one line instead of read whole into memory.
MAX_MESSAGE = 32 * 1024 * 1024
UNAPPLIED = "unapplied"  # Outcome.kind of a bounce tied to us by nothing but an address
MATCHED_BY_ADDRESS = "no Message-ID; matched by address"


@dataclass(frozen=True)
class Outcome:
    label: str  # where the message is in the mailbox: "message 3" or a Maildir file
    kind: str  # Bounce.kind, or "seen" when it was processed before
    text: str  # what happened, for one line of output
    changed: bool = False  # a contact's status changed

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


_HEADER_LINE = re.compile(rb"[!-9;-~]+:")  # a field name and its colon (RFC 5322 2.2)


def read_mailbox(path: Path) -> Iterator[tuple[str, bytes | str]]:
    """(label, raw bytes) for each message of an mbox file, a Maildir folder or one .eml;
    (label, why) instead of the bytes for a Maildir entry that is skipped."""
    try:
        if path.is_dir():
            yield from _maildir(path)
            return
        if not path.is_file():
            if path.exists():  # a FIFO would wait for a writer forever: never opened
                raise NewsletterError(
                    f"{path}: is {what_is(path.stat().st_mode)}, not a mailbox. "
                    "Pass an mbox file or Maildir."
                )
            raise NewsletterError(f"{path}: no such file or folder. Pass an mbox file or Maildir.")
        with path.open("rb") as fh:
            start = fh.read(5)
        if start == b"":
            return  # an emptied mailbox: nothing to do
        if start != b"From ":
            try:
                data = read_regular(path, MAX_MESSAGE)
            except TooLarge as exc:
                raise NewsletterError(
                    f"{path}: {exc.strerror}, so not one message. Pass an mbox file or Maildir."
                ) from None
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


def _maildir(path: Path) -> Iterator[tuple[str, bytes | str]]:
    """Each message of a Maildir, by its unique name (the file name before ':').

    Read as mailbox.Maildir lists them (new/ and cur/, dot files left out), but
    each file through read_regular: a FIFO or a device among them would hang the
    run, and a huge file would be read whole.
    """
    if not all((path / sub).is_dir() for sub in ("cur", "new")):
        raise NewsletterError(
            f"{path}: a folder but not a Maildir (no cur/ and new/). "
            "Pass a Maildir folder or an mbox file."
        )
    entries = sorted(
        (name.split(mailbox.Maildir.colon)[0], path / sub / name)
        for sub in ("new", "cur")
        for name in os.listdir(path / sub)
        if not name.startswith(".")
    )
    for key, file in entries:
        try:
            yield key, read_regular(file, MAX_MESSAGE)
        except (NotRegular, TooLarge) as exc:
            yield key, f"skipped: {file.parent.name}/{file.name} {exc.strerror}; move it out"


def process(
    db: Database, path: Path, actor: str | None = None, *, match_address: bool = False
) -> Iterator[Outcome]:
    """Process each message of the mailbox at ``path``, yielding what was done.

    ``match_address``: a bounce that quotes no Message-ID of ours is applied to
    the contact its address names; without it, such a bounce is only reported.
    """
    secret = _secret()
    for label, data in read_mailbox(path):
        if isinstance(data, str):
            yield Outcome(label, "skipped", data)
            continue
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
        if bounce.kind == "malformed":
            # Not marked as processed: a reader that learns to parse it, or the
            # editor, gets another look next run instead of losing it for good.
            why = f"skipped: malformed message ({bounce.reason}); not marked as processed"
            yield Outcome(label, bounce.kind, f"{why}, so the next run reads it again")
            continue
        with writing(db):  # the outcome and the "seen" mark land together
            text, changed, done = _apply(db, bounce, secret, actor, match_address)
            if done:
                bounces.mark_processed(db, digest, bounce.kind)
        yield Outcome(label, bounce.kind if done else UNAPPLIED, text, changed)


def _secret() -> bytes | None:
    try:
        return tokens.secret_from_env()
    except NewsletterError:
        return None  # only needed for unsubscribe requests, which are then reported


def _apply(
    db: Database, b: Bounce, secret: bytes | None, actor: str | None, match_address: bool
) -> tuple[str, bool, bool]:
    """Act on one classified message.

    (what happened, whether a status changed, whether the message is done with
    and is remembered as processed).
    """
    if b.kind == "auto-reply":
        return f"ignored: auto-reply ({b.reason})", False, True
    if b.kind == "delivered":
        return "ignored: a report of successful delivery", False, True
    if b.kind == "delayed":
        return f"ignored: delivery delayed, the server is still trying ({b.status})", False, True
    if b.kind == "other":
        return f"ignored: {b.reason}", False, True
    if b.kind == "unsubscribe":
        return (*_unsubscribe(db, b.reason, secret, actor), True)
    found = _recipient(db, b)
    if isinstance(found, str):
        return f"skipped: {b.kind} bounce {b.status}, {found}", False, True
    contact, issue, how = found
    assert contact.id is not None  # read from contacts.db, so stored
    if how == MATCHED_BY_ADDRESS and not match_address:
        return (
            f"left unapplied: {b.kind} bounce {b.status} for {contact.email} quotes no "
            "Message-ID of ours (an address alone proves nothing); if it is real, "
            "run again with --match-address",
            False,
            False,
        )
    if b.kind == "complaint":
        return (*_complained(db, contact, issue, f"{b.reason} ({issue}, {how})", actor), True)
    what = f"{b.kind} bounce {b.status} for {contact.email} (issue {issue}, {how})"
    if b.kind == "hard":
        return (*_mark(db, contact, issue, what, actor), True)
    bounces.add_soft(db, contact.id, issue, b.status)
    streak = bounces.soft_streak(db, contact.id)
    if streak >= SOFT_LIMIT:
        return (*_mark(db, contact, issue, f"{what}: {streak} soft bounces in a row", actor), True)
    return f"{what}: {streak} of {SOFT_LIMIT} soft bounces in a row", False, True


def _mark(
    db: Database, contact: contacts.Contact, issue: str, what: str, actor: str | None
) -> tuple[str, bool]:
    if contacts.mark_bounced(db, contact.email, source=f"bounce:{issue}", actor=actor):
        return f"{what}: marked bounced", True
    return f"{what}: already {contact.status}, unchanged", False


def _complained(
    db: Database, contact: contacts.Contact, issue: str, what: str, actor: str | None
) -> tuple[str, bool]:
    # Gmail and Yahoo want complaints under 0.3 %: one complaint stops all mail to them.
    assert contact.id is not None  # read from contacts.db, so stored
    what = f"complaint from {contact.email}: {what}"
    if contacts.unsubscribe(
        db, contact.id, source=f"complaint:{issue}", actor=actor or "recipient"
    ):
        return f"{what}: unsubscribed", True
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
            return contact, issue, MATCHED_BY_ADDRESS
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
