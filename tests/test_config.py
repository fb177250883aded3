"""Settings in [tool.newsletter]: unknown keys and wrong types name file and key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from helpers import make_issue, settings_toml

from newsletter.cli import main


@pytest.mark.parametrize(
    "change,expected",
    [
        (
            ("name = ", "nmae = "),
            ":2: [tool.newsletter] unknown key 'nmae'. Use one of: name, from_name, "
            "from_address, reply_to, postal_address, web_url, language, sections, list_id, "
            "sources, senders, send.",
        ),
        (
            ('language = "en"', "language = 3"),
            ":8: [tool.newsletter] language '3' is not text. Write it as text in quotes: \"...\".",
        ),
        (
            ('web_url = "https://focalpoint.example.org"', 'web_url = "focalpoint.example.org"'),
            ":7: [tool.newsletter] web_url 'focalpoint.example.org' does not start with http:// "
            "or https://. Write the archive's address, https://....",
        ),
        (
            ('{ key = "news", title = "News" }', '{ key = "news" }'),
            ':9: [tool.newsletter] \'sections\' entry 1 is not { key = "...", title = "..." }. '
            'Write sections = [ { key = "news", title = "News" }, ... ].',
        ),
        (
            ('{ key = "tools"', '{ key = "news"'),
            ":9: [tool.newsletter] 'sections' key 'news' appears twice. Keep one.",
        ),
        (
            ('from_name = "UN Global Compact Office"', 'from_name = "UN\\nGlobal"'),
            ":3: [tool.newsletter] from_name 'UN\\u000aGlobal' is more than one line. "
            "Remove the line breaks.",
        ),
        (
            (
                'web_url = "https://focalpoint.example.org"',
                'web_url = "https://focalpoint.example.org/x\\r\\nBcc: victim@example.org"',
            ),
            ":7: [tool.newsletter] web_url 'https://focalpoint.example.org/x\\u000d\\u000aBcc: …' "
            "is more than one line. Remove the line breaks.",
        ),
        (
            ("[tool.newsletter]", "[tool.newsletter]\nsend = { concurency = 2 }"),
            ":2: [tool.newsletter.send] unknown key 'concurency'. Use one of: sender, "
            "concurrency, rate, max_per_hour, max_attempts, retry_delay, retry_delay_max, "
            "max_consecutive_failures, durable, return_path, unsubscribe_address, dkim.",
        ),
        (("[tool.newsletter]", "[tool.newsletter]\nbroken = = 1"), ": invalid TOML"),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "bad-url",
        "bad-section",
        "duplicate-section",
        "line-break",
        "header-in-web-url",
        "send-table",
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
    assert result.output.startswith(f"Error: {path}{expected}"), result.output
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
