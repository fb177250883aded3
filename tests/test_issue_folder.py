"""newsletter.issue.folder: where an issue lives, and what an issue ID may be."""

from __future__ import annotations

import pytest
from helpers import cli


def test_missing_issue_folder(project):
    result = cli(project, "check", "2031-Q1")
    assert result.exit_code == 1
    assert result.output == (
        "Error: issues/2031-Q1: no such issue folder. Create it with: newsletter new 2031-Q1\n"
    )


@pytest.mark.parametrize("bad", ["../escape", "2026 Q4", "2026-Qé", ".hidden", "a/b", ""])
def test_new_rejects_an_id_that_is_not_a_plain_name(project, bad):
    result = cli(project, "new", bad)
    assert result.exit_code == 2  # the command line is wrong: a usage error
    assert result.output.endswith(
        f"\nError: '{bad}': not a valid issue ID. Use letters, digits and dashes, such as 2026-Q4.\n"
    )
    assert list((project / "issues").iterdir()) == []
