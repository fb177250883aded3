"""newsletter.directory.welcome: a successor an approved proposal added is welcomed once,
with the latest issue and their own entry link, through the same run and ledger as an issue."""

from __future__ import annotations

import json
import time

import pytest
from helpers import SECRET, built, cli, parse, set_status, smtp_args, state, unharmed

from newsletter.config import load_settings
from newsletter.contacts import add_contact
from newsletter.directory import welcome
from newsletter.store import ledger, open_db
from newsletter.store.contacts import get_contact
from newsletter.tokens import ENTRY, read_link_token

SETTINGS = "[tool.newsletter.send]\nretry_delay = 0.01\n"


@pytest.fixture
def added(project, monkeypatch):
    """A built issue; Ann added by hand; Zed and Quinn added by approved proposals, Quinn
    since unsubscribed."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings=SETTINGS)
    db = open_db(project / "contacts.db")
    add_contact(db, {"email": "ann@who.int", "name": "Ann Lee", "organisation": "WHO"})
    for email, name, proposal in (("zed@who.int", "Zed Roe", 4), ("quinn@ilo.org", "Quinn", 5)):
        raw = {"email": email, "name": name, "organisation": email.split("@")[1][:3].upper()}
        add_contact(db, raw, source=f"proposal:{proposal}")
    db.conn.close()
    set_status(project, "quinn@ilo.org", "unsubscribed")
    return project


def send_welcome(root, port, *extra):
    return cli(root, "directory", "welcome", "--yes", *smtp_args(port), *extra)


def test_the_successor_is_welcomed_once_with_the_latest_issue_and_their_link(added, smtp):
    result = send_welcome(added, smtp.port)
    assert result.exit_code == 0, result.output
    assert "welcome via smtp: 1 to send." in result.output
    assert smtp.per_recipient() == {"zed@who.int": 1}
    msg = parse(smtp.messages[0].data)
    assert msg["Subject"] == "Welcome to The UN-Business Focal Point"
    text = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Dear Zed Roe," in text and "for\nWHO." in text
    assert "https://focalpoint.example.org/2026-Q4/" in text
    assert '<a href="https://focalpoint.example.org/2026-Q4/">Issue 7: Test issue</a>' in html
    for n in range(1, 5):
        assert f"- Item number {n}\n" in text and f"<li>Item number {n}</li>" in html
    db = open_db(added / "contacts.db")
    zed = get_contact(db, "zed@who.int").id
    db.conn.close()
    for part in (text, html):
        token = part.split("/entry/")[1].split()[0].split('"')[0]
        link = read_link_token(SECRET.encode(), ENTRY, token, time.time())
        assert link is not None and link.contact_id == zed
    again = send_welcome(added, smtp.port)
    assert again.exit_code == 0 and "welcome via smtp: nothing to send." in again.output
    assert len(smtp.messages) == 1


def test_the_stage_after_approve_welcomes_only_those_named_once(added, smtp):
    db = open_db(added / "contacts.db")
    settings = load_settings(added)
    zed = get_contact(db, "zed@who.int").id
    options = dict(a.split("=", 1) for a in smtp_args(smtp.port)[3::2])
    tally = welcome(settings, db, only=[zed + 100], sender="smtp", options=options)
    assert tally is None and not smtp.messages  # nobody of those named is pending
    tally = welcome(settings, db, only=[zed], sender="smtp", options=options)
    assert tally is not None and tally.sent == 1
    assert welcome(settings, db, only=[zed], sender="smtp", options=options) is None
    rows = [r for r in ledger.rows(db, "welcome", "smtp", ("sent",))]
    assert [r.contact_id for r in rows] == [zed]
    db.conn.close()
    assert smtp.per_recipient() == {"zed@who.int": 1}


def test_the_latest_sent_issue_comes_before_a_later_build(added, smtp):
    built(added, "2027-Q1")  # built later, never sent
    db = open_db(added / "contacts.db")
    ann = get_contact(db, "ann@who.int").id
    ledger.snapshot(db, "2026-Q4", "smtp", "2026-Q4", "example.org")
    for row in ledger.queued(db, "2026-Q4", "smtp", 0, 10):
        with db.atomic():
            ledger.mark_done(db, row.id, "sent", None, "250 ok", "2026-12-15T10:00:00+00:00")
    db.conn.close()
    assert ann
    assert send_welcome(added, smtp.port).exit_code == 0
    text = parse(smtp.messages[0].data).get_body(preferencelist=("plain",)).get_content()
    assert "focalpoint.example.org/2026-Q4/" in text and "2027-Q1" not in text


def test_without_any_issue_the_welcome_still_goes(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    db = open_db(project / "contacts.db")
    add_contact(db, {"email": "zed@who.int", "name": "Zed", "organisation": "WHO"}, "proposal:1")
    db.conn.close()
    result = send_welcome(project, smtp.port)
    assert result.exit_code == 0, result.output
    text = parse(smtp.messages[0].data).get_body(preferencelist=("plain",)).get_content()
    assert "latest issue" not in text and "/entry/" in text


def test_the_dry_run_shows_who_and_changes_nothing(added):
    before = state(added)
    result = unharmed(added, "directory", "welcome", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "welcome via outbox: 1 to send.",
        "  Zed Roe <zed@who.int> (WHO)",
    ]
    assert state(added) == before and not (added / "mailings").exists()


@pytest.mark.parametrize("command", ["welcome", "round"])
def test_a_project_without_issues_or_contacts_is_no_traceback(project, command):
    (project / "issues").rmdir()
    result = unharmed(project, "directory", command, "--dry-run")
    assert result.exit_code == 0, result.output
    key = "welcome" if command == "welcome" else "round-" + time.strftime("%Y-%m-%d", time.gmtime())
    assert f"\n{key} via outbox: 0 to send.\n" in result.output


def _smtp_settings(port: int) -> str:
    return (
        '[tool.newsletter.send]\nsender = "smtp"\nretry_delay = 0.01\n'
        "[tool.newsletter.senders.smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
    )


def _departure(project):
    cli(project, "contacts", "add", "cat@unicef.org", "--name", "Cat Ng", "--org", "UNICEF")
    db = open_db(project / "contacts.db")
    cat = get_contact(db, "cat@unicef.org").id
    fields = {"successor_email": "dan@unicef.org", "successor_name": "Dan Oh"}
    from newsletter.directory import propose

    pid = propose(db, "left", "self-service", cat, fields=fields, proposed_by=cat)
    db.conn.close()
    return pid


def test_approving_a_departure_welcomes_the_successor_at_once(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings=_smtp_settings(smtp.port))
    pid = _departure(project)
    result = cli(project, "directory", "approve", str(pid))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"#{pid} approved: left.",
        "Welcomed 1 successor with the latest issue and their entry link.",
    ]
    assert smtp.per_recipient() == {"dan@unicef.org": 1}
    msg = parse(smtp.messages[0].data)
    assert msg["Subject"] == "Welcome to The UN-Business Focal Point"
    assert cli(project, "directory", "welcome", "--yes").stdout.startswith(
        "welcome via smtp: nothing to send."
    )


def test_a_welcome_that_cannot_go_keeps_the_approval_and_says_how_to_send_it(
    project, smtp, monkeypatch
):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    built(project, settings=_smtp_settings(smtp.port))
    pid = _departure(project)
    result = cli(project, "directory", "approve", str(pid), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["approved"] == [pid]
    assert json.loads(result.stdout)["welcomed"] == 0
    assert "Send it with: newsletter directory welcome" in result.stderr
    assert "NEWSLETTER_SECRET" in result.stderr
    assert not smtp.messages
    db = open_db(project / "contacts.db")
    assert get_contact(db, "dan@unicef.org").status == "subscribed"
    assert get_contact(db, "cat@unicef.org").status == "left"
    db.conn.close()
