"""newsletter.cli: the command group itself: where it finds the project."""

from __future__ import annotations

from helpers import cli, make_issue


def test_root_from_environment(project, monkeypatch):
    make_issue(project)
    monkeypatch.setenv("NEWSLETTER_ROOT", str(project))
    result = cli(None, "check", "2026-Q4")
    assert result.exit_code == 0, result.output
