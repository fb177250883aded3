"""newsletter.directory.round: `directory round` asks each listed focal point, once, through
the same run, ledger and senders as an issue; resumable; a dry run changes nothing."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from helpers import SECRET, built, cli, parse, set_status, smtp_args, state, suppress, unharmed

from newsletter.contacts import add_contact
from newsletter.store import open_db
from newsletter.store.contacts import get_contact
from newsletter.tokens import ENTRY, read_link_token

SETTINGS = "[tool.newsletter.send]\nretry_delay = 0.01\nconcurrency = 1\n"
PEOPLE = [  # email, organisation, what becomes of them
    ("ann@who.int", "WHO", ""),
    ("bob@ilo.org", "ILO", ""),
    ("cy@unep.org", "UNEP", ""),
    ("dee@unicef.org", "UNICEF", "unsubscribed"),
    ("eve@wfp.org", "WFP", "bounced"),
    ("fay@undp.org", "UNDP", "left"),
    ("gus@fao.org", "FAO", "unlisted"),
    ("hal@unido.org", "UNIDO", "suppressed"),
    ("ivy@example.org", "", ""),  # no organisation: no seat, not a focal point
]
ASKED = ["ann@who.int", "bob@ilo.org", "cy@unep.org"]


@pytest.fixture
def focal(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings=SETTINGS)
    db = open_db(project / "contacts.db")
    for n, (email, org, _) in enumerate(PEOPLE):
        raw = {"email": email, "name": f"Person {n}", "organisation": org, "city": "Geneva"}
        raw.update(job_title="Partnerships Officer", phone="022 791 21 11", country="CH")
        add_contact(db, raw)
    db.conn.close()
    for email, _, fate in PEOPLE:
        if fate == "suppressed":
            suppress(project, email)
        elif fate == "unlisted":
            db = open_db(project / "contacts.db")
            db.execute("UPDATE contacts SET listed = 0 WHERE email = ?", [email])
            db.conn.close()
        elif fate:
            set_status(project, email, fate)
    return project


def send_round(root, port, *extra):
    return cli(root, "directory", "round", "--yes", *smtp_args(port), *extra)


def test_each_listed_focal_point_gets_exactly_one_with_their_entry(focal, smtp):
    result = send_round(focal, smtp.port)
    assert result.exit_code == 0, result.output
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"round-{today} via smtp: 3 to send." in result.output
    assert "Sent 3 via smtp; 0 failed, 0 uncertain, 0 skipped." in result.output
    assert sorted(smtp.per_recipient().items()) == [(a, 1) for a in sorted(ASKED)]
    db = open_db(focal / "contacts.db")
    for message in smtp.messages:
        (address,) = message.rcpt_tos
        contact = get_contact(db, address)
        msg = parse(message.data)
        assert msg["Subject"] == (
            "The UN-Business Focal Point: is your entry in the focal-point directory still right?"
        )
        text = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
        html = msg.get_body(preferencelist=("html",)).get_content()
        assert (
            f"Name: {contact.name}\nTitle: Partnerships Officer\n"
            f"Organisation: {contact.organisation}\nPhone: +41 22 791 21 11\nCity: Geneva\n"
            f"Email: {address}\n"
        ) in text
        assert f"<td>{contact.organisation}</td>" in html
        for part in (text, html):
            (token,) = set(re.findall(r"/entry/([A-Za-z0-9_.-]+)", part))
            link = read_link_token(SECRET.encode(), ENTRY, token, time.time())
            assert link is not None and link.contact_id == contact.id
    db.conn.close()
    status = cli(focal, "status", f"round-{today}")
    assert f"issues/round-{today} via smtp: 3 recipients" in status.output
    assert re.search(r"sent\s+3\n", status.output)


def test_a_second_run_sends_nothing(focal, smtp):
    assert send_round(focal, smtp.port).exit_code == 0
    again = send_round(focal, smtp.port)
    assert again.exit_code == 0, again.output
    assert "nothing to send" in again.output
    assert len(smtp.messages) == 3


def test_a_run_stopped_by_the_server_resumes_with_exactly_the_rest(focal, smtp):
    accept = smtp.handler.handle_DATA

    async def interrupt_at_the_first(server, session, envelope):
        if not smtp.messages:  # Ctrl-C while the first message is being handed over
            os.kill(os.getpid(), signal.SIGINT)
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = interrupt_at_the_first
    stopped = send_round(focal, smtp.port)
    assert stopped.exit_code == 130, stopped.output
    assert "Stopped; 2 still queued. Run the same command to continue." in stopped.output
    smtp.handler.handle_DATA = accept
    assert [m.rcpt_tos for m in smtp.messages] == [("ann@who.int",)]
    resumed = send_round(focal, smtp.port)
    assert resumed.exit_code == 0, resumed.output
    assert sorted(smtp.per_recipient().items()) == [(a, 1) for a in sorted(ASKED)]
    assert "Sent 2 via smtp" in resumed.output


def test_a_round_left_unfinished_is_resumed_on_a_later_day(focal, smtp):
    db = open_db(focal / "contacts.db")
    from newsletter.store import ledger

    ann = get_contact(db, "ann@who.int").id
    ledger.snapshot(db, "round-2020-01-01", "smtp", "round-2020-01-01", "example.org", [ann])
    db.conn.close()
    result = send_round(focal, smtp.port)
    assert "round-2020-01-01 via smtp: 3 to send (1 left by a stopped run)." in result.output
    assert sorted(smtp.per_recipient().items()) == [(a, 1) for a in sorted(ASKED)]


def test_the_dry_run_shows_who_and_changes_nothing(focal):
    before = state(focal)
    result = unharmed(focal, "directory", "round", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert lines[:4] == [
        f"round-{today} via outbox: 3 to send.",
        "  Person 0 <ann@who.int> (WHO)",
        "  Person 1 <bob@ilo.org> (ILO)",
        "  Person 2 <cy@unep.org> (UNEP)",
    ]
    assert "Dry run: nothing written or sent. Sample message to ann@who.int" in result.output
    assert "Check your entry:" in result.output and "Phone: +41 22 791 21 11" in result.output
    assert state(focal) == before
    assert not (focal / "mailings").exists()


def test_a_test_send_is_not_recorded(focal, smtp):
    result = cli(focal, "directory", "round", "--to", "me@example.org", *smtp_args(smtp.port))
    assert result.exit_code == 0, result.output
    assert "Test to me@example.org: sent" in result.output
    assert parse(smtp.messages[0].data)["Subject"].startswith("[TEST] ")
    assert send_round(focal, smtp.port).exit_code == 0
    assert len(smtp.messages) == 4


def test_the_latest_issue_s_templates_come_before_the_house_s(focal, smtp):
    (focal / "issues" / "2026-Q4" / "templates").mkdir()
    (focal / "issues" / "2026-Q4" / "templates" / "directory_round.txt.j2").write_text(
        "Hello {{ placeholders.name }}, {{ placeholders.entry_url }}\n", encoding="utf-8"
    )
    assert send_round(focal, smtp.port).exit_code == 0
    text = parse(smtp.messages[0].data).get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Hello Person 0,\r\nhttps://focalpoint.example.org/entry/")
    html = parse(smtp.messages[0].data).get_body(preferencelist=("html",)).get_content()
    assert "Is your entry still right?" in html  # the house's HTML part


def test_an_undefined_name_in_a_template_is_one_line(focal):
    (focal / "templates" / "directory_round.txt.j2").write_text("{{ nope }}\n", encoding="utf-8")
    result = unharmed(focal, "directory", "round", "--dry-run")
    assert result.exit_code == 1
    assert "directory_round.txt.j2" in result.output and "nope" in result.output


def test_to_and_dry_run_together_are_a_usage_error(focal):
    result = unharmed(focal, "directory", "round", "--to", "me@example.org", "--dry-run")
    assert result.exit_code == 2 and "--to and --dry-run: use one or the other." in result.output
