"""Settings in [tool.newsletter]: unknown keys and wrong types name file and key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import make_issue, settings_toml

from newsletter.cli import main


@pytest.mark.parametrize(
    "change,expected",
    [
        (("name = ", "nmae = "), "[tool.newsletter] unknown key 'nmae'. Use one of: "),
        (
            ('language = "en"', "language = 3"),
            "[tool.newsletter] 'language' must be a string, not int.",
        ),
        (
            ('web_url = "https://focalpoint.example.org"', 'web_url = "focalpoint.example.org"'),
            "[tool.newsletter] 'web_url' must start with http:// or https://.",
        ),
        (
            ('{ key = "news", title = "News" }', '{ key = "news" }'),
            '[tool.newsletter] \'sections\' entry 1 must be { key = "...", title = "..." }.',
        ),
        (
            ('{ key = "tools"', '{ key = "news"'),
            "[tool.newsletter] 'sections' key 'news' appears twice.",
        ),
        (("[tool.newsletter]", "[tool.newsletter]\nbroken = = 1"), "invalid TOML"),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "bad-url",
        "bad-section",
        "duplicate-section",
        "invalid-toml",
    ],
)
def test_bad_settings(project, change, expected):
    make_issue(project)
    path = project / "pyproject.toml"
    text = path.read_text()
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    result = CliRunner().invoke(main, ["--root", str(project), "check", "2026-Q4"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: {expected}"), result.output
    assert len(result.output.splitlines()) == 1


def test_missing_pyproject(tmp_path):
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "check", "2026-Q4"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path}/pyproject.toml: not found. "
        "Run newsletter from the project folder or pass --root DIR.\n"
    )


def test_root_from_environment(project, monkeypatch):
    make_issue(project)
    monkeypatch.setenv("NEWSLETTER_ROOT", str(project))
    result = CliRunner().invoke(main, ["check", "2026-Q4"])
    assert result.exit_code == 0, result.output


def test_settings_table_is_the_repository_one():
    assert settings_toml().startswith("[tool.newsletter]")
