"""store.intake: the messages intake took in, remembered so none is taken twice."""

from __future__ import annotations

from newsletter.store import open_db
from newsletter.store.base import writing
from newsletter.store.intake import record_taken, taken_keys


def test_a_key_recorded_is_known_and_others_are_not(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    with writing(db):
        record_taken(db, [("id:a@b", "2026-Q4", "a.md"), ("sha256:00", "2026-Q4", "b.md")], "t")
    assert taken_keys(db, ["id:a@b", "id:c@d", "sha256:00"]) == {"id:a@b", "sha256:00"}


def test_recording_a_key_twice_keeps_the_first_candidate(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    with writing(db):
        record_taken(db, [("id:a@b", "2026-Q4", "first.md")], "t1")
        record_taken(db, [("id:a@b", "2027-Q1", "second.md")], "t2")
    rows = db.execute("SELECT key, issue, name, taken_at FROM intake_messages").fetchall()
    assert rows == [("id:a@b", "2026-Q4", "first.md", "t1")]


def test_many_keys_are_looked_up_in_chunks(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    keys = [f"id:{n}@x" for n in range(1203)]
    with writing(db):
        record_taken(db, [(k, "2026-Q4", f"{n}.md") for n, k in enumerate(keys[::2])], "t")
    assert taken_keys(db, keys) == set(keys[::2])


def test_a_failed_write_records_nothing(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    try:
        with writing(db):
            record_taken(db, [("id:a@b", "2026-Q4", "a.md")], "t")
            raise OSError("disk full")
    except OSError:
        pass
    assert taken_keys(db, ["id:a@b"]) == set()
