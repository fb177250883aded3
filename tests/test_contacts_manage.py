"""newsletter.contacts.manage: `contacts add`, `edit`, `remove`, `list` and `show` for one contact."""

from __future__ import annotations

import json

import pytest
from helpers import cli, rows


@pytest.fixture
def db(project):
    return project / "contacts.db"


def test_list_and_show(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "Ann", "--org", "WHO")
    cli(project, "contacts", "add", "b@ilo.example.org", "--name", "Bob", "--org", "ILO")
    cli(project, "contacts", "unsubscribe", "b@ilo.example.org")
    listing = cli(project, "contacts", "list", "--status", "subscribed").output.splitlines()
    assert listing[0].split() == ["Email", "Name", "Organisation", "Status", "Listed"]
    assert listing[1].split() == ["a@who.example.org", "Ann", "WHO", "subscribed", "yes"]
    assert listing[-1] == "1 contact"
    assert cli(project, "contacts", "list", "--org", "ilo").output.splitlines()[-1] == "1 contact"
    shown = cli(project, "contacts", "show", "B@ILO.example.org").output
    assert "Status:       unsubscribed" in shown
    assert "manual" in shown and "status: 'subscribed' → 'unsubscribed'" in shown
    missing = cli(project, "contacts", "show", "x@y.org")
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: 'x@y.org': not in contacts.db.")


def test_edit_resubscribes_only_when_asked(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "A")
    cli(project, "contacts", "unsubscribe", "a@who.example.org")
    refused = cli(project, "contacts", "edit", "a@who.example.org", "--status", "subscribed")
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: a@who.example.org is unsubscribed; an edit does not re-subscribe by itself. "
        "If they asked to be mailed again, add --resubscribe.\n"
    )
    done = cli(project, "contacts", "edit", "a@who.example.org", "--resubscribe")
    assert done.output == "a@who.example.org: status set to 'subscribed'\n"


def test_add_and_edit_validate_like_an_import(project, db, monkeypatch):
    monkeypatch.chdir(project)
    bad = cli(project, "contacts", "add", "a@who.example.org", "--name", "A\x1bB")
    assert bad.exit_code == 1
    assert bad.output == (
        "Error: 'a@who.example.org': --name 'A\\u001bB' contains the control character U+001B. "
        "Remove it.\n"
    )
    assert cli(project, "contacts", "add", "nope", "--name", "A").output == (
        "Error: 'nope' is not a valid email address (An email address must have an @-sign). "
        "Correct it.\n"
    )
    cli(project, "contacts", "add", "a@who.example.org", "--name", "A")
    again = cli(project, "contacts", "add", "A@WHO.example.org")
    assert again.output == (
        "Error: a@who.example.org: already in contacts.db. "
        "Change it with: newsletter contacts edit a@who.example.org\n"
    )
    cli(project, "contacts", "add", "b@who.example.org")
    taken = cli(project, "contacts", "edit", "a@who.example.org", "--email", "B@who.example.org")
    assert taken.output == "Error: b@who.example.org: another contact already has this address.\n"
    cleared = cli(project, "contacts", "edit", "a@who.example.org", "--name", "", "--unlisted")
    assert cleared.output.splitlines() == [
        "a@who.example.org: name set to ''",
        "a@who.example.org: listed set to 'no'",
    ]


def test_remove_keeps_the_record(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "A")
    result = cli(project, "contacts", "remove", "a@who.example.org")
    assert result.output == "a@who.example.org: marked left; record and history kept.\n"
    again = cli(project, "contacts", "remove", "a@who.example.org")
    assert again.output == "a@who.example.org: already left; nothing changed.\n"
    assert rows(db) == [("a@who.example.org", "A", "left")]


def test_add_refuses_a_local_part_outside_ascii_like_an_import(project, db, monkeypatch):
    monkeypatch.chdir(project)
    result = cli(project, "contacts", "add", "jané@example.org", "--name", "Jane")
    assert result.exit_code == 1
    assert result.output == (
        "Error: 'jané@example.org' is not a valid email address (the part before the @ has "
        "characters outside ASCII ('é'), which most mail servers cannot deliver to; ask for "
        "the plain ASCII address). Correct it.\n"
    )
    assert rows(db) == []


def test_list_and_show_as_json(project, db, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_ACTOR", "editor")
    cli(project, "contacts", "add", "a@who.example.org", "--name", "Zoë Ann", "--org", "WHO")
    cli(project, "contacts", "add", "b@ilo.example.org", "--name", "Bob", "--unlisted")
    cli(project, "contacts", "unsubscribe", "b@ilo.example.org")
    listing = cli(project, "contacts", "list", "--json")
    assert listing.exit_code == 0 and listing.stderr == ""
    assert listing.stdout == (
        "[\n"
        "  {\n"
        '    "email": "b@ilo.example.org",\n'
        '    "name": "Bob",\n'
        '    "organisation": "",\n'
        '    "status": "unsubscribed",\n'
        '    "listed": false\n'
        "  },\n"
        "  {\n"
        '    "email": "a@who.example.org",\n'
        '    "name": "Zoë Ann",\n'
        '    "organisation": "WHO",\n'
        '    "status": "subscribed",\n'
        '    "listed": true\n'
        "  }\n"
        "]\n"
    )
    assert cli(project, "contacts", "list", "--org", "UNICEF", "--json").stdout == "[]\n"

    shown = cli(project, "contacts", "show", "B@ILO.example.org", "--json")
    found = json.loads(shown.stdout)
    created, updated = found.pop("created_at"), found.pop("updated_at")
    history = found.pop("history")
    assert found == {
        "email": "b@ilo.example.org",
        "name": "Bob",
        "organisation": "",
        "job_title": "",
        "country": "",
        "city": "",
        "phone": "",
        "topics": "",
        "listed": False,
        "status": "unsubscribed",
        "source": "manual",
    }
    assert [h.pop("at") for h in history] == [created, updated]
    assert history == [
        {
            "source": "manual",
            "actor": "editor",
            "field": "created",
            "old": None,
            "new": "b@ilo.example.org",
        },
        {
            "source": "manual",
            "actor": "editor",
            "field": "status",
            "old": "subscribed",
            "new": "unsubscribed",
        },
    ]
    assert shown.stdout.startswith('{\n  "email": "b@ilo.example.org",\n  "name": "Bob",\n')
    assert shown.stdout.endswith("\n    }\n  ]\n}\n")
