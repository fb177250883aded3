"""A confirmation round: each listed focal point is asked to confirm or correct their entry.

The round is a mailing (``send.mailing``) keyed ``round-YYYY-MM-DD`` in the
ledger. Its audience is every listed, subscribed holder of a seat who is not
suppressed (``store.seats.listed_holders``), less those the ledger shows with it.
A run resumes the latest round that still has messages queued via the sender;
else it is today's round, which a second run the same day finds done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from newsletter.config import Settings
from newsletter.send import mailing
from newsletter.store import Database, ledger, seats

PREFIX = "round-"
TEMPLATE = "directory_round"


def round_id(db: Database, sender: str, today: dt.date | None = None) -> str:
    """The round a run works on: the latest one left unfinished via ``sender``, else today's."""
    return (
        ledger.latest_open(db, PREFIX, sender)
        or f"{PREFIX}{(today or dt.datetime.now(dt.UTC).date()):%Y-%m-%d}"
    )


def subject(settings: Settings) -> str:
    return f"{settings.name}: is your entry in the focal-point directory still right?"


def prepare_round(
    settings: Settings,
    db: Database,
    sender: str | None = None,
    options: dict[str, str] | None = None,
    today: dt.date | None = None,
    **overrides: Any,
) -> mailing.Ready:
    """The round to send now, checked as an issue's send is (``send.prepare``)."""
    name = mailing.sender_name(settings, sender)
    key = round_id(db, name, today)
    recipients = mailing.pending(db, key, name, seats.listed_holders(db))
    latest = mailing.latest_issue(settings, db)
    made = mailing.make(
        settings,
        key,
        subject(settings),
        TEMPLATE,
        {"subject": subject(settings), "round_id": key},
        recipients,
        latest.folder if latest else None,
    )
    return mailing.ready(settings, made, recipients, sender, options, **overrides)
