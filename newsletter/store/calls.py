"""Calls for contributions: which issue's call went out via which sender, with which
deadline, and when, so that the reminder repeats the deadline and needs a call first.

One row per issue and sender (as the ledger keeps its rows, so a rehearsal into the
outbox neither blocks nor fixes the real call), written as the call's send starts.
``intake.call`` lets its deadline change only while no message of the call has gone
(a first run that could not log in), so every recipient reads the same one. Who got
the call is the ledger's (``call-ID``); no address or name is kept here, so there is
no purge step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, writing

migrations = Migrations("newsletter.calls")


@migrations()
def m001_calls(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE calls (
            issue TEXT NOT NULL,
            sender TEXT NOT NULL,
            deadline TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (issue, sender)
        )"""
    )


@dataclass(frozen=True)
class Call:
    issue: str
    sender: str
    deadline: dt.date
    at: str  # UTC, ISO 8601: when its send first started


def record_call(db: Database, issue: str, sender: str, deadline: dt.date, at: str) -> None:
    """Remember the call of ``issue`` via ``sender`` and its deadline, in its own
    transaction; a call recorded before keeps the time it first started."""
    with writing(db):
        db.execute(
            "INSERT INTO calls (issue, sender, deadline, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (issue, sender) DO UPDATE SET deadline = excluded.deadline",
            [issue, sender, deadline.isoformat(), at],
        )


def call_of(db: Database, issue: str, sender: str) -> Call | None:
    """The call of ``issue`` sent via ``sender``, if one was."""
    if "calls" not in db.table_names():  # a dry run reads an older database as it is
        return None
    row = db.execute(
        "SELECT issue, sender, deadline, at FROM calls WHERE issue = ? AND sender = ?",
        [issue, sender],
    ).fetchone()
    return Call(row[0], row[1], dt.date.fromisoformat(row[2]), row[3]) if row else None
