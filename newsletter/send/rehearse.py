"""Looking before sending: the plan (counts), a sample message, and test sends.

None of these writes to the ledger: a dry run writes nothing at all, and
test sends go through the real sender but leave no row behind.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage

from newsletter.errors import BadUsage, NewsletterError
from newsletter.schema import shown
from newsletter.send import headers
from newsletter.send.dispatch import recipient
from newsletter.send.message import new_message_id
from newsletter.send.preflight import Prepared
from newsletter.send.senders import Message, Result
from newsletter.store import Database, ledger

TEST_PREFIX = "[TEST] "


@dataclass(frozen=True)
class Plan:
    """What ``send`` would do now, for the confirmation question."""

    sender: str
    to_send: int  # recipients this run would mail
    snapshot: bool  # True when this run takes the snapshot (first run for issue and sender)
    sent: int = 0
    failed: int = 0
    uncertain: int = 0  # including rows a crash left in `sending`
    skipped: int = 0


def plan(db: Database, prep: Prepared, retry_failed: bool, retry_uncertain: bool) -> Plan:
    name = prep.spec.name
    counts = ledger.counts(db, prep.issue_id).get(name)
    # A mailing to some queues its newcomers on every run (ledger.snapshot).
    fresh = ledger.count_recipients(db, prep.audience) if prep.audience is not None else 0
    if counts is None:
        return Plan(name, ledger.count_recipients(db, prep.audience), True)
    uncertain = counts["uncertain"] + counts["sending"]
    to_send = counts["queued"] + counts["failed"] * retry_failed + uncertain * retry_uncertain
    to_send += fresh
    return Plan(
        name, to_send, False, counts["sent"], counts["failed"], uncertain, counts["skipped"]
    )


def sample(db: Database, prep: Prepared) -> tuple[str, str, bytes]:
    """(address, envelope sender, message) for the first subscribed contact, or a stand-in
    when there is none."""
    row = ledger.first_recipient(db, prep.audience)
    contact_id, email, name, listed = row or (
        0,
        f"colleague@{prep.composer.layout.domain}",
        "",
        True,
    )
    address = headers.check_address(email, f"contacts.db: contact {contact_id}")
    headers.check(name, f"contacts.db: contact {contact_id} <{email}>", "name")
    message_id = new_message_id(prep.issue_id, prep.composer.layout.domain)
    # Their address and name, but links signed for contact 0, who exists nowhere: a
    # dry run's output ends up in terminals and logs, and a real reader's links there
    # would open their entry, unsubscribe them, or show the members' directory.
    who = recipient(prep, contact_id, address, name, message_id, listed, signed_for=0)
    data = prep.composer.compose(who)
    return address, prep.envelope_sender(0), data


@dataclass(frozen=True)
class Readable:
    """A message as a reader sees it: headers decoded (RFC 2047) and unfolded, each
    part's type and decoded size, and the text part decoded (no quoted-printable)."""

    headers: tuple[tuple[str, str], ...]
    parts: tuple[tuple[str, int], ...]  # (content type, decoded bytes)
    text: str


def readable(data: bytes) -> Readable:
    """Decode a composed message with the email package, as a mail client would."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)  # policy.default makes one
    heads = tuple((name, str(value)) for name, value in msg.items())
    parts = []
    for part in msg.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            parts.append((part.get_content_type(), len(payload) if payload else 0))
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    # The wire's CRLF line ends, as a terminal's line ends.
    return Readable(heads, tuple(parts), text.replace("\r\n", "\n"))


def send_tests(
    prep: Prepared, addresses: tuple[str, ...], prefix: str = TEST_PREFIX
) -> list[tuple[str, Result]]:
    """Send "[TEST]" copies (``prefix`` before the subject) to any addresses through the
    chosen sender; nothing is recorded. A review request is such a one-off copy."""
    try:
        # The address quoted as a preview: a line break in it must not break the message.
        checked = [
            headers.check_address(a.strip(), f"--to {shown(a.strip(), 60)}") for a in addresses
        ]
    except NewsletterError as exc:  # the same rule as every address; here a usage error
        raise BadUsage(exc.message) from None
    sender = prep.spec.new()
    sender.open()
    results = []
    try:
        for address in checked:
            # Contact 0 exists nowhere, so the test's links open no one's entry and cannot
            # unsubscribe anyone; the test shows every link a listed focal point gets.
            message_id = new_message_id(f"test.{prep.issue_id}", prep.composer.layout.domain)
            who = recipient(prep, 0, address, "", message_id, True)
            data = prep.composer.compose(who, prefix)
            message = Message(prep.envelope_sender(0), address, message_id, test=True)
            results.append((address, sender.send(message, data)))
    finally:
        sender.close()
    return results
