"""newsletter.feeds.triage: `accept` and `reject` refuse what they cannot find, naming it."""

from __future__ import annotations

import pytest
from helpers import cli, make_issue


# Names and --all are the command line's own business: a usage error, exit 2; a name
# that is not in the inbox is a plain error, exit 1.
@pytest.mark.parametrize(
    "args,code,message",
    [
        (
            ["accept", "2026-Q4"],
            2,
            "issues/2026-Q4/inbox: no candidates named. Give NAME... or "
            "--all; list them with: newsletter inbox 2026-Q4",
        ),
        (
            ["accept", "2026-Q4", "x", "--all"],
            2,
            "issues/2026-Q4/inbox: give candidate names or --all, not both.",
        ),
        (
            ["reject", "2026-Q4", "nope"],
            1,
            "issues/2026-Q4/inbox/nope.md: no such candidate. "
            "List them with: newsletter inbox 2026-Q4",
        ),
        (
            ["accept", "2026-Q4", "../items/item-1"],
            1,
            "issues/2026-Q4/inbox/../items/item-1.md: no "
            "such candidate. List them with: newsletter inbox 2026-Q4",
        ),
    ],
)
def test_triage_errors(project, args, code, message):
    make_issue(project)
    result = cli(project, *args)
    assert result.exit_code == code
    assert result.output.splitlines()[-1] == f"Error: {message}"
