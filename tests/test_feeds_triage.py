"""newsletter.feeds.triage: `accept` and `reject` refuse what they cannot find, naming it."""

from __future__ import annotations

import pytest
from helpers import cli, make_issue


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["accept", "2026-Q4"],
            "issues/2026-Q4/inbox: no candidates named. Give NAME... or "
            "--all; list them with: newsletter inbox 2026-Q4",
        ),
        (
            ["accept", "2026-Q4", "x", "--all"],
            "issues/2026-Q4/inbox: give candidate names or --all, not both.",
        ),
        (
            ["reject", "2026-Q4", "nope"],
            "issues/2026-Q4/inbox/nope.md: no such candidate. "
            "List them with: newsletter inbox 2026-Q4",
        ),
        (
            ["accept", "2026-Q4", "../items/item-1"],
            "issues/2026-Q4/inbox/../items/item-1.md: no "
            "such candidate. List them with: newsletter inbox 2026-Q4",
        ),
    ],
)
def test_triage_errors(project, args, message):
    make_issue(project)
    result = cli(project, *args)
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"
