"""newsletter.config: [tool.newsletter] and its subtables; a bad key names the file, line and key."""

from __future__ import annotations

import pytest
from helpers import add_contacts, built, cli, ledger_rows, make_issue, settings_toml

from newsletter.config import Dkim, load_settings
from newsletter.errors import NewsletterError
from newsletter.models import LIMITS
from newsletter.schema import ranged


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
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}{expected}"), result.output
    assert len(result.output.splitlines()) == 1


def test_missing_pyproject(tmp_path):
    result = cli(tmp_path, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path}/pyproject.toml: not found. "
        "Run newsletter from the project folder or pass --root DIR.\n"
    )


def test_settings_table_is_the_repository_one():
    assert settings_toml().startswith("[tool.newsletter]")


DKIM_TABLES = {
    "no key": ('selector = "nl"', "needs exactly one of 'key_env'"),
    "both keys": ('selector = "nl"\nkey_env = "K"\nkey_file = "/k"', "needs exactly one of"),
    "typo": ('selector = "nl"\nkeyfile = "x"', "unknown key 'keyfile'"),
    "no selector": ('key_env = "K"', "'selector' is missing or empty"),
    # Both go into the DKIM-Signature header as they are: DNS names, in ASCII.
    "header in selector": (
        'selector = "nl\\r\\nBcc: x@y.org"\nkey_env = "K"',
        "selector 'nl\\u000d\\u000aBcc: x@y.org' is more than one line",
    ),
    "not a DNS name": (
        'selector = "nl"\ndomain = "x.org; s=evil"\nkey_env = "K"',
        "domain 'x.org; s=evil' is not a DNS name",
    ),
}


@pytest.mark.parametrize("table,message", DKIM_TABLES.values(), ids=DKIM_TABLES)
def test_the_dkim_table_is_checked_with_the_settings(project, table, message):
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.newsletter.send.dkim]\n" + table + "\n")
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    assert info.value.message.startswith(f"{path}:")
    assert "[tool.newsletter.send.dkim]" in info.value.message and message in info.value.message


def test_an_international_dkim_domain_is_signed_in_ascii(project):
    path = project / "pyproject.toml"
    table = '[tool.newsletter.send.dkim]\nselector = "nl"\ndomain = "exämple.org"\nkey_env = "K"\n'
    path.write_text(path.read_text() + "\n" + table)
    assert load_settings(project).send.dkim == Dkim("nl", "xn--exmple-cua.org", "K", "")


def test_send_settings_are_validated(project):
    built(project)
    add_contacts(project, 1)
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.newsletter.send]\nconcurency = 2\n")
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1
    line = len(path.read_text().splitlines())
    assert (
        f"pyproject.toml:{line}: [tool.newsletter.send] unknown key 'concurency'" in result.output
    )
    assert ledger_rows(project) == []


# One range per number (models.LIMITS): the setting and its option accept and refuse the
# same values. The settings exit 1 naming the line; the option is a usage error, exit 2.
SHARED = [("concurrency", "--concurrency"), ("rate", "--rate"), ("max_per_hour", "--max-per-hour")]


def _values(key: str) -> list[tuple[str, bool]]:
    """(TOML/option text, accepted) at and beyond the edges of the key's range."""
    limit = LIMITS[key]
    low, high = limit.minimum, limit.maximum
    form = (lambda x: str(int(x))) if limit.whole else (lambda x: repr(float(x)))
    return [
        (form(low), True),
        (form(high), True),
        (form(low - 1), False),
        (form(high + 1), False),
        (form(high * 1000), False),
        ("100000", key != "concurrency"),
    ]


@pytest.mark.parametrize(
    "key,option,value,ok",
    [(k, o, v, ok) for k, o in SHARED for v, ok in _values(k)],
)
def test_a_send_setting_and_its_option_share_one_range(project, key, option, value, ok):
    built(project)
    add_contacts(project, 1)
    by_option = cli(project, "send", "2026-Q4", "--dry-run", option, value)
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + f"\n[tool.newsletter.send]\n{key} = {value}\n")
    line = len(path.read_text().splitlines())
    by_setting = cli(project, "send", "2026-Q4", "--dry-run")
    if ok:
        assert (by_option.exit_code, by_setting.exit_code) == (0, 0), by_setting.output
        return
    assert by_option.exit_code == 2
    reason = ranged(LIMITS[key]).expected
    assert by_option.output.splitlines()[-1] == (
        f"Error: Invalid value for '{option}': '{value}' is not {reason}."
    )
    assert by_setting.exit_code == 1
    assert by_setting.output == (
        f"Error: {path}:{line}: [tool.newsletter.send] {key} '{value}' is not {reason}. "
        f"Write {reason}.\n"
    )
