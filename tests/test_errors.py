"""newsletter/errors.py: ``ctrl_c_seen``, asked by a send before its first message, stops
it when a Ctrl-C came that Python dropped while the command loaded."""

from __future__ import annotations

import signal
from functools import partial

import pytest
from helpers import ledger_rows, smtp_send

from newsletter import __main__ as entry
from newsletter import errors


@pytest.fixture
def quiet_ctrl_c(monkeypatch):
    """The watch ``python -m newsletter`` sets up, with SIGINT handled and ignored, as
    when CPython drops the KeyboardInterrupt; pytest's own given back afterwards."""
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    handler = signal.signal(signal.SIGINT, lambda signum, frame: None)
    read = entry._watch_signals()
    assert read is not None
    monkeypatch.setattr(errors, "ctrl_c_seen", partial(entry._got_ctrl_c, read))
    yield
    signal.set_wakeup_fd(before)
    signal.signal(signal.SIGINT, handler)


def test_nothing_watching_is_no_ctrl_c():
    assert errors._not_watching() is False


def test_a_send_that_finds_a_dropped_ctrl_c_hands_over_no_message(smtp, quiet_ctrl_c, smtp_ready):
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
