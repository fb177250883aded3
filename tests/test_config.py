"""newsletter.config: [tool.newsletter] and its subtables; a bad key names the file, line and key."""

from __future__ import annotations

import re

import pytest
from helpers import (
    add_contacts,
    built,
    cli,
    cli_within,
    ledger_rows,
    make_issue,
    settings_toml,
    special_file,
)

from newsletter.config import Dkim, load_settings
from newsletter.errors import NewsletterError
from newsletter.models import LIMITS
from newsletter.schema import ranged, shown


@pytest.mark.parametrize(
    "change,expected",
    [
        (
            ("name = ", "nmae = "),
            ":2: [tool.newsletter] unknown key 'nmae'. Use one of: name, from_name, "
            "from_address, reply_to, contributions_address, postal_address, web_url, language, "
            "sections, list_id, greeting, approval, sources, senders, send, readership, attribution.",
        ),
        (
            ('language = "en"', 'language = "en"\nreadership = "per-person"'),
            ":9: [tool.newsletter] readership 'per-person' is not allowed. "
            "Use one of: off, aggregate.",
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
            "max_consecutive_failures, durable, return_path, unsubscribe_address, dmarc_alignment, "
            "dkim.",
        ),
        (
            ("[tool.newsletter]", "[tool.newsletter]\nbroken = = 1"),
            ":2: invalid TOML (Invalid value). Fix the syntax.",
        ),
    ],
    ids=[
        "unknown-key",
        "readership-value",
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
    # Was accepted: the IDNA error was ignored and 64 ASCII letters fit the pattern.
    "label over 63": (
        f'selector = "{"s" * 64}"\nkey_env = "K"',
        "is not a DNS name: it has an empty part or a part over 63 characters",
    ),
    # The Ed25519 signature (RFC 8463): a selector and exactly one key, or none of them.
    "ed25519 key without selector": (
        'selector = "nl"\nkey_env = "K"\ned25519_key_env = "E"',
        "needs, for an Ed25519 signature, 'ed25519_selector' and exactly one of "
        "'ed25519_key_env' or 'ed25519_key_file'. Set the selector and one key, or none of "
        "the three.",
    ),
    "ed25519 selector without key": (
        'selector = "nl"\nkey_env = "K"\ned25519_selector = "ed"',
        "needs, for an Ed25519 signature, 'ed25519_selector' and exactly one of",
    ),
    "ed25519 both keys": (
        'selector = "nl"\nkey_env = "K"\ned25519_selector = "ed"\ned25519_key_env = "E"\n'
        'ed25519_key_file = "/e"',
        "needs, for an Ed25519 signature, 'ed25519_selector' and exactly one of",
    ),
    "ed25519 selector not a DNS name": (
        'selector = "nl"\nkey_env = "K"\ned25519_selector = "ed; a=rsa"\ned25519_key_env = "E"',
        "ed25519_selector 'ed; a=rsa' is not a DNS name",
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


@pytest.mark.parametrize("value", ["relaxed", "strict", "off", "loose", "Off"])
def test_dmarc_alignment_is_relaxed_strict_or_off(project, value):
    path = project / "pyproject.toml"
    assert load_settings(project).send.dmarc_alignment == "relaxed"
    path.write_text(path.read_text() + f'\n[tool.newsletter.send]\ndmarc_alignment = "{value}"\n')
    if value in ("relaxed", "strict", "off"):
        assert load_settings(project).send.dmarc_alignment == value
        return
    line = len(path.read_text().splitlines())
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    assert info.value.message == (
        f"{path}:{line}: [tool.newsletter.send] dmarc_alignment '{value}' is not allowed. "
        "Use one of: relaxed, strict, off."
    )


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


HEADER_KEYS = {
    "name": ('name = "The UN-Business Focal Point"', 2),
    "from_name": ('from_name = "UN Global Compact Office"', 3),
    "from_address": ('from_address = "focalpoint@example.org"', 4),
    "reply_to": ('reply_to = "partnerships@example.org"', 5),
    "web_url": ('web_url = "https://focalpoint.example.org"', 7),
}
HEADER_VALUES = {
    # RFC 2047 for CR LF "Bcc: x@y.z": decodes to a new header line.
    "encoded-word": ("=?utf-8?b?DQpCY2M6IHhAeS56?=", "an RFC 2047 encoded word (=?...?=)"),
    "percent-break": ("a%0d%0aBcc: x@y.z", "an encoded line break"),
    "entity-break": ("a&#13;&#10;Bcc: x@y.z", "an encoded line break"),
    "escaped-break": ("a\\\\r\\\\nBcc: x@y.z", "an encoded line break"),
}


@pytest.mark.parametrize("value,problem", HEADER_VALUES.values(), ids=HEADER_VALUES)
@pytest.mark.parametrize("key", HEADER_KEYS)
def test_a_setting_that_reaches_a_header_passes_the_header_check_at_load(
    project, key, value, problem
):
    """Found: a CR LF in the house name reached List-Id as an encoded word."""
    line, number = HEADER_KEYS[key]
    prefix = "https://x.org/" if key == "web_url" else ""
    suffix = "@example.org" if key in ("from_address", "reply_to") else ""
    path = project / "pyproject.toml"
    path.write_text(path.read_text().replace(line, f'{key} = "{prefix}{value}{suffix}"', 1))
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    message = info.value.message
    assert message.startswith(f"{path}:{number}: [tool.newsletter] {key} '")
    assert message.endswith(
        f"' contains {problem}, which could add a mail header. Remove it from the value."
    )
    assert "\n" not in message


@pytest.mark.parametrize("key", ["return_path", "unsubscribe_address", "list_id"])
def test_the_other_header_settings_pass_the_same_check(project, key):
    path = project / "pyproject.toml"
    table = "[tool.newsletter]\n" if key == "list_id" else "\n[tool.newsletter.send]\n"
    value = f'{key} = "News =?utf-8?q?=0D=0ABcc:_x@y.z?= <news.example.org>"\n'
    if key == "list_id":
        path.write_text(path.read_text().replace(table, table + value, 1))
    else:
        path.write_text(path.read_text() + table + value)
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    assert "which could add a mail header. Remove it from the value." in info.value.message
    assert f"{key} {shown(value.split(' = ', 1)[1].strip().strip(chr(34)))} contains" in (
        info.value.message
    )


SETTINGS_MISTAKES = {
    "tool-text": (
        ("[tool.newsletter]", 'tool = "oops"\n[tool.newsletter]'),
        ":2: invalid TOML (Cannot overwrite a value). Fix the syntax.",
    ),
    "tool-text-alone": (
        None,
        ":1: 'tool' must be a table, not text. Write the house settings under [tool.newsletter].",
    ),
    "newsletter-a-number": (
        ("[tool.newsletter]", "[tool]\nnewsletter = 3\n[tool.other]"),
        ":2: 'tool.newsletter' must be a table, not a number. "
        "Write the house settings under [tool.newsletter].",
    ),
    "nested-array": (
        ("[tool.newsletter]", "[tool.newsletter]\nx = " + "[" * 5000 + "]" * 5000),
        ":2: arrays or tables are nested more than 64 deep. Flatten them.",
    ),
    "long-number": (
        ("[tool.newsletter]", "[tool.newsletter]\nx = " + "9" * 5000),
        ":2: a number has more than 4,300 digits. Shorten it.",
    ),
    "dkim-a-number": (
        ("[tool.newsletter]", "[tool.newsletter]\nsend = { dkim = 3 }"),
        ":2: [tool.newsletter.send.dkim] dkim '3' is not a table. "
        "Write [tool.newsletter.send.dkim] with selector and key_env.",
    ),
    "dkim-selector-a-number": (
        (
            "[tool.newsletter]",
            '[tool.newsletter]\nsend = { dkim = { selector = 3, key_env = "K" } }',
        ),
        ":2: [tool.newsletter.send.dkim] selector '3' is not text. "
        "Write a name such as nl2026 or example.org.",
    ),
    "sender-a-date": (
        ("[tool.newsletter]", "[tool.newsletter]\nsend = { sender = 2026-01-01 }"),
        ":2: [tool.newsletter.send] sender '2026-01-01' is not text. "
        'Write it as text in quotes: "...".',
    ),
    "senders-a-number": (
        ("[tool.newsletter]", "[tool.newsletter]\nsenders = { a = 3 }"),
        ":2: [tool.newsletter.senders.a] must be a table of options.",
    ),
    "long-source-url": (
        (
            "[tool.newsletter]",
            '[tool.newsletter]\nsources = [{ organisation = "X", url = "https://x y'
            + "z" * 500
            + '" }]',
        ),
        ":2: [tool.newsletter] 'sources' entry 1: url 'https://x yzzzzzzzzzzzzzzzzzzzzzzzzzzzz…' "
        "is not an http(s) URL. Copy it from the browser.",
    ),
}


@pytest.mark.parametrize("change,expected", SETTINGS_MISTAKES.values(), ids=SETTINGS_MISTAKES)
def test_a_wrong_value_in_the_settings_is_one_line(project, change, expected):
    path = project / "pyproject.toml"
    if change is None:
        path.write_text('tool = "oops"\n')
    else:
        path.write_text(path.read_text().replace(change[0], change[1], 1))
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    assert info.value.message == f"{path}{expected}"


WRONG_TOML = {
    "list": "[1, [2, { a = 3 }]]",
    "table": "{ a = [1, 2] }",
    "number": "12345",
    "float": "nan",
    "bool": "true",
    "date": "2026-01-01",
    "datetime": "2026-01-01T25:00:00",
    "long-text": '"' + "x" * 5000 + '"',
    "control": '"a\\u0007b"',
}
HOUSE_KEYS = ["name", "from_name", "from_address", "reply_to", "postal_address", "web_url"]
HOUSE_KEYS += ["language", "sections", "list_id", "sources", "senders", "send"]
SEND_KEYS = ["sender", "concurrency", "rate", "max_per_hour", "max_attempts", "retry_delay"]
SEND_KEYS += ["retry_delay_max", "max_consecutive_failures", "durable", "return_path"]
SEND_KEYS += ["unsubscribe_address", "dmarc_alignment", "dkim"]


@pytest.mark.parametrize("kind", WRONG_TOML)
@pytest.mark.parametrize(
    "table,key", [("", k) for k in HOUSE_KEYS] + [("send", k) for k in SEND_KEYS]
)
def test_any_value_of_any_setting_is_read_or_refused_in_one_line(project, table, key, kind):
    path = project / "pyproject.toml"
    text, value = path.read_text(), WRONG_TOML[kind]
    if table:
        text += f"\n[tool.newsletter.{table}]\n{key} = {value}\n"
    else:  # the key's own value (sections spans lines) replaced, or the key added
        text, found = re.subn(
            rf"(?ms)^{key} = (\[$.*?^\]|[^\n]*)$", lambda _: f"{key} = {value}", text
        )
        if not found:
            text = text.replace("[tool.newsletter]\n", f"[tool.newsletter]\n{key} = {value}\n")
    path.write_text(text)
    try:
        load_settings(project)
    except NewsletterError as exc:
        assert exc.message.startswith(f"{path}:"), exc.message
        assert "\n" not in exc.message and len(exc.message) < 400, exc.message


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


@pytest.mark.parametrize(("kind", "what"), [("fifo", "a FIFO (named pipe)"), ("dir", "a folder")])
def test_settings_that_are_not_a_file_are_one_line_not_a_hang(project, kind, what):
    """Found in review: a FIFO was read with read_bytes (a hang), or called "not found"."""
    path = project / "pyproject.toml"
    path.unlink()
    special_file(path, kind)
    result = cli_within(30, project, "check", "2026-Q4")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {path}: is {what}, not a file. "
        "Keep the house settings in pyproject.toml, a text file.\n",
    )


def test_settings_over_1_mb_are_one_line(project):
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "# padding\n" * 110_000)
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    assert info.value.message == (
        f"{path}: is larger than 1,048,576 bytes. "
        "Keep the house settings in pyproject.toml, a text file."
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("bounces+{token}{token}@example.org", "has {token} 2 times: put it in once"),
        ("bounces+{token}@{token}.example.org", "has braces after the @"),
        ("bounces+{id}@example.org", "has braces other than {token}"),
        ("bounces+{token}+{x@example.org", "has braces other than {token}"),
        ("bounces+{token}", "is not an email address"),
        ("x" * 28 + "+{token}@example.org", "would have a local part of up to 66 octets"),
    ],
)
def test_a_signed_return_path_is_checked_when_the_settings_are_read(project, value, problem):
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + f'\n[tool.newsletter.send]\nreturn_path = "{value}"\n')
    number = path.read_text().splitlines().index(f'return_path = "{value}"') + 1
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    message = info.value.message
    assert message.startswith(
        f"{path}:{number}: [tool.newsletter.send] return_path {shown(value)} {problem}"
    )
    assert message.endswith('Write it as "bounces+{token}@example.org".')
    assert "\n" not in message


@pytest.mark.parametrize(
    "value", ["bounces+{token}@example.org", "{token}@bounces.example.org", "news@example.org"]
)
def test_a_return_path_with_one_token_or_none_is_kept_as_written(project, value):
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + f'\n[tool.newsletter.send]\nreturn_path = "{value}"\n')
    assert load_settings(project).send.return_path == value


@pytest.mark.parametrize(
    ("line", "greeting"),
    [
        ("", "Dear {name},"),  # the house default
        ('greeting = "Hello {name}!"', "Hello {name}!"),
        ('greeting = "Dear {name} ({name}),"', "Dear {name} ({name}),"),
        ('greeting = "Dear colleagues,"', "Dear colleagues,"),  # no name at all
        ('greeting = ""', ""),  # none
    ],
)
def test_the_greeting(project, line, greeting):
    path = project / "pyproject.toml"
    path.write_text(path.read_text().replace("[tool.newsletter]\n", f"[tool.newsletter]\n{line}\n"))
    assert load_settings(project).greeting == greeting


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"Dear {first},"', "may hold only the {name} placeholder"),
        ('"Dear {name!r},"', "may hold only the {name} placeholder"),
        ('"Dear {{name}},"', "may hold only the {name} placeholder"),
        ('"Dear {name},}"', "may hold only the {name} placeholder"),
    ],
)
def test_a_bad_greeting_is_one_line(project, value, reason):
    make_issue(project)
    path = project / "pyproject.toml"
    path.write_text(
        path.read_text().replace("[tool.newsletter]\n", f"[tool.newsletter]\ngreeting = {value}\n")
    )
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    shown_value = value.strip('"')
    assert result.output == (
        f"Error: {path}:2: [tool.newsletter] greeting '{shown_value}' {reason}. "
        'Write it as "Dear {name}," (or "" for no greeting).\n'
    )
