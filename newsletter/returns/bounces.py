"""Process returned mail: bounces retire addresses, complaints unsubscribe; the rest is noted.

Each message is read by ``returns.dsn`` and tied to the delivery it is about,
in this order:

1. **by signed return path**: with ``return_path = "bounces+{token}@..."`` every
   message went out with its own envelope sender, whose token (``tokens``)
   names the contact and the issue. It is looked for where the returned
   message was delivered (``Bounce.envelope_to``), then anywhere the report
   quotes our return path (an ARF report's Original-Mail-From, a quoted
   Return-Path). A token that does not verify (forged, damaged, or signed
   under another secret) is reported and left unapplied, unless the report
   quotes a Message-ID of ours (``BY_MESSAGE_ID_UNVERIFIED``: after the secret
   is rotated, the bounces of issues sent before still apply).
2. **by Message-ID**: the original Message-ID in the delivery ledger, which
   names the contact and the issue even when the report names a forwarding
   address.
3. An address alone proves nothing: anyone can send three lines with
   ``X-Failed-Recipients: someone@...`` and retire that contact. So such a
   report is reported and left unapplied (and not remembered, so a later run
   can apply it); only with ``match_address`` does it fall back to the address
   it names, and then only for a contact the ledger says we mailed, so
   backscatter for strangers changes nothing even then.

A complaint (a feedback report) unsubscribes the contact and puts the address
on the suppression list, so no import, sync or later edit ever mails them again.

An auto-reply that says its sender left (a departure notice, ``Bounce.cause``
"departure") is reported with the successor it names, and not applied: nothing
changes the directory from it yet, so the editor checks the entry, and it is
not remembered as processed (each run reports it again) until it can become a
proposed change for review. One tied to us by nothing but its sender's address
says so; one from someone who is not a contact is ignored.

A hard bounce marks the contact bounced at once. A soft bounce is remembered
per contact and issue; the contact is marked bounced when the last
``SOFT_LIMIT`` issues they were sent, in send order, all bounced softly (an
issue that got through breaks the run). Every message's SHA-256 is kept, so a
mailbox processed twice changes nothing the second time; a message that cannot
be parsed, or is left unapplied, is not kept, so the next run looks at it again.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter import tokens
from newsletter.errors import NewsletterError
from newsletter.files import NotRegular, TooLarge, read_regular, what_is
from newsletter.models import Contact, plural
from newsletter.returns.dsn import Bounce, classify
from newsletter.store import Database, bounces, contacts, ledger, proposals, writing

SOFT_LIMIT = 3
DEPARTURE = "departure"  # the Bounce.cause of an auto-reply that says its sender left
# A Maildir file over this is not a bounce (those are a few KB, a quoted message at
# most a few MB); it is skipped with one line instead of read whole into memory.
MAX_MESSAGE = 32 * 1024 * 1024
# What each kind of message is called in the output and its summary, in this order.
CATEGORIES = {
    "hard": "hard bounce",
    "soft": "soft bounce",
    "complaint": "complaint",
    DEPARTURE: "departure notice",
    "auto-reply": "auto-reply",
    "delayed": "delivery delay",
    "delivered": "not a bounce",
    "other": "not a bounce",
    "malformed": "unreadable",
    "unsubscribe": "unsubscribe request",
}
UNREADABLE = CATEGORIES["malformed"]
SEEN = "seen"  # Outcome.category of a message processed before
BY_TOKEN = "by signed return path"
BY_MESSAGE_ID = "by Message-ID"
# A token that does not verify beside a Message-ID the ledger knows: most likely a
# token signed before NEWSLETTER_SECRET was rotated. The Message-ID (64 random
# bits) proves it is our mail as it does with no token at all; whoever could read
# it could read the genuine token too, so trusting it gives a forger nothing.
BY_MESSAGE_ID_UNVERIFIED = "by Message-ID; its signed return path does not verify"
BY_ADDRESS = "by address only, no Message-ID or signed return path"


@dataclass(frozen=True)
class Outcome:
    label: str  # where the message is in the mailbox: "message 3" or a Maildir file
    category: str  # a CATEGORIES value, or SEEN
    text: str  # what happened, for one line of output
    changed: bool = False  # a contact's status changed
    unapplied: bool = False  # tied to us by nothing it proves: looked at again next run
    kind: str = ""  # Bounce.kind as the reader gave it; "" when the message was not read

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


@dataclass(frozen=True)
class Match:
    """The delivery a returned message is about, and how that was found."""

    contact: Contact
    issue: str
    how: str  # BY_TOKEN, BY_MESSAGE_ID or BY_ADDRESS

    def __str__(self) -> str:
        return f"{self.contact.email} (issue {self.issue}, {self.how})"


@dataclass(frozen=True)
class Miss:
    """Why no delivery was found; ``hold``: leave it unapplied, to be looked at again."""

    why: str
    hold: bool = False


_HEADER_LINE = re.compile(rb"[!-9;-~]+:")  # a field name and its colon (RFC 5322 2.2)


def read_mailbox(path: Path) -> Iterator[tuple[str, bytes | str]]:
    """(label, raw bytes) for each message of an mbox file, a Maildir folder or one .eml;
    (label, what it is) instead of the bytes for a Maildir entry that cannot be read."""
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
            yield key, f"{file.parent.name}/{file.name} {exc.strerror}"


_PLURALS = {"auto-reply": "auto-replies", "not a bounce": "not bounces", UNREADABLE: UNREADABLE}


@dataclass
class Summary:
    """The closing line of a run: each category counted, in CATEGORIES order."""

    counts: Counter[str] = field(default_factory=Counter)
    unapplied: int = 0
    changed: int = 0

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.category] += 1
        self.unapplied += outcome.unapplied
        self.changed += outcome.changed

    def __str__(self) -> str:
        parts = []
        for name in dict.fromkeys(CATEGORIES.values()):
            if n := self.counts[name]:
                parts.append(f"{n} {name if n == 1 else _PLURALS.get(name, name + 's')}")
        if self.unapplied:
            parts.append(f"{self.unapplied} left unapplied")
        if self.counts[SEEN]:
            parts.append(f"{self.counts[SEEN]} already processed")
        total = sum(self.counts.values())
        return (
            f"{plural(total, 'message')}: {', '.join(parts) or 'none'}; "
            f"{plural(self.changed, 'contact')} changed."
        )


def process(
    db: Database,
    path: Path,
    actor: str | None = None,
    *,
    match_address: bool = False,
    return_path: str = "",
) -> Iterator[Outcome]:
    """Process each message of the mailbox at ``path``, yielding what was done.

    ``match_address``: a bounce tied to us by nothing but its address is applied
    to the contact it names; without it, such a bounce is only reported.
    ``return_path``: the setting; with ``{token}`` in it, bounces are matched by
    the token of the envelope sender they came back to first.
    """
    secret = _secret()
    for label, data in read_mailbox(path):
        if isinstance(data, str):
            yield Outcome(label, UNREADABLE, f"{UNREADABLE}: {data}; skipped, move it out")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if bounces.processed(db, digest):
            yield Outcome(label, SEEN, "already processed; nothing to do")
            continue
        bounce = classify(data)
        category = _category(bounce)
        if bounce.kind == "malformed":
            # Not marked as processed: a reader that learns to parse it, or the
            # editor, gets another look next run instead of losing it for good.
            why = f"{category} ({bounce.reason}): skipped, not marked as processed"
            yield Outcome(
                label, category, f"{why}, so the next run reads it again", kind=bounce.kind
            )
            continue
        found = tokens.return_tokens(return_path, _quoted(bounce, data))
        if secret is None and (found or bounce.kind == "unsubscribe"):
            # Not marked as processed: it is acted on once the secret is set.
            what = "a signed return path" if found else "a signed unsubscribe token"
            why = f"{category}: skipped, {what} but NEWSLETTER_SECRET is not set"
            yield Outcome(label, category, f"{why}; run again with it", kind=bounce.kind)
            continue
        with writing(db):  # the outcome and the "seen" mark land together
            text, changed, done = _apply(db, bounce, secret, found, actor, match_address)
            if done:
                bounces.mark_processed(db, digest, bounce.kind)
        yield Outcome(label, category, text, changed, not done, bounce.kind)


def _category(b: Bounce) -> str:
    """The message's CATEGORIES name; a departure notice is an auto-reply counted apart."""
    if b.kind == "auto-reply" and b.cause == DEPARTURE:
        return CATEGORIES[DEPARTURE]
    return CATEGORIES.get(b.kind, "not a bounce")


def _secret() -> bytes | None:
    try:
        return tokens.secret_from_env()
    except NewsletterError:
        return None  # only needed for signed tokens, whose messages are then held back


def _quoted(bounce: Bounce, data: bytes) -> str:
    """Where a return path may be quoted: first the addresses the message was delivered
    to, then the whole message, its encoded parts decoded (a quoted original in base64)."""
    texts = [" ".join(bounce.envelope_to), data.decode("latin-1")]
    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        for part in msg.walk():
            encoding = (part.get("content-transfer-encoding") or "").strip().lower()
            if not part.is_multipart() and encoding in ("base64", "quoted-printable"):
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    texts.append(payload.decode("latin-1"))
    except Exception:  # the raw text was searched already; a broken part adds nothing
        pass
    return "\n".join(texts)


def _apply(
    db: Database,
    b: Bounce,
    secret: bytes | None,
    found: list[str],
    actor: str | None,
    match_address: bool,
) -> tuple[str, bool, bool]:
    """Act on one classified message.

    (what happened, whether a status changed, whether the message is done with
    and is remembered as processed).
    """
    category = CATEGORIES.get(b.kind, "not a bounce")
    if b.kind == "unsubscribe":
        return (*_unsubscribe(db, b.reason, secret, actor), True)
    match = _recipient(db, b, secret, found)
    if b.kind == "auto-reply" and b.cause == DEPARTURE:
        return _departure(db, b, match, match_address)
    if b.kind not in ("hard", "soft", "complaint"):
        return (_noted(b, category, match), False, True)
    status = f" {b.status}" if b.status else ""
    if isinstance(match, Miss):
        named = ", ".join(b.recipients) or "no address"
        if match.hold:
            return f"{category}{status} for {named}: {match.why}", False, False
        return f"{category}{status} for {named}: skipped, {match.why}", False, True
    assert match.contact.id is not None  # read from contacts.db, so stored
    if match.how == BY_ADDRESS and not match_address:
        return (
            f"{category}{status} for {match.contact.email} ({BY_ADDRESS}): left unapplied, "
            "an address alone proves nothing; if it is real, run again with --match-address",
            False,
            False,
        )
    if b.kind == "complaint":
        return (*_complained(db, match, b.reason, actor), True)
    what = f"{category}{status} for {match}"
    if b.kind == "hard":
        return (*_mark(db, match, what, actor), True)
    bounces.add_soft(db, match.contact.id, match.issue, b.status)
    streak = bounces.soft_streak(db, match.contact.id)
    if streak >= SOFT_LIMIT:
        return (*_mark(db, match, f"{what}: {streak} soft bounces in a row", actor), True)
    return f"{what}: {streak} of {SOFT_LIMIT} soft bounces in a row", False, True


def _departure(
    db: Database, b: Bounce, match: Match | Miss, match_address: bool
) -> tuple[str, bool, bool]:
    """A departure notice changes no contact: it becomes a proposed "left" change (with
    the successor, when the reply names one) for the editor to approve in
    ``newsletter directory review``. Tied to a contact by an address alone, it waits
    for --match-address, as a bounce does: anyone can write "has left"."""
    sender = ", ".join(b.recipients) or "an unnamed sender"
    what = f"auto-reply: departure notice from {sender}"
    what += f" (successor {b.successor})" if b.successor else " (no successor named)"
    if isinstance(match, Miss):
        if match.hold:
            return f"{what}: {match.why}", False, False
        return f"{what}: ignored, {match.why}", False, True
    if match.how == BY_ADDRESS and not match_address:
        return (
            f"{what} for {match}: left unapplied, an address alone proves nothing; if it is "
            "real, run again with --match-address",
            False,
            False,
        )
    contact = match.contact
    assert contact.id is not None  # read from contacts.db, so stored
    waiting = proposals.pending_proposals(db)
    if any(p.kind == "left" and p.contact_id == contact.id for p in waiting):
        return f"{what} for {match}: already proposed as left; nothing more to do", False, True
    # The successor rides on the departure: approving it hands them the seat.
    fields = {"successor_email": b.successor} if b.successor else {}
    left = proposals.propose(db, "left", "auto-reply", contact.id, fields=fields)
    done = f"proposed as left (proposal {left})"
    if b.successor and contacts.get_contact(db, b.successor) is not None:
        done += ", with a successor who is a contact already"
    elif b.successor:
        done += ", with the successor as a new contact"
    return f"{what} for {match}: {done}; see newsletter directory review", False, True


def _noted(b: Bounce, category: str, match: Match | Miss) -> str:
    """The line for a message that changes nothing: an auto-reply, a delay, not a bounce."""
    if b.kind == "delayed":
        status, done = f" {b.status}" if b.status else "", "ignored, the server is still trying"
    elif b.kind == "delivered":
        status, done = "", "ignored (a report of successful delivery)"
    else:
        reason = b.reason.removeprefix("not a bounce: ")
        status, done = "", f"ignored ({reason})" if reason else "ignored"
    if isinstance(match, Match) and match.how != BY_ADDRESS:
        return f"{category}{status} for {match}: {done}"
    return f"{category}{status}: {done}"


def _mark(db: Database, match: Match, what: str, actor: str | None) -> tuple[str, bool]:
    email_ = match.contact.email
    if contacts.mark_bounced(db, email_, source=f"bounce:{match.issue}", actor=actor):
        return f"{what}: marked bounced", True
    return f"{what}: already {match.contact.status}, unchanged", False


def _complained(db: Database, match: Match, reason: str, actor: str | None) -> tuple[str, bool]:
    """Unsubscribed and suppressed: Gmail and Yahoo want complaints under 0.3 %, so one
    complaint stops all mail to that person, whatever a later list or sync says."""
    contact, source = match.contact, f"complaint:{match.issue}"
    assert contact.id is not None  # read from contacts.db, so stored
    what = f"complaint from {match}, {reason}"
    actor = actor or "recipient"
    unsubscribed = contacts.unsubscribe(db, contact.id, source=source, actor=actor)
    suppressed = contacts.suppress(db, contact, "complaint", source=source, actor=actor)
    if unsubscribed:
        return f"{what}: unsubscribed and suppressed", True
    if suppressed:
        return f"{what}: already {contact.status}; now suppressed too", True
    return f"{what}: already {contact.status} and suppressed, unchanged", False


def _recipient(db: Database, b: Bounce, secret: bytes | None, found: list[str]) -> Match | Miss:
    """The delivery ``b`` is about: by signed return path, by Message-ID, by address."""
    if found:
        match = _by_token(db, secret, found)
        if isinstance(match, Match) or not match.hold:
            return match
        # Never on to an address alone: only a Message-ID of ours outweighs a bad token.
        by_id = _by_message_id(db, b)
        if isinstance(by_id, Match):
            return Match(by_id.contact, by_id.issue, BY_MESSAGE_ID_UNVERIFIED)
        return match
    if b.message_ids:
        return _by_message_id(db, b)
    for address in b.recipients:
        contact = contacts.get_contact(db, address)
        if contact is None:
            continue
        assert contact.id is not None  # read from contacts.db, so stored
        issue = ledger.latest_issue(db, contact.id)
        if issue:  # nothing else to go by: the latest issue they were sent is the likely one
            return Match(contact, issue, BY_ADDRESS)
    named = ", ".join(b.recipients) or "no address"
    return Miss(f"no Message-ID, and {named} is not a contact the ledger says we mailed")


def _by_message_id(db: Database, b: Bounce) -> Match | Miss:
    for message_id in b.message_ids:
        delivery = ledger.find_message(db, message_id)
        if delivery is not None:
            contact = contacts.get_contact(db, delivery.contact_id)
            if contact is None:
                return Miss(f"contact {delivery.contact_id} no longer exists")
            return Match(contact, delivery.issue, BY_MESSAGE_ID)
    if not b.message_ids:
        return Miss("no Message-ID")
    return Miss(f"Message-ID {b.message_ids[0]} is not in the delivery ledger (not our mail)")


def _by_token(db: Database, secret: bytes | None, found: list[str]) -> Match | Miss:
    assert secret is not None  # process() holds messages with a token back without it
    for token in found:
        delivery = tokens.read_return_token(secret, token)
        if delivery is None:
            continue
        contact = contacts.get_contact(db, delivery.contact_id)
        if contact is None:
            return Miss(
                f"its signed return path names contact {delivery.contact_id}, who no longer exists"
            )
        issue = next(
            (i for i in ledger.issues_of(db, delivery.contact_id) if delivery.names(i)), None
        )
        if issue is None:
            return Miss(
                f"its signed return path names no issue sent to {contact.email} (a test send?)"
            )
        return Match(contact, issue, BY_TOKEN)
    return Miss(
        f"left unapplied, the token of its signed return path ({found[0][:40]}) does not verify:"
        " forged, damaged, or signed under another NEWSLETTER_SECRET",
        hold=True,
    )


def _unsubscribe(
    db: Database, token: str, secret: bytes | None, actor: str | None
) -> tuple[str, bool]:
    assert secret is not None  # process() holds requests back without it
    found = tokens.read_token(secret, token)
    if found is None:
        return "unsubscribe request with an invalid token: ignored", False
    contact = contacts.get_contact(db, found[0])
    if contact is None:
        return f"unsubscribe request (issue {found[1]}): contact {found[0]} no longer exists", False
    what = f"unsubscribe request for {contact.email} (issue {found[1]}, by signed token)"
    source = f"unsubscribe-mail:{found[1]}"
    assert contact.id is not None  # read from contacts.db, so stored
    if contacts.unsubscribe(db, contact.id, source=source, actor=actor or "recipient"):
        return f"{what}: unsubscribed", True
    return f"{what}: already {contact.status}, unchanged", False
