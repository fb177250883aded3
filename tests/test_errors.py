"""newsletter/errors.py, its watch for Ctrl-C: one that Python dropped is still seen, once, and a
send that sees one stops before its first message."""

from __future__ import annotations

import signal

import pytest
from helpers import ledger_rows, smtp_send

from newsletter import errors


@pytest.fixture
def quiet_ctrl_c():
    """A SIGINT handled and ignored, as when CPython drops the KeyboardInterrupt; the
    interpreter's wakeup pipe and the handler given back to pytest afterwards."""
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    handler = signal.signal(signal.SIGINT, lambda signum, frame: None)
    yield
    signal.set_wakeup_fd(before)
    signal.signal(signal.SIGINT, handler)
    errors._read_end = None


def test_not_watching_sees_nothing(quiet_ctrl_c):
    errors._read_end = None
    signal.raise_signal(signal.SIGINT)
    assert errors.ctrl_c_seen() is False


def test_a_ctrl_c_is_seen_once_and_other_signals_are_not(quiet_ctrl_c):
    assert errors.watch()
    assert errors.ctrl_c_seen() is False
    signal.signal(signal.SIGUSR1, lambda signum, frame: None)
    signal.raise_signal(signal.SIGUSR1)
    assert errors.ctrl_c_seen() is False
    signal.raise_signal(signal.SIGINT)
    signal.raise_signal(signal.SIGINT)
    assert errors.ctrl_c_seen() is True
    assert errors.ctrl_c_seen() is False  # read: the same Ctrl-C is not seen twice


def test_a_send_that_finds_a_dropped_ctrl_c_hands_over_no_message(smtp, quiet_ctrl_c, smtp_ready):
    assert errors.watch()
    signal.raise_signal(signal.SIGINT)  # dropped while the command loaded
    result = smtp_send(smtp_ready, smtp.port)
    assert "Stopping after the messages in flight" in result.output
    assert smtp.messages == []
    rows = ledger_rows(smtp_ready)
    assert rows and {r["status"] for r in rows} == {"queued"}
    assert result.exit_code == 130, result.output

    again = smtp_send(smtp_ready, smtp.port)  # nothing pending now: the run resumes
    assert again.exit_code == 0, again.output
    assert len(smtp.messages) == len(rows)
