"""newsletter.store.purge: erasing a person leaves no personal data on disk; their hashes stay."""

from __future__ import annotations

import pytest
from helpers import cli, dump, rows, write

from newsletter.store import ledger, open_db
from newsletter.store.purge import purge


@pytest.fixture
def db(project):
    return project / "contacts.db"


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


def test_purge_erases_the_address_from_the_ledger(outbox_ready):
    from newsletter.store.purge import purge

    assert cli(outbox_ready, "send", "2026-Q4", "--yes").exit_code == 0
    db = open_db(outbox_ready / "contacts.db")
    purge(db, "person3@example.org")
    emails = [r[0] for r in db.execute("SELECT email FROM deliveries ORDER BY id")]
    assert emails == [
        "person0@example.org",
        "person1@example.org",
        "person2@example.org",
        None,
        "person4@example.org",
    ]
    message_id = db.execute("SELECT message_id FROM deliveries WHERE id = 1").fetchone()[0]
    found = ledger.find_message(db, message_id.strip("<>"))
    assert found.email == "person0@example.org" and found.sender == "outbox"
