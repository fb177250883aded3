"""Contacts under pressure: concurrent writers, broken quoting, huge cells, several
sources for one organisation, a purge after an address change, a long list of changes."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import pytest
from sqlite_utils.migrations import Migrations
from test_contacts import dump, rows, run, write
from test_contacts_sync import configure
from test_directory import NEW, OLD, SINCE, UNTIL, build, person, two_issues

from newsletter.config import load_settings
from newsletter.contacts.directory import EMAIL_CHANGES, Departure, build_directory
from newsletter.errors import NewsletterError
from newsletter.store import MIGRATIONS, open_db, writing
from newsletter.store.contacts import mark_left


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
    run(project, "contacts", "import", write(project, "a.csv", "Email\na@who.example.org\n"))
    run(project, "contacts", "add", "b@who.example.org")
    thread = hold_write_lock(db, 0.5)
    edit = run(project, "contacts", "edit", "a@who.example.org", "--city", "Geneva")
    imported = run(
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
    run(project, "contacts", "add", "b@who.example.org")
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
    run(project, "contacts", "add", "b@who.example.org")
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


BROKEN = {
    "never closed": (
        'Email,Name\na@who.example.org,"Ann\nb@who.example.org,Bob\nc@who.example.org,Cy\n',
        "Error: broken.csv:2: a quote opened on this line is not closed until line 4, so the "
        "rows in between would be lost. Check the quotes on line 2.\n",
    ),
    "closed by a later quote": (
        'Email;Name\na@who.example.org;"Ann\nb@who.example.org;Bob\nc@who.example.org;"Cy"\n'
        "d@who.example.org;Di\n",
        "Error: broken.csv:2: a quote opened on this line is not closed until line 4, so the "
        "rows in between would be lost. Check the quotes on line 2.\n",
    ),
}


@pytest.mark.parametrize("text,message", BROKEN.values(), ids=BROKEN.keys())
def test_a_quote_that_swallows_rows_refuses_the_file(project, db, monkeypatch, text, message):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "keep@who.example.org")
    before = dump(db)
    result = run(project, "contacts", "import", write(project, "broken.csv", text))
    assert (result.exit_code, result.output) == (1, message)
    assert dump(db) == before


def test_a_multiline_cell_without_rows_in_it_is_kept(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = (
        'Email,Name,Job title,Notes\na@who.example.org,Ann,"Head,\nPartnerships",'
        '"Geneva office,\nor write to desk@who.example.org, any day"\n'
    )
    result = run(project, "contacts", "import", write(project, "ok.csv", text))
    assert result.output.splitlines() == [
        "ok.csv: note: ignored columns: 'Notes'",
        "ok.csv: 1 added, 0 updated, 0 unchanged, 0 rejected",
    ]
    assert rows(db, "SELECT job_title FROM contacts") == [("Head, Partnerships",)]


def test_a_huge_cell_rejects_its_row_only(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = f"Email,Name\nbig@who.example.org,{'A' * 200_000}\nok@who.example.org,Ok\n"
    result = run(project, "contacts", "import", write(project, "huge.csv", text))
    assert result.exit_code == 3
    assert result.output.splitlines() == [
        "huge.csv:2: column 'Name' 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…' is 200000 "
        "characters long. Shorten it to 300.",
        "huge.csv: 1 added, 0 updated, 0 unchanged, 1 rejected",
    ]
    assert rows(db, "SELECT email FROM contacts") == [("ok@who.example.org",)]


def seed_unicef(project):
    text = (
        "Email,Name,Organisation,Acronym\n"
        "hq@unicef.example.org,Hana HQ,United Nations Children's Fund,UNICEF\n"
        "region@unicef.example.org,Rui Region,United Nations Children's Fund,UNICEF\n"
        "gone@unicef.example.org,Gus Gone,United Nations Children's Fund,UNICEF\n"
    )
    assert run(project, "contacts", "import", write(project, "seed.csv", text)).exit_code == 0
    write(project, "hq.csv", "Email,Name\nhq@unicef.example.org,Hana HQ\n")
    write(project, "region.csv", "Email,Name\nregion@unicef.example.org,Rui Region\n")


def statuses(db):
    return rows(db, "SELECT email, status FROM contacts ORDER BY email")


def test_two_sources_for_one_organisation_only_mark_people_missing_from_both(
    project, db, monkeypatch
):
    monkeypatch.chdir(project)
    seed_unicef(project)
    configure(
        project,
        '{ name = "hq", organisation = "UNICEF", path = "hq.csv" }',
        '{ name = "region", organisation = "United Nations Children\'s Fund", path = "region.csv" }',
    )
    result = run(project, "contacts", "sync")
    assert (result.exit_code, result.output.splitlines()) == (
        0,
        [
            "hq.csv: marked left: 'Gus Gone' <gone@unicef.example.org>",
            "hq.csv: 0 added, 0 updated, 1 unchanged, 0 rejected, 1 marked left",
            "region.csv: 0 added, 0 updated, 1 unchanged, 0 rejected",
        ],
    )
    assert statuses(db) == [
        ("gone@unicef.example.org", "left"),
        ("hq@unicef.example.org", "subscribed"),
        ("region@unicef.example.org", "subscribed"),
    ]


@pytest.mark.parametrize(
    "region,args,why",
    [
        ("Email\nnot-an-address\n", (), "has no valid row"),
        (None, (), "could not be loaded"),
        ("Email\nregion@unicef.example.org\n", ("--source", "hq"), "was not part of this sync"),
    ],
    ids=["no valid row", "missing file", "not synced"],
)
def test_nobody_is_marked_left_while_another_source_of_the_organisation_is_unknown(
    project, db, monkeypatch, region, args, why
):
    monkeypatch.chdir(project)
    seed_unicef(project)
    if region is None:
        (project / "region.csv").unlink()
    else:
        write(project, "region.csv", region)
    configure(
        project,
        '{ name = "hq", organisation = "UNICEF", path = "hq.csv" }',
        '{ name = "region", organisation = "UNICEF", path = "region.csv" }',
    )
    result = run(project, "contacts", "sync", *args)
    assert (
        f"hq.csv: note: nobody was marked left, as source 'region' for the same organisation {why}."
        in result.output.splitlines()
    )
    assert "hq.csv: 0 added, 0 updated, 1 unchanged, 0 rejected" in result.output.splitlines()
    assert all(status == "subscribed" for _, status in statuses(db))


def test_purge_suppresses_every_address_the_person_had(project, db, monkeypatch):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "old.name@who.example.org", "--name", "Wanda Renamed")
    run(project, "contacts", "edit", "old.name@who.example.org", "--email", "new@who.example.org")
    result = run(project, "contacts", "remove", "new@who.example.org", "--purge", "--yes")
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM suppression") == [(2,)]
    before = dump(db)
    again = run(
        project,
        "contacts",
        "import",
        write(project, "old.csv", "Email,Agency\nOLD.name@who.example.org,New Agency\n"),
    )
    assert again.output.splitlines()[0] == (
        "old.csv:2: old.name@who.example.org was erased on request and is on the suppression "
        "list; it is never re-added. Delete the row."
    )
    assert run(project, "contacts", "add", "old.name@who.example.org").exit_code == 1
    assert dump(db) == before
    data = db.read_bytes()
    assert b"old.name@" not in data and b"Wanda" not in data


def test_a_long_list_of_changes_is_cut_short_in_the_email(project):
    two_issues(project)
    store = open_db(project / "contacts.db")
    with store.atomic():
        for n in range(600):
            person(
                store,
                f"person{n}@agency{n % 30}.example.org",
                f"Agency {n % 30}",
                NEW if n < 500 else OLD,
                name=f"Person Number {n}",
                job_title="Private Sector Partnerships Specialist",
            )
        for n in range(500, 560):
            mark_left(store, f"person{n}@agency{n % 30}.example.org", "test", "t", NEW)
    store.conn.close()
    result = build(project)
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    text = " ".join((out / "email.txt").read_text().split())
    html = (out / "email.html").read_text()
    assert "Changes since 15 September 2026: 500 new, 0 updated, 60 left." in text
    assert text.count("[new]") == EMAIL_CHANGES
    assert f"And {500 - EMAIL_CHANGES} more new or updated focal points." in text
    assert f"And {60 - EMAIL_CHANGES} more, on the web edition." in text
    assert f"And {500 - EMAIL_CHANGES} more new or updated focal points." in html
    assert (out / "web.html").read_text().count("mailto:person") == 540


@pytest.mark.parametrize("url", ["http://[::1", "http://", "http://exa mple.org/a.csv"])
def test_a_malformed_source_url_is_a_config_error(project, monkeypatch, url):
    monkeypatch.chdir(project)
    configure(project, f'{{ organisation = "UNICEF", url = "{url}" }}')
    result = run(project, "contacts", "sync")
    lines = (project / "pyproject.toml").read_text().splitlines()
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {project / 'pyproject.toml'}:{lines.index('sources = [') + 1}: [tool.newsletter] "
        f"'sources' entry 1: url {url!r} is not an http(s) URL. Copy it from the browser.\n",
    )


def test_a_download_cut_short_is_a_warning(project, db, monkeypatch):
    monkeypatch.chdir(project)
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:  # promises 1000 bytes, sends 6 and hangs up
        conn, _ = listener.accept()
        request = b""
        while b"\r\n\r\n" not in request:  # read the whole request, or closing resets it
            chunk = conn.recv(65536)
            if not chunk:
                break
            request += chunk
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nEmail\n")
        conn.shutdown(socket.SHUT_WR)
        conn.close()

    thread = threading.Thread(target=answer)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/cut.csv"
    configure(project, f'{{ name = "cut", organisation = "UNICEF", url = "{url}" }}')
    result = run(project, "contacts", "sync")
    thread.join()
    listener.close()
    assert (result.exit_code, result.output) == (
        1,  # the only source failed: nothing was done
        f"warning: source 'cut': {url}: body cut short (6 of 1000 bytes arrived). "
        "Nothing changed for it.\n",
    )


def test_export_to_a_missing_folder_is_one_line_error(project, monkeypatch):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "a@who.example.org")
    result = run(project, "contacts", "export", "-o", "nowhere/list.csv")
    assert (result.exit_code, result.output) == (
        1,
        "Error: nowhere/list.csv: cannot write it (No such file or directory). "
        "Check that the folder exists.\n",
    )


EXPORTS = {
    "Google Contacts": (
        "First Name,Middle Name,Last Name,Organization Name,Organization Title,"
        "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value\n"
        "Ana,,Lima,UNICEF,Officer,* Work,ana.lima@unicef.example.org,Work,+1 555 0100\n"
    ),
    "Outlook": (
        "First Name,Last Name,Company,Job Title,Business Phone,E-mail Address\n"
        "Ana,Lima,UNICEF,Officer,+1 555 0100,ana.lima@unicef.example.org\n"
    ),
}


@pytest.mark.parametrize("text", EXPORTS.values(), ids=EXPORTS.keys())
def test_address_book_exports_import_as_they_are(project, db, monkeypatch, text):
    monkeypatch.chdir(project)
    result = run(project, "contacts", "import", write(project, "book.csv", text))
    assert result.output.splitlines()[-1] == (
        "book.csv: 1 added, 0 updated, 0 unchanged, 0 rejected"
    )
    assert rows(
        db,
        "SELECT c.email, c.name, o.name, c.job_title, c.phone FROM contacts c JOIN "
        "organisations o ON o.id = c.organisation_id",
    ) == [("ana.lima@unicef.example.org", "Ana Lima", "UNICEF", "Officer", "+1 555 0100")]


def test_a_nameless_departure_is_counted_without_its_address(project):
    store = open_db(project / "contacts.db")
    with store.atomic():
        person(store, "anon@wmo.example.org", "WMO")
        mark_left(store, "anon@wmo.example.org", "test", "t", NEW)
    directory = build_directory(store, load_settings(project), SINCE, UNTIL)
    store.conn.close()
    assert directory.departures == (Departure("A focal point", "WMO", "left"),)
