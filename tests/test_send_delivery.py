"""newsletter.send.delivery: the send run: once per recipient, consent rechecked, retries, resumes."""

from __future__ import annotations

import asyncio
import mailbox
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import (
    SECRET,
    add_contacts,
    built,
    cli,
    ledger_rows,
    outbox,
    parse,
    send_process,
    set_status,
    smtp_send,
    suppress,
)

from newsletter.send import delivery
from newsletter.send.preflight import DEV_SECRET
from newsletter.store import journal, ledger, open_db
from newsletter.tokens import read_token


def test_send_fills_the_outbox_on_a_fresh_clone(outbox_ready):
    result = cli(outbox_ready, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    assert "NEWSLETTER_SECRET is not set; the outbox uses the development secret" in result.output
    assert "Sent 5 via outbox" in result.output
    files = outbox(outbox_ready)
    assert [f.name for f in files] == [f"person{n}@example.org.eml" for n in range(5)]
    msg = parse(files[0].read_bytes())
    token = msg["List-Unsubscribe"].split("/unsubscribe/")[1].split(">")[0]
    assert read_token(DEV_SECRET, token) == (1, "2026-Q4")
    assert {r["status"] for r in ledger_rows(outbox_ready)} == {"sent"}
    again = cli(outbox_ready, "send", "2026-Q4", "--yes")
    assert again.exit_code == 0 and "Nothing to send." in again.output


def test_unsubscribed_bounced_left_and_suppressed_are_never_mailed(project):
    built(project)
    add_contacts(project, 8)
    set_status(project, "person1@example.org", "unsubscribed")
    suppress(project, "person2@example.org")
    # A snapshot taken before the changes below: they must still be honoured.
    db = open_db(project / "contacts.db")
    assert ledger.snapshot(db, "2026-Q4", "outbox", "2026-Q4", "example.org") == 7
    db.conn.close()
    set_status(project, "person3@example.org", "bounced")
    set_status(project, "person4@example.org", "left")
    suppress(project, "Person5@Example.org")
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    assert "Sent 3 via outbox" in result.output and "4 skipped" in result.output
    names = [f.name for f in outbox(project)]
    assert names == [f"person{n}@example.org.eml" for n in (0, 6, 7)]
    reasons = {
        r["email"]: r["last_error"] for r in ledger_rows(project) if r["status"] == "skipped"
    }
    assert reasons == {
        "person2@example.org": "the address is on the suppression list",
        "person3@example.org": "the contact is bounced",
        "person4@example.org": "the contact is left",
        "person5@example.org": "the address is on the suppression list",
    }


def test_retries_give_up_after_max_attempts(smtp_ready, smtp):
    smtp.fail("person3@example.org", "451 4.7.1 Greylisted", times=10)
    smtp_send(smtp_ready, smtp.port)
    row = {r["email"]: r for r in ledger_rows(smtp_ready)}["person3@example.org"]
    assert row["status"] == "failed" and row["attempts"] == 5
    assert row["last_error"] == "gave up after 5 attempts: 451 4.7.1 Greylisted"
    # --retry-failed queues it again, with a full set of attempts for this run:
    # the greylisting lasts three more tries.
    smtp.handler.faults.clear()
    smtp.fail("person3@example.org", "451 4.7.1 Greylisted", times=3)
    again = smtp_send(smtp_ready, smtp.port, "--retry-failed")
    assert again.exit_code == 0 and "Sent 1 via smtp" in again.output, again.output
    assert smtp.per_recipient()["person3@example.org"] == 1
    row = {r["email"]: r for r in ledger_rows(smtp_ready)}["person3@example.org"]
    assert row["status"] == "sent" and row["attempts"] == 9


def test_too_many_failures_in_a_row_pause_the_run(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings="[tool.newsletter.send]\nmax_consecutive_failures = 3\n")
    add_contacts(project, 12)
    for n in range(12):
        smtp.fail(f"person{n}@example.org", "554 5.7.1 Relay access denied")
    paused = smtp_send(project, smtp.port, "--concurrency", "1")
    assert paused.exit_code == 1
    assert "paused after 3 failures in a row; the last: 554 5.7.1 Relay access denied" in (
        paused.output
    )
    assert "(9 still queued)" in paused.output and not smtp.messages
    smtp.handler.faults.clear()  # the relay is fixed: the same command continues
    resumed = smtp_send(project, smtp.port)
    assert resumed.exit_code == 0 and "Sent 9 via smtp" in resumed.output, resumed.output
    assert "3 failed are left alone" in resumed.output


def test_rehearsal_and_real_send_have_separate_ledgers(smtp_ready, smtp):
    rehearsal = cli(smtp_ready, "send", "2026-Q4", "--yes")
    assert rehearsal.exit_code == 0 and "Sent 12 via outbox" in rehearsal.output
    real = smtp_send(smtp_ready, smtp.port)
    assert real.exit_code == 0 and "Sent 12 via smtp" in real.output, real.output
    assert len(smtp.messages) == 12
    status = cli(smtp_ready, "status", "2026-Q4").output
    assert "via outbox: 12 recipients" in status and "via smtp: 12 recipients" in status


def test_consent_is_checked_again_just_before_each_message(smtp_ready, smtp):
    accept = smtp.handler.handle_DATA

    async def first_message_changes_two_contacts(server, session, envelope):
        if not smtp.messages:  # mid-send, long after the snapshot
            set_status(smtp_ready, "person8@example.org", "unsubscribed")
            suppress(smtp_ready, "person9@example.org")
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = first_message_changes_two_contacts
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert "Sent 10 via smtp" in result.output and "2 skipped" in result.output
    assert sorted(smtp.per_recipient()) == sorted(
        f"person{n}@example.org" for n in range(12) if n not in (8, 9)
    )


def test_an_unsubscribe_recorded_in_the_journal_mid_send_is_honoured(smtp_ready, smtp, monkeypatch):
    """The web app journals a request it cannot write while the send holds the database."""
    monkeypatch.setattr(delivery, "JOURNAL_EVERY", 0.0)
    db_path = smtp_ready / "contacts.db"
    accept = smtp.handler.handle_DATA

    async def first_message_journals_one(server, session, envelope):
        if not smtp.messages:
            journal.record(db_path, contact_id("person10@example.org"), "2026-Q4")
        return await accept(server, session, envelope)

    def contact_id(email: str) -> int:
        with sqlite3.connect(db_path) as conn:
            return conn.execute("SELECT id FROM contacts WHERE email = ?", [email]).fetchone()[0]

    smtp.handler.handle_DATA = first_message_journals_one
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert "Sent 11 via smtp" in result.output and "1 skipped" in result.output
    assert "person10@example.org" not in smtp.per_recipient()
    assert not journal.has_pending(db_path)


def test_a_server_that_caps_connections_gets_fewer(smtp_ready, smtp):
    smtp.handler.max_connections = 2
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "4")
    assert result.exit_code == 0, result.output
    assert (
        "Sending with 2 of 4 connections; the next could not be opened: smtp (127.0.0.1:"
        f"{smtp.port}): cannot connect (the server replied 421 4.7.0 Too many connections "
        "from your address)."
    ) in result.output
    assert "Sent 12 via smtp" in result.output and "0 retries" in result.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}


CONTACTS = 150
CONCURRENCY = 3


@pytest.fixture
def slow_smtp(smtp):
    smtp.handler.delay = 0.01  # slow enough to stop it part-way
    return smtp


def start_send(root, port, *extra, **popen) -> subprocess.Popen:
    return send_process(root, port, "--concurrency", str(CONCURRENCY), *extra, **popen)


def wait_for(smtp, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while len(smtp.messages) < count:
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.005)


def test_sigkill_then_resume_sends_each_message_once(project, slow_smtp):
    built(project)
    add_contacts(project, CONTACTS)
    proc = start_send(project, slow_smtp.port)
    wait_for(slow_smtp, 40, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.wait()
    before = len(slow_smtp.messages)
    assert 40 <= before < CONTACTS
    crashed = [r for r in ledger_rows(project) if r["status"] == "sending"]
    assert len(crashed) <= CONCURRENCY

    again = start_send(project, slow_smtp.port)
    output = again.communicate(timeout=60)[0].decode()
    assert again.returncode == 0, output
    rows = ledger_rows(project)
    uncertain = {r["email"] for r in rows if r["status"] == "uncertain"}
    assert len(uncertain) == len(crashed) <= CONCURRENCY
    if uncertain:
        assert "now uncertain. Resend with --retry-uncertain" in output
    counts = slow_smtp.per_recipient()
    for n in range(CONTACTS):
        address = f"person{n}@example.org"
        if address in uncertain:
            assert counts.get(address, 0) <= 1
        else:
            assert counts.get(address) == 1, address
    assert {r["status"] for r in rows} <= {"sent", "uncertain"}


def test_ctrl_c_stops_after_the_messages_in_flight(project, slow_smtp):
    built(project)
    add_contacts(project, CONTACTS)
    proc = start_send(project, slow_smtp.port)
    wait_for(slow_smtp, 20, proc)
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 130, output
    assert "Stopping after the messages in flight" in output
    assert "still queued. Run the same command to continue." in output
    rows = ledger_rows(project)
    assert not [r for r in rows if r["status"] in ("sending", "uncertain")]
    sent = {r["email"] for r in rows if r["status"] == "sent"}
    assert set(slow_smtp.per_recipient()) == sent and len(sent) < CONTACTS

    again = start_send(project, slow_smtp.port)
    assert again.wait(timeout=60) == 0
    assert slow_smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(CONTACTS)}


def test_a_full_disk_mid_send_is_one_line_and_the_next_run_resumes(project, slow_smtp):
    built(project)
    add_contacts(project, CONTACTS)
    db = project / "contacts.db"
    open_db(db).conn.close()  # migrated and checkpointed: only the send's own writes grow it
    room = db.stat().st_size + 64 * 1024

    def small_disk() -> None:  # as if the disk held only this much: writes past it fail
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    full = start_send(project, slow_smtp.port, preexec_fn=small_disk)
    output = full.communicate(timeout=60)[0].decode()
    assert full.returncode == 1, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: {db}: cannot write (")
    assert errors[0].endswith(
        "then run the command again. Nothing of the step that failed was saved."
    )
    stuck = [r for r in ledger_rows(project) if r["status"] == "sending"]
    assert 0 < len([r for r in ledger_rows(project) if r["status"] == "sent"]) < CONTACTS
    assert len(stuck) <= CONCURRENCY

    again = start_send(project, slow_smtp.port)  # space again: the same command resumes
    output = again.communicate(timeout=60)[0].decode()
    assert again.returncode == 0, output
    rows = ledger_rows(project)
    assert {r["status"] for r in rows} <= {"sent", "uncertain"}
    assert len([r for r in rows if r["status"] == "uncertain"]) == len(stuck)
    counts = slow_smtp.per_recipient()
    assert all(counts.get(f"person{n}@example.org", 0) <= 1 for n in range(CONTACTS))


def test_ctrl_c_at_any_moment_is_clean(project, slow_smtp):
    built(project)
    add_contacts(project, CONTACTS)
    for step in range(20):  # every 20 ms through loading, preflight, snapshot, sending
        proc = start_send(project, slow_smtp.port)
        time.sleep(0.02 * step)
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0].decode()
        # Python's own start-up, before any code of ours runs, is the one moment left out.
        ours = "Traceback" in output and ("/newsletter/" in output or "click" in output)
        assert not ours, output
        # 1: click's "Aborted!" before the run; -2: killed before Python set its handler.
        assert proc.returncode in (1, 130, -signal.SIGINT), output
        rows = ledger_rows(project)
        assert not [r for r in rows if r["status"] in ("sending", "uncertain")], output
    again = start_send(project, slow_smtp.port)
    assert again.wait(timeout=60) == 0
    assert slow_smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(CONTACTS)}


def test_a_second_ctrl_c_leaves_a_silent_server_within_a_second(project, smtp):
    silent = asyncio.Event()

    async def never_answer(server, session, envelope):
        silent.set()
        await asyncio.sleep(3600)

    smtp.handler.handle_DATA = never_answer
    built(project)
    add_contacts(project, CONTACTS)
    proc = start_send(project, smtp.port, "-o", "timeout=60")
    deadline = time.monotonic() + 30
    while len([r for r in ledger_rows(project) if r["status"] == "sending"]) < CONCURRENCY:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
        time.sleep(0.05)
    time.sleep(0.3)  # the messages are out; the server sits on its replies
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # the first waits for the messages in flight
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    output = proc.communicate(timeout=60)[0].decode()
    took = time.monotonic() - started
    assert took < 1.5, f"{took:.1f} s"
    assert proc.returncode == 130, output
    assert "Traceback" not in output
    assert output.endswith(
        "Stopped at once: any message in flight shows as uncertain. "
        "Run the same command to continue.\n"
    )
    rows = ledger_rows(project)
    assert [r["status"] for r in rows].count("sending") == CONCURRENCY
    assert not open_db(project / "contacts.db").execute("SELECT * FROM send_locks").fetchall()


def test_other_writers_get_in_within_seconds_while_a_send_runs(project, smtp):
    smtp.handler.delay = 0.2  # about 10 s in all: longer than the writers take, even loaded
    built(project)
    add_contacts(project, CONTACTS)
    proc = start_send(project, smtp.port)
    wait_for(smtp, 10, proc)
    sent = next(r for r in ledger_rows(project) if r["status"] == "sent")
    template = (Path(__file__).parent / "data" / "bounces" / "exim-5.1.1.eml").read_text()
    bounce = template.replace("old.post@unhcr.example", sent["email"]).replace(
        "<2026-Q4.4444444444444444@example.org>", sent["message_id"]
    )
    box = mailbox.mbox(project / "bounces.mbox")
    box.add(bounce)
    box.flush()
    newsletter = [sys.executable, "-m", "newsletter", "--root", str(project)]
    writers = {
        "contacts add": ["contacts", "add", "new@example.org"],
        "bounces": ["bounces", str(project / "bounces.mbox")],
        "contacts unsubscribe": ["contacts", "unsubscribe", "person149@example.org"],
    }
    # A writer that waits longer than this for the lock stops with exit 1.
    env = {**os.environ, "NEWSLETTER_LOCK_WAIT": "3"}
    for name, args in writers.items():
        done = subprocess.run([*newsletter, *args], capture_output=True, timeout=60, env=env)
        assert done.returncode == 0, (name, done.stderr.decode())
        assert proc.poll() is None, "the send ended before every writer had its turn"
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert set(smtp.per_recipient().values()) == {1}


def test_a_rejection_saying_the_address_is_gone_marks_the_contact_bounced(smtp_ready, smtp):
    """Issue 11: after "550 5.1.1 User unknown" at RCPT the contact stayed subscribed."""
    smtp.fail("person3@example.org", "550 5.1.1 <person3@example.org>: User unknown", "rcpt")
    smtp.fail("person4@example.org", "550 5.7.1 Message rejected by policy", "rcpt")
    smtp.fail("person5@example.org", "552 5.2.2 Mailbox full", "data")
    smtp.fail("person6@example.org", "550 Requested action not taken", "rcpt")  # no code
    # A policy code whose words say exactly that the address is gone: the words win,
    # as they do in a bounce report (models.severity reads both).
    smtp.fail("person7@example.org", "550 5.7.1 <person7@example.org>: User unknown", "rcpt")
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert "Sent 7 via smtp" in result.output and "5 failed" in result.output
    assert (
        "Marked bounced: 2 contacts whose server said the address does not exist "
        "(see newsletter status).\n" in result.output
    )
    db = open_db(smtp_ready / "contacts.db")
    status = dict(db.execute("SELECT email, status FROM contacts").fetchall())
    assert status["person3@example.org"] == status["person7@example.org"] == "bounced"
    # A policy block, a full mailbox, a bare 550: about the mail, or unclear; kept.
    assert {status[f"person{n}@example.org"] for n in (4, 5, 6)} == {"subscribed"}
    history = db.execute(
        "SELECT h.source FROM history h JOIN contacts c ON c.id = h.contact_id "
        "WHERE c.email = 'person3@example.org' AND h.field = 'status'"
    ).fetchall()
    assert history[-1] == ("rejected:2026-Q4",)


def test_a_daily_cap_stops_the_run_and_says_when_to_resume(smtp_ready, smtp):
    """A sender's cap a day (a provider preset's 10,000; here 5) counts any 24 hours and
    earlier runs: the run stops cleanly at it, and a rerun sends only the rest."""
    pattern = re.compile(
        r"Error: issues/2026-Q4: send stopped: the sender's cap of 5 messages in 24 hours is "
        r"reached\. Run the same command after (\d{4}-\d\d-\d\d \d\d:\d\d) UTC to send the "
        r"rest \((\d+) still queued\)"
    )
    for remaining in (7, 7):
        result = smtp_send(smtp_ready, smtp.port, "-o", "max_per_day=5")
        assert result.exit_code == 1
        match = pattern.fullmatch(result.output.splitlines()[-1])
        assert match, result.output
        assert match[2] == str(remaining) and len(smtp.messages) == 5
        resume = datetime.strptime(match[1], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        assert timedelta(0) <= resume - tomorrow <= timedelta(minutes=2)
    result = smtp_send(smtp_ready, smtp.port)  # no cap: the rest, and nothing twice
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 12 and len(set(smtp.per_recipient())) == 12
