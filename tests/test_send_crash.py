"""A real `newsletter send` process killed part-way, then run again: no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import SECRET, SMTPServer, add_contacts, built, ledger_rows, smtp_args

CONTACTS = 150
CONCURRENCY = 3


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    server.handler.delay = 0.01  # slow enough to stop it part-way
    yield server
    server.stop()


def start_send(root, port, *extra) -> subprocess.Popen:
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    args = [
        sys.executable,
        "-m",
        "newsletter",
        "--root",
        str(root),
        "send",
        "2026-Q4",
        "--yes",
        *smtp_args(port),
        "--concurrency",
        str(CONCURRENCY),
        *extra,
    ]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for(smtp, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while len(smtp.messages) < count:
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.monotonic() < deadline, "the send did not get going"
        time.sleep(0.005)


def test_sigkill_then_resume_sends_each_message_once(project, smtp):
    built(project)
    add_contacts(project, CONTACTS)
    proc = start_send(project, smtp.port)
    wait_for(smtp, 40, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.wait()
    before = len(smtp.messages)
    assert 40 <= before < CONTACTS
    crashed = [r for r in ledger_rows(project) if r["status"] == "sending"]
    assert len(crashed) <= CONCURRENCY

    again = start_send(project, smtp.port)
    output = again.communicate(timeout=60)[0].decode()
    assert again.returncode == 0, output
    rows = ledger_rows(project)
    uncertain = {r["email"] for r in rows if r["status"] == "uncertain"}
    assert len(uncertain) == len(crashed) <= CONCURRENCY
    if uncertain:
        assert "now uncertain. Resend with --retry-uncertain" in output
    counts = smtp.per_recipient()
    for n in range(CONTACTS):
        address = f"person{n}@example.org"
        if address in uncertain:
            assert counts.get(address, 0) <= 1
        else:
            assert counts.get(address) == 1, address
    assert {r["status"] for r in rows} <= {"sent", "uncertain"}


def test_ctrl_c_stops_after_the_messages_in_flight(project, smtp):
    built(project)
    add_contacts(project, CONTACTS)
    proc = start_send(project, smtp.port)
    wait_for(smtp, 20, proc)
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 130, output
    assert "Stopping after the messages in flight" in output
    assert "still queued. Run the same command to continue." in output
    rows = ledger_rows(project)
    assert not [r for r in rows if r["status"] in ("sending", "uncertain")]
    sent = {r["email"] for r in rows if r["status"] == "sent"}
    assert set(smtp.per_recipient()) == sent and len(sent) < CONTACTS

    again = start_send(project, smtp.port)
    assert again.wait(timeout=60) == 0
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(CONTACTS)}
