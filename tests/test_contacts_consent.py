"""Consent and history: nobody is re-subscribed, every change is recorded, purge erases."""

from __future__ import annotations

import sqlite3

import pytest
from helpers import cli, dump, rows, write

from newsletter.store import contacts, open_db
from newsletter.store.purge import purge


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


def file_bytes(path) -> bytes:
    data = path.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data


def test_purge_leaves_no_personal_data_on_disk(project, db, monkeypatch):
    monkeypatch.chdir(project)
    secret, name = "zelda.quixote@unhcr.example.org", "Zelda Quixote"
    others = "".join(f"p{n}@unhcr.example.org,Person {n},Officer\n" for n in range(200))
    text = f"Email,Name,Job title\n{others}{secret},{name},Secret Title\n"
    cli(project, "contacts", "import", write(project, "p.csv", text))
    cli(project, "contacts", "edit", secret, "--email", "zelda.q@unhcr.example.org")
    cli(project, "contacts", "edit", "zelda.q@unhcr.example.org", "--email", secret)
    cli(project, "contacts", "edit", secret, "--phone", "+41 22 555 1234")
    assert secret.encode() in file_bytes(db)
    asked = cli(project, "contacts", "remove", secret, "--purge", input="n\n")
    assert asked.exit_code == 1 and "Aborted" in asked.output
    result = cli(project, "contacts", "remove", secret.upper(), "--purge", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{secret.upper()}: contact and history values erased; its hash is on the suppression "
        "list, so it is never added again.\n"
    )
    assert (
        not db.with_name("contacts.db-wal").exists()
        or db.with_name("contacts.db-wal").stat().st_size == 0
    )
    data = file_bytes(db)
    for needle in (secret, "zelda.q@", name, "Secret Title", "555 1234", "Zelda"):
        assert needle.encode() not in data, needle
        assert needle.encode("utf-16-le") not in data, needle
    assert rows(db, "SELECT count(*) FROM contacts") == [(200,)]
    # Never again: not by import, not by add.
    before = dump(db)
    again = cli(project, "contacts", "import", write(project, "z.csv", f"Email\n{secret}\n"))
    assert again.output.splitlines()[0] == (
        f"z.csv:2: {secret} was erased on request and is on the suppression list; "
        "it is never re-added. Delete the row."
    )
    assert cli(project, "contacts", "add", secret).exit_code == 1
    assert dump(db) == before


def test_purge_of_an_unknown_address_still_suppresses(project, db, monkeypatch):
    monkeypatch.chdir(project)
    result = cli(project, "contacts", "remove", "never@who.example.org", "--purge", "--yes")
    assert result.output == (
        "never@who.example.org: not in contacts.db; its hash is on the suppression list, "
        "so it is never added again.\n"
    )
    assert rows(db, "SELECT count(*) FROM suppression") == [(1,)]
    store = open_db(db)
    assert purge(store, "never@who.example.org").newly_suppressed is False
    store.conn.close()


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
