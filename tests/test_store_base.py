"""newsletter.store.base: the write lock waits for another writer, and says so when it cannot."""

from __future__ import annotations

import time

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


# Every command that writes waits for another writer the same way, then stops with
# the same line: one helper (store.writing), one wait (NEWSLETTER_LOCK_WAIT).
WRITERS = {
    "feeds remove": ("feeds", "remove", "Local"),
    "feeds add": ("feeds", "add", "{feed}", "--section", "news", "--name", "Other"),
    "contacts add": ("contacts", "add", "c@who.example.org"),
    "contacts unsubscribe": ("contacts", "unsubscribe", "b@who.example.org"),
    "contacts edit": ("contacts", "edit", "b@who.example.org", "--city", "Geneva"),
    "contacts remove": ("contacts", "remove", "b@who.example.org"),
}


@pytest.mark.parametrize("args", WRITERS.values(), ids=WRITERS)
def test_a_writer_that_does_not_finish_stops_every_command_with_one_line(project, args):
    feed = project / "feed.xml"
    feed.write_text('<rss version="2.0"><channel><title>T</title></channel></rss>')
    assert cli(project, "contacts", "add", "b@who.example.org").exit_code == 0
    assert (
        cli(project, "feeds", "add", str(feed), "--section", "news", "--name", "Local").exit_code
        == 0
    )
    db = project / "contacts.db"
    thread = hold_write_lock(db, 1.0)
    started = time.monotonic()
    result = cli(project, *(a.format(feed=feed) for a in args), env={"NEWSLETTER_LOCK_WAIT": "0.2"})
    waited = time.monotonic() - started
    thread.join()
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {db}: another program is writing to it and did not finish in time. "
        "Run the command again when it has.\n",
    )
    assert 0.2 <= waited < 1.0  # it waited, and not for the other writer to finish
    listed = cli(project, "feeds", "list").output
    assert "Local" in listed and "Other" not in listed  # nothing was changed


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", "99999"])
def test_a_lock_wait_that_is_not_seconds_is_one_line(project, value):
    result = cli(project, "contacts", "list", env={"NEWSLETTER_LOCK_WAIT": value})
    assert (result.exit_code, result.output) == (
        1,
        f"Error: NEWSLETTER_LOCK_WAIT: {value!r} is not a number of seconds from 0 to 3600. "
        "Set it to e.g. 30, or unset it.\n",
    )


# What SQLite says when the disk or the file refuses a write, made real without root:
# a page cap is SQLite's own "disk is full", query_only its own read-only file.
REFUSALS = {
    "full disk": (
        "PRAGMA max_page_count = {pages}",
        "cannot write (database or disk is full): the disk is full. Free some space",
    ),
    "read-only": (
        "PRAGMA query_only = ON",
        "cannot write (attempt to write a readonly database): the file or its folder is "
        "read-only. Make both writable",
    ),
}


@pytest.mark.parametrize(("pragma", "line"), REFUSALS.values(), ids=REFUSALS)
def test_a_refused_write_is_one_line_and_saves_nothing(project, db, pragma, line):
    cli(project, "contacts", "add", "b@who.example.org")
    before = rows(db)
    store = open_db(db)
    pages = store.execute("PRAGMA page_count").fetchone()[0]
    store.execute(pragma.format(pages=pages))
    with pytest.raises(NewsletterError) as caught:
        with writing(store):
            for n in range(2000):  # more than the pages left hold
                store.execute(
                    "INSERT INTO contacts (email, name, status, listed, source, created_at,"
                    " updated_at) VALUES (?, ?, 'subscribed', 1, 't', 't', 't')",
                    [f"n{n}@who.example.org", "x" * 200],
                )
    assert caught.value.message == (
        f"{db}: {line}, then run the command again. Nothing of the step that failed was saved."
    )
    assert not store.conn.in_transaction
    store.conn.close()
    assert rows(db) == before
