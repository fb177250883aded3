"""newsletter.store.contacts: every change to a contact goes into its history, in one transaction."""

from __future__ import annotations

import sqlite3

import pytest
from helpers import cli, dump, rows, write

from newsletter.store import contacts, open_db


@pytest.fixture
def db(project):
    return project / "contacts.db"


def history(db, email=None):
    sql = "SELECT h.field, h.old, h.new, h.source FROM history h"
    if email:
        sql += f" JOIN contacts c ON c.id = h.contact_id WHERE c.email = '{email}'"
    return rows(db, sql + " ORDER BY h.id")


def test_every_path_writes_history(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "import", write(project, "a.csv", "Email,Name\na@who.example.org,A\n"))
    cli(project, "contacts", "import", write(project, "b.csv", "Email,Name\na@who.example.org,B\n"))
    cli(project, "contacts", "edit", "a@who.example.org", "--job-title", "Lead")
    cli(project, "contacts", "unsubscribe", "a@who.example.org", "--source", "link")
    store = open_db(db)
    assert not contacts.mark_bounced(store, "a@who.example.org")  # unsubscribed is kept
    store.conn.close()
    cli(project, "contacts", "add", "b@who.example.org")
    store = open_db(db)
    assert contacts.mark_bounced(store, "b@who.example.org", "send", "smtp")
    assert not contacts.mark_bounced(store, "b@who.example.org", "send", "smtp")  # idempotent
    assert contacts.unsubscribe(store, "b@who.example.org", "link", "web")
    assert not contacts.unsubscribe(store, "b@who.example.org", "link", "web")
    assert not contacts.unsubscribe(store, "nobody@who.example.org", "link", "web")
    store.conn.close()
    cli(project, "contacts", "remove", "a@who.example.org")
    assert history(db, "a@who.example.org") == [
        ("created", None, "a@who.example.org", "import:a.csv"),
        ("name", "A", "B", "import:b.csv"),
        ("job_title", "", "Lead", "manual"),
        ("status", "subscribed", "unsubscribed", "link"),
        ("status", "unsubscribed", "left", "manual"),
    ]
    assert history(db, "b@who.example.org")[1:] == [
        ("status", "subscribed", "bounced", "send"),
        ("status", "bounced", "unsubscribed", "link"),
    ]
    cli(project, "contacts", "remove", "a@who.example.org", "--purge", "--yes")
    assert rows(db, "SELECT field, old, new FROM history WHERE field = 'purged'") == [
        ("purged", None, None)
    ]


def test_a_failed_command_rolls_back_everything(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org")
    before = dump(db)
    store = open_db(db)

    def explode(*args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(contacts, "record_change", explode)
    with pytest.raises(RuntimeError):
        contacts.unsubscribe(store, "a@who.example.org")
    store.conn.close()
    assert dump(db) == before
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_purged_contacts_id_is_never_reused(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org")
    cli(project, "contacts", "add", "b@who.example.org")
    cli(project, "contacts", "remove", "b@who.example.org", "--purge", "--yes")
    cli(project, "contacts", "add", "c@who.example.org")
    cli(project, "contacts", "import", write(project, "d.csv", "Email\nd@who.example.org\n"))
    assert rows(db, "SELECT email, id FROM contacts ORDER BY id") == [
        ("a@who.example.org", 1),
        ("c@who.example.org", 3),
        ("d@who.example.org", 4),
    ]


def test_suppress_adds_the_hash_once_with_a_history_row(project):
    db = open_db(project / "contacts.db")
    jane = contacts.create_contact(db, contacts.Contact(email="jane@who.example.org"), "t", "t")
    assert contacts.suppress(db, jane, "complaint", "complaint:2026-Q4", "recipient")
    assert not contacts.suppress(db, jane, "complaint", "complaint:2026-Q4", "recipient")
    assert contacts.is_suppressed(db, "Jane@WHO.example.org")
    assert [(h.field, h.new, h.source) for h in contacts.history(db, jane.id)] == [
        ("created", "jane@who.example.org", "t"),
        ("suppressed", "complaint", "complaint:2026-Q4"),
    ]
    assert db.execute("SELECT reason FROM suppression").fetchall() == [("complaint",)]


def test_first_added_is_each_organisation_s_earliest_contact(tmp_path):
    from newsletter.models import Contact

    store = open_db(tmp_path / "contacts.db")
    for email, org, at in [
        ("a@u.org", "UNICEF", "2026-03-01T09:00:00+00:00"),
        ("b@u.org", "UNICEF", "2025-01-01T09:00:00+00:00"),
        ("c@i.org", "ILO", "2026-07-01T09:00:00+00:00"),
        ("d@none.org", "", "2020-01-01T09:00:00+00:00"),  # no organisation: no row
    ]:
        contacts.create_contact(store, Contact(email=email, organisation=org), "t", at=at)
    ids = {o.name: o.id for o in contacts.organisations(store)}
    assert contacts.first_added(store) == {
        ids["UNICEF"]: "2025-01-01T09:00:00+00:00",
        ids["ILO"]: "2026-07-01T09:00:00+00:00",
    }


def test_organisation_key_is_the_directory_name_however_it_is_written(tmp_path):
    from newsletter.models import Contact
    from newsletter.store.contacts import create_contact, organisation_key

    db = open_db(tmp_path / "contacts.db")
    long = "United Nations Children's Fund " + "x" * 150
    create_contact(db, Contact(email="a@u.org", organisation=long), "t")
    db.execute("UPDATE organisations SET acronym = 'UNICEF' WHERE name = ?", [long])
    key = long.casefold()
    written = (long, long.upper(), " unicef ", "UNICEF")
    assert [organisation_key(db, n) for n in written] == [key] * 4
    assert organisation_key(db, "Partner NGO") == "partner ngo"  # not in the directory
    assert organisation_key(db, "  ") == ""
