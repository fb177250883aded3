"""newsletter.store.calls: one call per issue and sender, with its deadline and the time
it first started."""

from __future__ import annotations

import datetime as dt
import sqlite3

from newsletter.store import Database, open_db
from newsletter.store.calls import Call, call_of, record_call


def test_a_call_is_kept_per_issue_and_sender_with_its_first_time(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    record_call(db, "2027-Q1", "smtp", dt.date(2027, 1, 15), "2026-12-01T09:00:00Z")
    record_call(db, "2027-Q1", "smtp", dt.date(2027, 2, 1), "2026-12-02T09:00:00Z")
    record_call(db, "2027-Q1", "outbox", dt.date(2027, 3, 1), "2026-12-03T09:00:00Z")
    assert call_of(db, "2027-Q1", "smtp") == Call(
        "2027-Q1", "smtp", dt.date(2027, 2, 1), "2026-12-01T09:00:00Z"
    )
    assert call_of(db, "2027-Q1", "outbox") == Call(
        "2027-Q1", "outbox", dt.date(2027, 3, 1), "2026-12-03T09:00:00Z"
    )
    assert call_of(db, "2027-Q2", "smtp") is None
    assert call_of(db, "2027-Q1", "ses") is None


def test_a_database_from_before_calls_has_none(tmp_path):
    # A dry run reads an older database as it is, unmigrated.
    db = Database(sqlite3.connect(":memory:"))
    assert call_of(db, "2027-Q1", "smtp") is None
