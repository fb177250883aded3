"""store.intake: the messages intake took in, remembered so none is taken twice."""

from __future__ import annotations

from newsletter.store import open_db
from newsletter.store.base import writing
from newsletter.store.intake import Taken, record_taken, submitted, taken_keys


def test_a_key_recorded_is_known_and_others_are_not(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    with writing(db):
        record_taken(
            db, [Taken("id:a@b", "2026-Q4", "a.md"), Taken("sha256:00", "2026-Q4", "b.md")], "t"
        )
    assert taken_keys(db, ["id:a@b", "id:c@d", "sha256:00"]) == {"id:a@b", "sha256:00"}


def test_recording_a_key_twice_keeps_the_first_candidate(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    with writing(db):
        record_taken(db, [Taken("id:a@b", "2026-Q4", "first.md")], "t1")
        record_taken(db, [Taken("id:a@b", "2027-Q1", "second.md")], "t2")
    rows = db.execute("SELECT key, issue, name, taken_at FROM intake_messages").fetchall()
    assert rows == [("id:a@b", "2026-Q4", "first.md", "t1")]


def test_many_keys_are_looked_up_in_chunks(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    keys = [f"id:{n}@x" for n in range(1203)]
    with writing(db):
        record_taken(db, [Taken(k, "2026-Q4", f"{n}.md") for n, k in enumerate(keys[::2])], "t")
    assert taken_keys(db, keys) == set(keys[::2])


def test_a_failed_write_records_nothing(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    try:
        with writing(db):
            record_taken(db, [Taken("id:a@b", "2026-Q4", "a.md")], "t")
            raise OSError("disk full")
    except OSError:
        pass
    assert taken_keys(db, ["id:a@b"]) == set()


def test_submitted_counts_each_organisation_per_issue_and_the_unverified_apart(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    rows = [
        Taken("id:1@x", "2026-Q4", "a.md", "UNICEF"),
        Taken("id:2@x", "2026-Q4", "b.md", "UNICEF", "form"),
        Taken("id:3@x", "2026-Q4", "c.md", ""),
        Taken("id:4@x", "2027-Q1", "d.md", "ILO"),
        Taken("id:5@x", "2025-Q1", "e.md", "ILO"),
    ]
    with writing(db):
        record_taken(db, rows, "t")
    assert submitted(db, ["2026-Q4", "2027-Q1"]) == {
        ("2026-Q4", "UNICEF"): 2,
        ("2026-Q4", ""): 1,
        ("2027-Q1", "ILO"): 1,
    }
    assert submitted(db, []) == {}
