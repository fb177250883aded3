"""The worker side of a send: one thread per connection composes and sends.

Per-recipient work that needs no database (address and name checks, the
unsubscribe token, composing, sending) happens here, so the thread that owns
the ledger does as little as possible per message.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.send import headers
from newsletter.send.message import Recipient
from newsletter.send.preflight import Prepared
from newsletter.send.senders import (
    PERMANENT,
    SENT,
    TEMPORARY,
    UNCERTAIN,
    Message,
    Result,
    Sender,
)
from newsletter.store.ledger import Queued
from newsletter.tokens import (
    ENTRY,
    MEMBERS,
    SUBMIT,
    make_click_org_token,
    make_link_token,
    make_token,
)

# Not a sender's answer: the contact's data cannot be put in a message at all.
INVALID = "invalid"
OUTCOMES = {SENT, TEMPORARY, PERMANENT, UNCERTAIN}


@dataclass(frozen=True)
class Job:
    """One claimed ledger row; ``row`` is kept as fetched so a retry can claim it again."""

    row: Queued
    attempt: int
    click_org: str = ""  # after each click link: "/" and the organisation's part, or ""

    @property
    def row_id(self) -> int:
        return self.row.id


# What a worker puts back for each job: the sender's Result, or what it raised
# (anything, KeyboardInterrupt included: the main thread must always get an answer).
Outcome = tuple[Job, Result | None, BaseException | None]


def problem(contact_id: int, email: str, name: str) -> str | None:
    """Why this contact cannot be mailed safely, naming the contact and the field."""
    if reason := headers.address_problem(email):
        return f"contact {contact_id} <{email!r}>: address {reason}"
    if reason := headers.header_problem(name):
        return f"contact {contact_id} <{email!r}>: name {reason}, which could add a header"
    return None


def recipient(
    prep: Prepared,
    contact_id: int,
    email: str,
    name: str,
    message_id: str,
    listed: bool,
    signed_for: int | None = None,
    click_org: str = "",
) -> Recipient:
    """Who a message is for, with the personal links signed for them: unsubscribe and
    "Check your entry" for everyone, the focal points' directory and the contribution
    form for a listed one.
    ``signed_for``: sign the links for another id instead (a sample's contact 0).
    ``click_org``: what follows each click link (``ClickParts``), the same for everyone
    of one organisation."""
    at = time.time()
    signer = contact_id if signed_for is None else signed_for
    return Recipient(
        email,
        name,
        message_id,
        make_token(prep.secret, signer, prep.issue_id),
        make_link_token(prep.secret, ENTRY, signer, at),
        make_link_token(prep.secret, MEMBERS, signer, at) if listed else "",
        make_link_token(prep.secret, SUBMIT, signer, at) if listed else "",
        prep.fields.get(contact_id, ()),
        click_org,
    )


class ClickParts:
    """What follows each click link in one run's messages, per organisation: "/" and
    its organisation part (``tokens.CLICK_ORG``), signed once per organisation and
    run, for an organisation of at least ``models.MIN_GROUP`` recipients; "" for
    anyone else (a smaller organisation, none), who is counted under "other
    organisations"."""

    def __init__(self, secret: bytes, issue_id: str, organisations: Iterable[int]) -> None:
        self.parts = {
            org: "/" + make_click_org_token(secret, issue_id, org) for org in organisations
        }

    def __call__(self, organisation: int | None) -> str:
        return self.parts.get(organisation, "") if organisation is not None else ""


def work(
    prep: Prepared,
    sender: Sender,
    jobs: queue.SimpleQueue[Job | None],
    results: queue.SimpleQueue[Outcome],
) -> None:
    """A worker thread: take jobs until None; put exactly one (job, result, error) for each.

    The thread owns ``sender`` and closes it when told to stop, so the main
    thread never touches a connection a worker may be using.
    """
    try:
        while (job := jobs.get()) is not None:
            try:
                results.put((job, *_one(prep, sender, job)))
            except BaseException as exc:  # never leave the main thread waiting for an answer
                results.put((job, None, exc))
    finally:
        close_quietly(sender)


def close_quietly(sender: Sender) -> None:
    try:
        sender.close()
    except Exception:  # closing politely is best effort
        pass


def _one(prep: Prepared, sender: Sender, job: Job) -> tuple[Result | None, Exception | None]:
    contact_id, message_id, email = job.row.contact_id, job.row.message_id, job.row.email
    name = job.row.name or ""
    if reason := problem(contact_id, email, name):
        return Result(INVALID, reason), None
    if not email.isascii():  # an internationalised domain goes out as IDNA
        local, _, domain = email.rpartition("@")
        email = f"{local}@{domain.encode('idna').decode('ascii')}"
    try:
        listed = job.row.listed
        who = recipient(prep, contact_id, email, name, message_id, listed, None, job.click_org)
        data = prep.composer.compose(who)
    except Exception as exc:  # cannot build this one; the others may be fine
        return Result(INVALID, f"cannot build the message: {exc}"), None
    try:
        result = sender.send(Message(prep.envelope_sender(contact_id), email, message_id), data)
    except Exception as exc:  # SenderError: not sent; anything else: we cannot know
        return None, exc
    if not isinstance(result, Result) or result.status not in OUTCOMES:
        return None, TypeError(f"send() returned {result!r}, not a Result")
    return result, None
