"""newsletter.store.base: the write lock waits for another writer, and says so when it cannot."""

from __future__ import annotations

import pytest
from helpers import cli, hold_write_lock, rows, write

from newsletter.errors import NewsletterError
from newsletter.store import open_db, writing


@pytest.fixture
def db(project):
    return project / "contacts.db"


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
