"""newsletter.send.dispatch: one send of an issue at a time."""

from __future__ import annotations

import fcntl

from helpers import cli


def test_a_second_send_of_the_same_issue_is_refused(outbox_ready):
    with open(outbox_ready / "issues" / "2026-Q4" / "build" / ".send.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        result = cli(outbox_ready, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "another newsletter send for this issue is running" in (
        result.output
    )
