"""newsletter.store.reviews: the rows of a review, kept with their build; a purge erases them."""

from __future__ import annotations

import pytest

from newsletter.store import open_db, reviews
from newsletter.store.purge import purge


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "contacts.db")
    yield database
    database.conn.close()


def test_rows_come_back_oldest_first_per_issue(db):
    reviews.record(db, "2026-Q4", "a@example.org", reviews.LINK, "d1")
    reviews.record(db, "2026-Q4", "a@example.org", reviews.COMMENT, "d1", "Fix p. 2")
    reviews.record(db, "2026-Q3", "b@example.org", reviews.APPROVAL, "d0")
    found = [(r.reviewer, r.kind, r.digest, r.body) for r in reviews.entries(db, "2026-Q4")]
    assert found == [
        ("a@example.org", "link", "d1", ""),
        ("a@example.org", "comment", "d1", "Fix p. 2"),
    ]


def test_an_unknown_kind_is_refused(db):
    with pytest.raises(ValueError):
        reviews.record(db, "2026-Q4", "a@example.org", "veto", "d1")
    assert reviews.entries(db, "2026-Q4") == []


def test_a_purge_erases_the_person_s_reviews(db):
    reviews.record(db, "2026-Q4", "A@example.org", reviews.APPROVAL, "d1")
    reviews.record(db, "2026-Q4", "b@example.org", reviews.APPROVAL, "d1")
    purge(db, "a@example.org")
    assert [r.reviewer for r in reviews.entries(db, "2026-Q4")] == ["b@example.org"]
