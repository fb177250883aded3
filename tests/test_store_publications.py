"""newsletter.store.publications: one decision per issue; a send never overrides the editor."""

from __future__ import annotations

import sqlite3

import pytest

from newsletter.store import open_db
from newsletter.store.publications import EDITOR, SEND, decide, every, get, sent


@pytest.fixture
def db(tmp_path):
    return open_db(tmp_path / "contacts.db")


def test_a_completed_send_publishes_once(db):
    first, new = sent(db, "2027-Q1", "sent via smtp")
    assert (first.published, first.by, first.source, new) == (True, SEND, "sent via smtp", True)
    again, new = sent(db, "2027-Q1", "sent via ses")
    assert (again, new) == (first, False)


@pytest.mark.parametrize("published", [True, False])
def test_the_editors_decision_stands_against_a_later_send(db, published):
    decide(db, "2027-Q1", published, "newsletter publish")
    found, new = sent(db, "2027-Q1", "sent via smtp")
    assert (found.published, found.by, new) == (published, EDITOR, False)
    assert get(db, "2027-Q1") == found


def test_the_editor_replaces_a_sends_decision(db):
    sent(db, "2027-Q1", "sent via smtp")
    decide(db, "2027-Q1", False, "newsletter unpublish")
    found = get(db, "2027-Q1")
    assert found is not None
    assert (found.published, found.by, found.source) == (False, EDITOR, "newsletter unpublish")
    assert found.day == found.at[:10]


def test_every_and_get(db):
    assert get(db, "2027-Q1") is None and every(db) == {}
    sent(db, "2027-Q1", "sent via smtp")
    decide(db, "2027-Q2", False, "newsletter unpublish")
    assert sorted(every(db)) == ["2027-Q1", "2027-Q2"]


def test_the_table_refuses_what_no_function_writes(db):
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO publications VALUES ('x', 2, 'send', 's', 'now')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO publications VALUES ('x', 1, 'robot', 's', 'now')")
