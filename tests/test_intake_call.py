"""newsletter.intake.call: `call ID --deadline DATE` asks each listed focal point once, with
their own contribution form, through the same run, ledger and senders as an issue;
`call ID --reminder` goes only to the organisations that have sent nothing yet."""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import re
import signal
import time
from email.message import EmailMessage

import pytest
from helpers import SECRET, cli, make_issue, parse, set_status, smtp_args, state, suppress, unharmed

from newsletter.contacts import add_contact
from newsletter.store import open_db
from newsletter.store.calls import call_of, record_call
from newsletter.store.contacts import get_contact
from newsletter.store.intake import Taken, record_taken
from newsletter.tokens import ENTRY, MEMBERS, SUBMIT, read_link_token

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
DEADLINE = "2030-01-15"
WRITTEN = "Tuesday 15 January 2030"


@pytest.fixture
def focal(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n" + SETTINGS)
    make_issue(project, "2027-Q1")
    db = open_db(project / "contacts.db")
    for n, (email, org, _) in enumerate(PEOPLE):
        add_contact(db, {"email": email, "name": f"Person {n}", "organisation": org})
    db.execute("UPDATE contacts SET listed = 0 WHERE email = 'gus@fao.org'")
    db.conn.close()
    for email, _, fate in PEOPLE:
        if fate == "suppressed":
            suppress(project, email)
        elif fate and fate != "unlisted":
            set_status(project, email, fate)
    return project


def send_call(root, port, *extra):
    return cli(root, "call", "2027-Q1", "--yes", *smtp_args(port), *extra)


def parts(data: bytes) -> tuple[str, str]:
    msg = parse(data)
    text = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    return text, msg.get_body(preferencelist=("html",)).get_content()


def contributed(root, *organisations: str) -> None:
    db = open_db(root / "contacts.db")
    rows = [
        Taken(f"<{n}@x>", "2027-Q1", f"item-{n}.md", org) for n, org in enumerate(organisations)
    ]
    record_taken(db, rows, "2026-12-01T00:00:00Z")
    db.conn.commit()
    db.conn.close()


def test_the_call_reaches_each_listed_focal_point_once_with_their_own_form(focal, smtp):
    result = send_call(focal, smtp.port, "--deadline", DEADLINE)
    assert result.exit_code == 0, result.output
    assert "call-2027-Q1 via smtp: 3 to send." in result.output
    assert "Sent 3 via smtp; 0 failed, 0 uncertain, 0 skipped." in result.output
    assert sorted(smtp.per_recipient().items()) == [(a, 1) for a in sorted(ASKED)]
    db = open_db(focal / "contacts.db")
    for message in smtp.messages:
        (address,) = message.rcpt_tos
        contact = get_contact(db, address)
        assert parse(message.data)["Subject"] == (
            f"The UN-Business Focal Point: send us your news by {WRITTEN}"
        )
        text, html = parts(message.data)
        assert f"Dear {contact.name},\n" in text
        assert "We are gathering news for issue 7 (Test issue) of The UN-Business" in text
        assert f"\nDeadline: {WRITTEN}\n" in text
        assert "\n- News\n- Tools & resources\n- Events & training\n" in text
        assert "<strong>Tools &amp; resources</strong>" in html
        assert "Or email it" not in text  # no contributions_address in the settings
        for part in (text, html):
            (token,) = set(re.findall(r"/submit/([A-Za-z0-9_.-]+)", part))
            link = read_link_token(SECRET.encode(), SUBMIT, token, time.time())
            assert link is not None and link.contact_id == contact.id
            for other in (ENTRY, MEMBERS):  # scoped to the form: no other page takes it
                assert read_link_token(SECRET.encode(), other, token, time.time()) is None
    recorded = call_of(db, "2027-Q1", "smtp")
    assert recorded is not None and recorded.deadline == dt.date(2030, 1, 15)
    db.conn.close()
    status = cli(focal, "status", "call-2027-Q1")
    assert "issues/call-2027-Q1 via smtp: 3 recipients" in status.output
    assert re.search(r"sent\s+3\n", status.output)


def test_a_second_call_sends_nothing_and_says_so(focal, smtp):
    assert send_call(focal, smtp.port, "--deadline", DEADLINE).exit_code == 0
    again = send_call(focal, smtp.port, "--deadline", "15 January 2030")
    assert again.exit_code == 0, again.output
    assert again.output == (
        "call-2027-Q1 via smtp: nothing to send. See: newsletter status call-2027-Q1\n"
    )
    assert len(smtp.messages) == 3


def test_a_call_keeps_its_deadline(focal, smtp):
    assert send_call(focal, smtp.port, "--deadline", DEADLINE).exit_code == 0
    moved = send_call(focal, smtp.port, "--deadline", "2030-02-01")
    assert moved.exit_code == 1
    assert moved.output == (
        "Error: The call for 2027-Q1 went out via smtp with the deadline Tuesday 15 January "
        "2030; a call keeps its deadline. Run it with --deadline 2030-01-15 to reach those "
        "who do not have it yet.\n"
    )
    assert len(smtp.messages) == 3


def test_the_settings_add_the_email_route_and_what_goes_in_each_section(focal, smtp):
    path = focal / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        '{ key = "events", title = "Events & training" }',
        '{ key = "events", title = "Events & training", description = "Webinars, courses" }',
    )
    text = text.replace(
        'reply_to = "partnerships@example.org"\n',
        'reply_to = "partnerships@example.org"\ncontributions_address = "news@example.org"\n',
    )
    path.write_text(text, encoding="utf-8")
    assert send_call(focal, smtp.port, "--deadline", DEADLINE).exit_code == 0
    text, html = parts(smtp.messages[0].data)
    assert "\n- Events & training: Webinars, courses\n" in text
    assert "Or email it to news@example.org: the subject as the title," in text
    assert "<strong>Events &amp; training</strong>: Webinars, courses</li>" in html
    assert '<a href="mailto:news@example.org">news@example.org</a>' in html


def test_an_interrupted_call_resumes_with_exactly_the_rest(focal, smtp):
    accept = smtp.handler.handle_DATA

    async def interrupt_at_the_first(server, session, envelope):
        if not smtp.messages:  # Ctrl-C while the first message is being handed over
            os.kill(os.getpid(), signal.SIGINT)
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = interrupt_at_the_first
    stopped = send_call(focal, smtp.port, "--deadline", DEADLINE)
    assert stopped.exit_code == 130, stopped.output
    assert "Stopped; 2 still queued. Run the same command to continue." in stopped.output
    smtp.handler.handle_DATA = accept
    resumed = send_call(focal, smtp.port, "--deadline", DEADLINE)
    assert resumed.exit_code == 0, resumed.output
    assert "call-2027-Q1 via smtp: 2 to send (2 left by a stopped run)." in resumed.output
    assert sorted(smtp.per_recipient().items()) == [(a, 1) for a in sorted(ASKED)]


def test_the_reminder_goes_only_to_the_silent_organisations_once_a_day(focal, smtp):
    assert send_call(focal, smtp.port, "--deadline", DEADLINE).exit_code == 0
    contributed(focal, "who", "")  # case as the form wrote it; "" an unverified sender
    reminded = send_call(focal, smtp.port, "--reminder")
    assert reminded.exit_code == 0, reminded.output
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"call-2027-Q1-reminder-{today} via smtp: 2 to send." in reminded.output
    later = smtp.messages[3:]
    assert sorted(m.rcpt_tos[0] for m in later) == ["bob@ilo.org", "cy@unep.org"]
    db = open_db(focal / "contacts.db")
    for message in later:
        contact = get_contact(db, message.rcpt_tos[0])
        assert parse(message.data)["Subject"] == (
            f"Reminder: your news for The UN-Business Focal Point by {WRITTEN}"
        )
        text, _ = parts(message.data)
        assert f"we have nothing from {contact.organisation} yet" in " ".join(text.split())
        assert f"\nDeadline: {WRITTEN}\n" in text
        (token,) = re.findall(r"/submit/([A-Za-z0-9_.-]+)", text)
        link = read_link_token(SECRET.encode(), SUBMIT, token, time.time())
        assert link is not None and link.contact_id == contact.id
    db.conn.close()
    again = send_call(focal, smtp.port, "--reminder")
    assert again.exit_code == 0 and "nothing to send" in again.output
    assert len(smtp.messages) == 5


def test_a_contribution_taken_in_by_email_silences_the_reminder(focal, smtp):
    assert send_call(focal, smtp.port, "--deadline", DEADLINE).exit_code == 0
    box = mailbox.Maildir(focal / "Maildir", create=True)
    msg = EmailMessage()
    msg["From"], msg["To"] = "Person 1 <bob@ilo.org>", "news@example.org"
    msg["Subject"], msg["Message-ID"] = "A toolkit on decent work", "<t1@ilo.org>"
    msg.set_content("Our new toolkit: https://www.ilo.org/toolkit\n")
    box.add(msg)
    taken = cli(focal, "intake", "2027-Q1", str(focal / "Maildir"))
    assert taken.exit_code == 0 and "from ILO (Person 1)" in taken.output, taken.output
    assert send_call(focal, smtp.port, "--reminder").exit_code == 0
    assert sorted(m.rcpt_tos[0] for m in smtp.messages[3:]) == ["ann@who.int", "cy@unep.org"]


def test_a_reminder_on_a_later_day_goes_again_to_those_still_silent(focal, smtp):
    assert send_call(focal, smtp.port, "--deadline", DEADLINE).exit_code == 0
    db = open_db(focal / "contacts.db")
    from newsletter.store import ledger

    ids = [get_contact(db, a).id for a in ASKED]
    ledger.snapshot(db, "call-2027-Q1-reminder-2026-01-01", "smtp", "r", "example.org", ids)
    db.execute("UPDATE deliveries SET status = 'sent' WHERE issue LIKE '%reminder%'")  # it went
    db.conn.close()
    contributed(focal, "UNEP")
    reminded = send_call(focal, smtp.port, "--reminder")
    assert reminded.exit_code == 0, reminded.output
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert f"call-2027-Q1-reminder-{today} via smtp: 2 to send." in reminded.output
    assert sorted(m.rcpt_tos[0] for m in smtp.messages[3:]) == ["ann@who.int", "bob@ilo.org"]


def test_a_reminder_past_the_deadline_says_late_news_is_welcome(focal, smtp):
    db = open_db(focal / "contacts.db")
    record_call(db, "2027-Q1", "smtp", dt.date(2026, 1, 9), "2025-12-01T00:00:00Z")
    db.conn.close()
    result = send_call(focal, smtp.port, "--reminder")
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 3
    assert parse(smtp.messages[0].data)["Subject"] == (
        "The UN-Business Focal Point: late news is still welcome"
    )
    text, html = parts(smtp.messages[0].data)
    assert "The deadline has passed; late contributions are still welcome." in " ".join(
        text.split()
    )
    assert "Deadline: Friday 9 January 2026\n" in text
    assert "late contributions are still welcome" in html


def test_a_reminder_before_any_call_is_one_line(focal, smtp):
    result = unharmed(focal, "call", "2027-Q1", "--reminder", *smtp_args(smtp.port))
    assert result.exit_code == 1
    assert result.output == (
        "Error: No call for 2027-Q1 was sent via smtp; run newsletter call 2027-Q1 "
        "--deadline DATE --sender smtp first.\n"
    )
    assert smtp.messages == []


@pytest.mark.parametrize(
    "deadline,expected",
    [
        (
            "2027-02-30",
            "--deadline '2027-02-30': not a date. Write it as 2027-01-15 or 15 January 2027.",
        ),
        (
            "next week",
            "--deadline 'next week': not a date. Write it as 2027-01-15 or 15 January 2027.",
        ),
        (
            "2020-01-15",
            "--deadline 2020-01-15: that day has passed (today is {today}, UTC). "
            "Give today or a later day.",
        ),
    ],
)
def test_a_bad_deadline_is_one_line(focal, deadline, expected):
    result = unharmed(focal, "call", "2027-Q1", "--deadline", deadline)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == "Error: " + expected.format(today=today)


@pytest.mark.parametrize("args", [[], ["--reminder", "--deadline", DEADLINE]])
def test_the_call_or_the_reminder_not_both(focal, args):
    result = unharmed(focal, "call", "2027-Q1", *args)
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "Error: give --deadline DATE for the call, or --reminder after it; not both."
    )


def test_the_issue_folder_must_exist(focal):
    result = unharmed(focal, "call", "2027-Q2", "--deadline", DEADLINE)
    assert result.exit_code == 1
    assert result.output == (
        "Error: issues/2027-Q2: no such issue folder. Create it with: newsletter new 2027-Q2\n"
    )


def test_an_id_too_long_for_the_ledger_key_is_one_line(focal):
    make_issue(focal, "x" * 40)
    result = unharmed(focal, "call", "x" * 40, "--deadline", DEADLINE)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: issues/{'x' * 40}: a call needs an issue ID of at most 39 characters, for its "
        "ledger key call-ID-reminder-YYYY-MM-DD. Use a shorter ID.\n"
    )


def test_the_dry_run_shows_who_and_changes_nothing(focal):
    before = state(focal)
    result = unharmed(focal, "call", "2027-Q1", "--deadline", DEADLINE, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:4] == [
        "call-2027-Q1 via outbox: 3 to send.",
        "  Person 0 <ann@who.int> (WHO)",
        "  Person 1 <bob@ilo.org> (ILO)",
        "  Person 2 <cy@unep.org> (UNEP)",
    ]
    assert f"Deadline: {WRITTEN}" in result.output
    assert "https://focalpoint.example.org/submit/" in result.output
    assert state(focal) == before
    assert not (focal / "mailings").exists()


def test_the_outbox_rehearsal_neither_blocks_nor_fixes_the_real_call(focal, smtp):
    rehearsed = cli(focal, "call", "2027-Q1", "--yes", "--deadline", DEADLINE)
    assert rehearsed.exit_code == 0, rehearsed.output
    assert len(list((focal / "mailings" / "call-2027-Q1" / "outbox").glob("*.eml"))) == 3
    real = send_call(focal, smtp.port, "--deadline", "2030-02-01")
    assert real.exit_code == 0, real.output
    assert len(smtp.messages) == 3


@pytest.mark.parametrize(
    "reminder,late", [(False, False), (True, False), (True, True)], ids=["call", "reminder", "late"]
)
def test_each_email_passes_the_build_s_audit(project, reminder, late):
    from newsletter.build.render import small_mail
    from newsletter.build.report import audit
    from newsletter.config import load_settings
    from newsletter.intake.call import TEMPLATE, Section

    ctx = {
        "subject": "s",
        "issue": "issue 7 (Test issue)",
        "deadline": WRITTEN,
        "reminder": reminder,
        "late": late,
        "sections": [Section("News", "What happened"), Section("Events", "")],
    }
    text, html = small_mail(load_settings(project), project / "mailings" / "c", TEMPLATE, ctx)
    assert audit(html) == []
    assert "%%SUBMIT_URL%%" in text and 'href="%%SUBMIT_URL%%"' in html
    assert all(len(line) <= 78 for line in text.splitlines() if "%%" not in line)


def test_a_call_that_reached_no_one_may_take_another_deadline(focal, smtp):
    for address in ASKED:  # the server refuses every message: nothing went
        smtp.fail(address, "554 5.7.1 Refused", stage="rcpt")
    failed = send_call(focal, smtp.port, "--deadline", DEADLINE)
    assert "Sent 0 via smtp; 3 failed" in failed.output, failed.output
    db = open_db(focal / "contacts.db")
    db.execute("UPDATE deliveries SET status = 'queued'")  # as `send --retry failed` would
    db.conn.commit()
    db.conn.close()
    moved = send_call(focal, smtp.port, "--deadline", "2030-02-01")
    assert moved.exit_code == 0, moved.output
    assert len(smtp.messages) == 3
    text, _ = parts(smtp.messages[0].data)
    assert "\nDeadline: Friday 1 February 2030\n" in text
    db = open_db(focal / "contacts.db")
    assert call_of(db, "2027-Q1", "smtp").deadline == dt.date(2030, 2, 1)
    db.conn.close()


def test_a_reminder_left_unfinished_is_resumed_first(focal, smtp):
    assert send_call(focal, smtp.port, "--deadline", DEADLINE).exit_code == 0
    db = open_db(focal / "contacts.db")
    from newsletter.store import ledger

    ann = get_contact(db, "ann@who.int").id
    ledger.snapshot(db, "call-2027-Q1-reminder-2026-01-01", "smtp", "r", "example.org", [ann])
    db.conn.close()
    contributed(focal, "UNEP")
    result = send_call(focal, smtp.port, "--reminder")
    assert result.exit_code == 0, result.output
    assert (
        "call-2027-Q1-reminder-2026-01-01 via smtp: 2 to send (1 left by a stopped run)."
        in result.output
    )
    assert sorted(m.rcpt_tos[0] for m in smtp.messages[3:]) == ["ann@who.int", "bob@ilo.org"]
