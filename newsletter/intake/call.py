"""A call for contributions to an issue, and its reminder (``newsletter call``).

The call asks every listed focal point (``store.seats.listed_holders``: the holders
of listed seats, subscribed; ``send.mailing.pending`` leaves out the suppressed and
those who have it) for their news by a deadline, with the house's sections and their
own contribution form (the ``submit_url`` marker, which ``send`` signs for a listed
focal point only, and every recipient here is one). It is a mailing of ``send``'s
(``send.mailing``) keyed ``call-ID`` in the ledger, so a second run sends nothing
twice and a stopped one resumes. As its send starts, the call is recorded
(``store.calls``) with its deadline, which is fixed once a message has gone: every
recipient reads the same one, and the reminder repeats it.

The reminder goes to the listed focal points of the organisations that have sent
nothing for the issue yet (``store.intake.submitted``, names compared as the
directory writes them, in any case), keyed ``call-ID-reminder-YYYY-MM-DD``: once a
day at most, and on a later day again to whoever is still silent; a reminder left
unfinished is resumed first, as a directory round is. Past the deadline it still
goes, saying that late news is welcome.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from newsletter.build.render import dayname
from newsletter.config import Settings
from newsletter.errors import BadUsage, NewsletterError
from newsletter.intake.message import plain_date
from newsletter.issue.meta import read_meta
from newsletter.models import ISSUE_ID
from newsletter.schema import shown
from newsletter.send import mailing
from newsletter.store import Database, ledger, seats
from newsletter.store.base import now
from newsletter.store.calls import Call, call_of, record_call
from newsletter.store.contacts import get_contact, organisation_key
from newsletter.store.intake import submitted

PREFIX = "call-"
REMINDER = "-reminder-"
TEMPLATE = "intake_call"
# The longest issue ID whose reminder key (call-ID-reminder-YYYY-MM-DD) is still an
# ID the ledger and the unsubscribe links take (models.ISSUE_ID: 64 characters).
MAX_ID = 64 - len(PREFIX) - len(REMINDER) - len("YYYY-MM-DD")


@dataclass(frozen=True)
class Section:
    title: str
    description: str  # what goes in it, "" when the settings say nothing


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def deadline_of(text: str, today: dt.date) -> dt.date:
    """``--deadline``: a date written plainly (2027-01-15, 15 January 2027), not before
    ``today``; a BadUsage naming the option otherwise."""
    found = plain_date(text)
    if found is None:
        raise BadUsage(
            f"--deadline {shown(text)}: not a date. Write it as 2027-01-15 or 15 January 2027."
        )
    if found < today:
        raise BadUsage(
            f"--deadline {found.isoformat()}: that day has passed (today is "
            f"{today.isoformat()}, UTC). Give today or a later day."
        )
    return found


def call_key(issue_id: str) -> str:
    return f"{PREFIX}{issue_id}"


def reminder_key(db: Database, issue_id: str, sender: str, today: dt.date) -> str:
    """The reminder a run works on: one left unfinished via ``sender``, else today's."""
    prefix = f"{PREFIX}{issue_id}{REMINDER}"
    return ledger.latest_open(db, prefix, sender) or f"{prefix}{today:%Y-%m-%d}"


def _check_id(folder: Path) -> None:
    issue_id = folder.name
    if len(issue_id) > MAX_ID or not ISSUE_ID.fullmatch(call_key(issue_id)):
        raise NewsletterError(
            f"issues/{issue_id}: a call needs an issue ID of at most {MAX_ID} characters, "
            "for its ledger key call-ID-reminder-YYYY-MM-DD. Use a shorter ID."
        )


def _issue_name(settings: Settings, folder: Path) -> str:
    """The issue as the call names it: "issue 15 (First quarter 2027)" when issue.toml
    reads well, else its ID (a call may go out before the issue is written)."""
    meta = read_meta(folder, settings.section_keys).meta
    return f"issue {meta.number} ({meta.title})" if meta else f"issue {folder.name}"


def _subject(settings: Settings, deadline: dt.date, reminder: bool, late: bool) -> str:
    if late:
        return f"{settings.name}: late news is still welcome"
    if reminder:
        return f"Reminder: your news for {settings.name} by {dayname(deadline)}"
    return f"{settings.name}: send us your news by {dayname(deadline)}"


def _make(
    settings: Settings,
    db: Database,
    folder: Path,
    key: str,
    deadline: dt.date,
    today: dt.date,
    candidates: list[int],
    sender: str | None,
    options: dict[str, str] | None,
    reminder: bool,
    **overrides: Any,
) -> mailing.Ready:
    name = mailing.sender_name(settings, sender)
    recipients = mailing.pending(db, key, name, candidates)
    late = reminder and today > deadline
    subject = _subject(settings, deadline, reminder, late)
    ctx = {
        "subject": subject,
        "issue": _issue_name(settings, folder),
        "deadline": dayname(deadline),
        "reminder": reminder,
        "late": late,
        "sections": [Section(s.title, s.description) for s in settings.sections],
    }
    made = mailing.make(settings, key, subject, TEMPLATE, ctx, recipients, folder)
    start = None if reminder else partial(_record, folder.name, name, deadline)
    return mailing.ready(settings, made, recipients, sender, options, start, **overrides)


def _went(db: Database, key: str, sender: str) -> bool:
    """Whether a message of mailing ``key`` went (or may have gone) via ``sender``."""
    done = ledger.counts(db, key).get(sender, {})
    return any(done.get(status, 0) for status in ("sent", "sending", "uncertain"))


def _record(issue_id: str, sender: str, deadline: dt.date, db: Database) -> None:
    record_call(db, issue_id, sender, deadline, now())


def sent_call(settings: Settings, db: Database, issue_id: str, sender: str | None) -> Call | None:
    """The call for ``issue_id`` recorded via ``sender`` (the house's when None): its
    deadline and when its send first started; None before any (the desk shows it)."""
    return call_of(db, issue_id, mailing.sender_name(settings, sender))


def prepare_call(
    settings: Settings,
    db: Database,
    sender: str | None,
    options: dict[str, str] | None,
    folder: Path,
    deadline: str,
    today: dt.date | None = None,
    **overrides: Any,
) -> mailing.Ready:
    """The call for ``folder``'s issue to send now, checked as a send is: to every listed
    focal point who does not have it yet. A call that went to anyone via this sender
    keeps its deadline: another is refused, naming the one it has."""
    today = today or today_utc()
    _check_id(folder)
    day = deadline_of(deadline, today)
    name = mailing.sender_name(settings, sender)
    key = call_key(folder.name)
    sent = call_of(db, folder.name, name)
    if sent and sent.deadline != day and _went(db, key, name):
        raise NewsletterError(
            f"The call for {folder.name} went out via {name} with the deadline "
            f"{dayname(sent.deadline)}; a call keeps its deadline. Run it with --deadline "
            f"{sent.deadline.isoformat()} to reach those who do not have it yet."
        )
    holders = seats.listed_holders(db)
    return _make(
        settings, db, folder, key, day, today, holders, sender, options, False, **overrides
    )


def silent_holders(db: Database, issue_id: str) -> list[int]:
    """The listed focal points of the organisations that have sent nothing for
    ``issue_id``: organisation names compared as the directory writes them, in any case."""
    sent = {
        organisation_key(db, org)
        for (_, org), count in submitted(db, [issue_id]).items()
        if org and count
    }
    found = []
    for contact_id in seats.listed_holders(db):
        contact = get_contact(db, contact_id)
        key = organisation_key(db, contact.organisation) if contact else ""
        if key and key not in sent:
            found.append(contact_id)
    return found


def prepare_reminder(
    settings: Settings,
    db: Database,
    sender: str | None,
    options: dict[str, str] | None,
    folder: Path,
    today: dt.date | None = None,
    **overrides: Any,
) -> mailing.Ready:
    """Today's reminder of the call for ``folder``'s issue (or one left unfinished), to
    the listed focal points of the organisations that have sent nothing yet."""
    today = today or today_utc()
    _check_id(folder)
    name = mailing.sender_name(settings, sender)
    sent = call_of(db, folder.name, name)
    if sent is None:
        via = f" --sender {sender}" if sender else ""
        raise NewsletterError(
            f"No call for {folder.name} was sent via {name}; run newsletter call "
            f"{folder.name} --deadline DATE{via} first."
        )
    key = reminder_key(db, folder.name, name, today)
    silent = silent_holders(db, folder.name)
    return _make(
        settings, db, folder, key, sent.deadline, today, silent, sender, options, True, **overrides
    )
