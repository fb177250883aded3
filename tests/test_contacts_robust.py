"""Contacts under pressure: concurrent writers, broken quoting, huge cells, several
sources for one organisation, a purge after an address change, a long list of changes."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from helpers import cli, dump, rows, write
from sqlite_utils.migrations import Migrations

from newsletter.errors import NewsletterError
from newsletter.store import MIGRATIONS, open_db, writing


@pytest.fixture
def db(project):
    return project / "contacts.db"


def hold_write_lock(path, seconds: float) -> threading.Thread:
    """Another program writing to the database for ``seconds``; returns once it holds the lock."""
    locked = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE contacts SET phone = '+41 22 555 0199' WHERE email LIKE 'b@%'")
        locked.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    locked.wait()
    return thread


def test_a_command_waits_for_another_writer_instead_of_failing(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "import", write(project, "a.csv", "Email\na@who.example.org\n"))
    cli(project, "contacts", "add", "b@who.example.org")
    thread = hold_write_lock(db, 0.5)
    edit = cli(project, "contacts", "edit", "a@who.example.org", "--city", "Geneva")
    imported = cli(
        project, "contacts", "import", write(project, "c.csv", "Email\nc@who.example.org\n")
    )
    thread.join()
    assert (edit.exit_code, edit.output) == (0, "a@who.example.org: city set to 'Geneva'\n")
    assert imported.exit_code == 0, imported.output
    assert rows(db, "SELECT email, city, phone FROM contacts ORDER BY email") == [
        ("a@who.example.org", "Geneva", ""),
        ("b@who.example.org", "", "+41 22 555 0199"),
        ("c@who.example.org", "", ""),
    ]


def test_a_writer_that_does_not_finish_is_one_line_error(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "b@who.example.org")
    store = open_db(db)
    store.execute("PRAGMA busy_timeout = 0")
    thread = hold_write_lock(db, 0.3)
    with pytest.raises(NewsletterError) as caught:
        with writing(store):
            pass
    thread.join()
    assert caught.value.message == (
        f"{db}: another program is writing to it and did not finish in time. "
        "Run the command again when it has."
    )
    assert not store.conn.in_transaction
    store.conn.close()


def test_pending_migrations_wait_for_another_writer(project, db, monkeypatch):
    cli(project, "contacts", "add", "b@who.example.org")
    # A newer version's migration that reads the schema before it writes, as
    # sqlite-utils' add_column does.
    newer = Migrations("test.newer")
    newer()(lambda store: store["contacts"].add_column("nickname", str))
    thread = hold_write_lock(db, 0.3)
    store = open_db(db, [*MIGRATIONS, newer])
    thread.join()
    assert "nickname" in store["contacts"].columns_dict
    assert store.execute("PRAGMA secure_delete").fetchone() == (1,)
    store.conn.close()


def test_purge_suppresses_every_address_the_person_had(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "old.name@who.example.org", "--name", "Wanda Renamed")
    cli(project, "contacts", "edit", "old.name@who.example.org", "--email", "new@who.example.org")
    result = cli(project, "contacts", "remove", "new@who.example.org", "--purge", "--yes")
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM suppression") == [(2,)]
    before = dump(db)
    again = cli(
        project,
        "contacts",
        "import",
        write(project, "old.csv", "Email,Agency\nOLD.name@who.example.org,New Agency\n"),
    )
    assert again.output.splitlines()[0] == (
        "old.csv:2: old.name@who.example.org was erased on request and is on the suppression "
        "list; it is never re-added. Delete the row."
    )
    assert cli(project, "contacts", "add", "old.name@who.example.org").exit_code == 1
    assert dump(db) == before
    data = db.read_bytes()
    assert b"old.name@" not in data and b"Wanda" not in data
