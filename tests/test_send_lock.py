"""newsletter.send.lock: one send per issue and sender, across folders sharing contacts.db."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SECRET, add_contacts, built, cli, ledger_rows, send_process, smtp_args

from newsletter.send.lock import LEASE, process_start, this_host
from newsletter.store import now, open_db, writing

HOST = this_host()


def hold_as(db_path: Path, pid: int, host: str = HOST, process: str = "", beat: str = "") -> None:
    """A lock row as another run would have left it."""
    db = open_db(db_path)
    with writing(db):
        db["send_locks"].insert(
            {
                "issue": "2026-Q4",
                "sender": "smtp",
                "token": "someone-else",
                "pid": pid,
                "host": host,
                "process": process,
                "started": "2026-12-15T09:00:00+00:00",
                "beat": beat or now(),
            }
        )
    db.conn.close()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def smtp_cli(root: Path, port: int, *extra: str):
    return cli(root, *extra, "send", "2026-Q4", "--yes", *smtp_args(port))


def test_two_folders_sharing_one_database_cannot_send_the_same_issue_at_once(
    project, smtp, monkeypatch
):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    smtp.handler.delay = 0.02
    first = project
    built(first)
    add_contacts(first, 150)
    second = project.parent / "checkout-2"
    shutil.copytree(first, second, ignore=shutil.ignore_patterns("contacts.db*"))
    shared = first / "contacts.db"

    proc = send_process(first, smtp.port, "--concurrency", "3", db=shared)
    deadline = time.monotonic() + 30
    while len(smtp.messages) < 20:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
        time.sleep(0.01)
    other = smtp_cli(second, smtp.port, "--db", str(shared))
    assert other.exit_code == 1
    assert (
        f"issues/2026-Q4: another send of this issue via smtp is running (pid {proc.pid} on "
        f"{HOST}, since "
    ) in other.output
    assert "from this or another folder sharing the database." in other.output
    # The first run's messages in flight were left alone: none became uncertain.
    assert not [r for r in ledger_rows(first) if r["status"] == "uncertain"]
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(150)}
    assert {r["status"] for r in ledger_rows(first)} == {"sent"}
    assert not open_db(shared).execute("SELECT * FROM send_locks").fetchall()  # released


@pytest.mark.parametrize(
    "holder",
    [
        pytest.param(lambda: {"pid": dead_pid()}, id="dead-pid"),
        pytest.param(
            lambda: {"pid": os.getpid(), "process": "1"},  # a pid reused by another process
            id="reused-pid",
            marks=pytest.mark.skipif(not process_start(os.getpid()), reason="no /proc"),
        ),
        pytest.param(
            lambda: {"pid": 1, "host": "elsewhere", "beat": "2026-01-01T00:00:00+00:00"},
            id="other-host-silent",
        ),
    ],
)
def test_a_gone_holders_lock_is_taken_over(smtp_ready, smtp, holder):
    hold_as(smtp_ready / "contacts.db", **holder())
    result = smtp_cli(smtp_ready, smtp.port)
    assert result.exit_code == 0, result.output
    assert "Sent 12 via smtp" in result.output


@pytest.mark.parametrize(
    "holder",
    [
        pytest.param(lambda: {"pid": os.getpid()}, id="live-pid"),
        pytest.param(lambda: {"pid": 1, "host": "elsewhere"}, id="other-host-recent"),
        # Another container with this host name: its pids are not ours to check, so
        # a pid missing here proves nothing (the review found it taken over).
        pytest.param(
            lambda: {"pid": dead_pid(), "host": f"{socket.gethostname()}/pidns:1"},
            id="other-container-same-name",
        ),
    ],
)
def test_a_live_holders_lock_is_respected(smtp_ready, smtp, holder):
    hold_as(smtp_ready / "contacts.db", **holder())
    result = smtp_cli(smtp_ready, smtp.port)
    assert result.exit_code == 1 and "another send of this issue via smtp is running" in (
        result.output
    )
    foreign = "If it is gone, its lock lapses 15 minutes after " in result.output
    assert foreign == (holder()["host"] != HOST if "host" in holder() else False)
    assert not smtp.messages and not ledger_rows(smtp_ready)


def test_this_host_names_the_pid_namespace_inside_a_container():
    inside = os.stat("/proc/self/ns/pid").st_ino != 0xEFFFFFFC
    name = socket.gethostname()
    assert this_host() == (
        f"{name}/pidns:{os.stat('/proc/self/ns/pid').st_ino}" if inside else name
    )


def test_the_lease_is_longer_than_any_pause_between_renewals():
    from newsletter.send.lock import RENEW

    assert LEASE >= 10 * RENEW


def test_a_row_left_sending_is_reported_uncertain_even_with_nothing_to_send(smtp_ready, smtp):
    # A kill with only the last message in flight: the resume has nothing queued.
    accept = smtp.handler.handle_DATA

    async def hang_on_the_last(server, session, envelope):
        if envelope.rcpt_tos == ["person11@example.org"]:
            import asyncio

            await asyncio.sleep(30)
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = hang_on_the_last
    proc = send_process(smtp_ready, smtp.port, "--concurrency", "1")
    deadline = time.monotonic() + 30
    while [r["status"] for r in ledger_rows(smtp_ready)].count("sent") < 11:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()
        time.sleep(0.02)
    time.sleep(0.2)
    proc.kill()
    proc.wait()
    assert [r["status"] for r in ledger_rows(smtp_ready)][-1] == "sending"

    again = smtp_cli(smtp_ready, smtp.port)
    assert again.exit_code == 0, again.output
    assert again.output.startswith(
        "1 message(s) were being handed over when the last run stopped; they are now "
        "uncertain. Resend with --retry-uncertain (they may arrive twice).\n"
    )
    assert "Nothing to send." in again.output
    last = ledger_rows(smtp_ready)[-1]
    assert last["status"] == "uncertain" and last["email"] == "person11@example.org"


def test_a_run_whose_lock_was_taken_over_stops_sending(smtp_ready, smtp, monkeypatch):
    monkeypatch.setattr("newsletter.send.delivery.RENEW", 0.0)  # renew at every commit
    accept = smtp.handler.handle_DATA

    async def take_over_after_three(server, session, envelope):
        if len(smtp.messages) == 3:  # as if another run had found this one dead
            conn = sqlite3.connect(smtp_ready / "contacts.db", timeout=30)
            with conn:
                conn.execute("UPDATE send_locks SET token = 'the-other-run'")
            conn.close()
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = take_over_after_three
    result = cli(
        smtp_ready, "send", "2026-Q4", "--yes", *smtp_args(smtp.port), "--concurrency", "1"
    )
    assert result.exit_code == 1
    assert (
        "send stopped: another run took this issue's send lock over, as if this one had died; "
        "this run stopped sending ("
    ) in result.output
    assert 4 <= len(smtp.messages) < 12
