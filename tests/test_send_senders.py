"""newsletter.send.senders: sender plugins by entry point, their options, a third-party sender."""

from __future__ import annotations

import json

import pytest
from helpers import SECRET, add_contacts, built, cli, ledger_rows, parse

TINY = '''
"""A third-party sender: appends each message to a JSON-lines file."""
import json
from pathlib import Path


class TinySender:
    description = "Append messages to a JSON-lines file (a test plugin)."
    options = {"path": str, "fail_for": str}

    def __init__(self, options, context):
        self.path = Path(options["path"])
        self.fail_for = options.get("fail_for", "")
        self.name = context.name

    def open(self):
        pass

    def send(self, message, data):
        from newsletter.send.senders import PERMANENT, SENT, Result

        if message.recipient == self.fail_for:
            return Result(PERMANENT, "550 no thanks")
        with open(self.path, "a") as fh:
            record = {"to": message.recipient, "id": message.message_id, "sender": self.name,
                      "data": data.decode("ascii")}
            fh.write(json.dumps(record) + "\\n")
        return Result(SENT, "250 stored")

    def close(self):
        pass
'''


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Install ``tiny-sender`` the way pip lays out a wheel: module plus dist-info."""
    site = tmp_path / "site"
    (site / "tiny_sender-1.0.dist-info").mkdir(parents=True)
    (site / "tiny_sender.py").write_text(TINY)
    (site / "tiny_sender-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tiny-sender\nVersion: 1.0\n"
    )
    (site / "tiny_sender-1.0.dist-info" / "entry_points.txt").write_text(
        "[newsletter.senders]\ntiny = tiny_sender:TinySender\n"
    )
    monkeypatch.syspath_prepend(str(site))
    return tmp_path / "sent.jsonl"


def test_builtin_senders_are_listed():
    result = cli(".", "senders")
    assert result.exit_code == 0
    assert "outbox (newsletter 0.1.0): Write one .eml file per recipient" in result.output
    assert "smtp (newsletter 0.1.0): Send through an SMTP server" in result.output
    options = (
        "options: auth, cafile, helo, host, max_per_day, max_per_minute, oauth, password_env, "
        "port, provider, security, timeout, username, verify"
    )
    assert options in result.output


def test_a_third_party_sender_is_installed_and_used(project, tiny, monkeypatch):
    listed = cli(project, "senders")
    assert "tiny (tiny-sender 1.0): Append messages to a JSON-lines file" in listed.output
    built(project, settings=f'[tool.newsletter.senders.tiny]\npath = "{tiny}"\n')
    add_contacts(project, 4)
    refused = cli(project, "send", "2026-Q4", "--yes", "--sender", "tiny")
    assert refused.exit_code == 1 and "sender tiny delivers real mail" in refused.output
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    result = cli(
        project,
        "send",
        "2026-Q4",
        "--yes",
        "--sender",
        "tiny",
        "-o",
        "fail_for=person2@example.org",
    )
    assert result.exit_code == 0, result.output
    assert "Sent 3 via tiny" in result.output
    assert "failed: person2@example.org: 550 no thanks" in result.output
    records = sorted(
        (json.loads(line) for line in tiny.read_text().splitlines()), key=lambda r: r["to"]
    )
    assert [r["to"] for r in records] == [
        "person0@example.org",
        "person1@example.org",
        "person3@example.org",
    ]
    msg = parse(records[0]["data"].encode("ascii"))
    assert msg["Message-ID"] == records[0]["id"]
    assert {r["sender"] for r in ledger_rows(project)} == {"tiny"}


def test_a_configuration_can_name_its_plugin(project, tiny, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    settings = f'[tool.newsletter.senders.archive]\nplugin = "tiny"\npath = "{tiny}"\n'
    built(project, settings=settings)
    add_contacts(project, 2)
    result = cli(project, "send", "2026-Q4", "--yes", "--sender", "archive")
    assert result.exit_code == 0 and "Sent 2 via archive" in result.output, result.output
    assert "configured: [tool.newsletter.senders.archive]" in cli(project, "senders").output
    assert {json.loads(line)["sender"] for line in tiny.read_text().splitlines()} == {"archive"}


SMTP_TABLE = "[tool.newsletter.senders.smtp]"
SMTP_OPTIONS = (
    "host, port, security, username, password_env, timeout, cafile, verify, helo, provider, "
    "auth, oauth, max_per_minute, max_per_day."
)


# A mistake in the settings exits 1 and names pyproject.toml, its line and table; one
# typed on the command line is a usage error (exit 2) naming the -o option it was in.
@pytest.mark.parametrize(
    "settings,args,code,message",
    [
        (
            f'{SMTP_TABLE}\nhots = "x"\n',
            [],
            1,
            f"pyproject.toml:16: {SMTP_TABLE} unknown option 'hots'. Use one of: {SMTP_OPTIONS}",
        ),
        (
            "",
            ["-o", "hots=x"],
            2,
            f"-o hots=x (sender smtp): unknown option 'hots'. Use one of: {SMTP_OPTIONS}",
        ),
        (
            "",
            ["-o", "port=many"],
            2,
            "-o port=many (sender smtp): port 'many' is not a whole number from 1 to 65535. "
            "Write a whole number from 1 to 65535.",
        ),
        (
            "",
            ["-o", "port=70000"],
            2,
            "-o port=70000 (sender smtp): port '70000' is not a whole number from 1 to 65535. "
            "Write a whole number from 1 to 65535.",
        ),
        (
            "",
            ["-o", "timeout=0"],
            2,
            "-o timeout=0 (sender smtp): timeout '0' is not a number of seconds above 0. "
            "Write a number of seconds above 0.",
        ),
        (
            "",
            ["-o", "helo=a\rb"],
            2,
            "-o helo=a\\u000db (sender smtp): helo 'a\\u000db' is more than one line. "
            "Remove the line breaks.",
        ),
        (
            "",
            ["-o", "helo=a b"],
            2,
            "-o helo=a b (sender smtp): 'helo' must be a host name or an address literal "
            "such as [192.0.2.1].",
        ),
        (
            "",
            ["-o", "cafile=/etc/passwd"],
            2,
            "-o cafile=/etc/passwd (sender smtp): cafile /etc/passwd holds no usable PEM "
            "certificate (NO_CERTIFICATE_OR_CRL_FOUND).",
        ),
        (
            "",
            ["-o", "host=a\r\nb"],
            2,
            "-o host=a\\u000d\\u000ab (sender smtp): host 'a\\u000d\\u000ab' is more than "
            "one line. Remove the line breaks.",
        ),
        ("", ["-o", "host=a b"], 2, "-o host=a b (sender smtp): 'host' 'a b' is not a host name."),
        # A label over 63 characters was a UnicodeError traceback from getaddrinfo.
        (
            "",
            ["-o", f"host={'a' * 64}.example.org"],
            2,
            f"-o host={'a' * 54}… (sender smtp): 'host' '{'a' * 39}…' is not a host name.",
        ),
        (
            "",
            ["-o", "host=mail..example.org"],
            2,
            "-o host=mail..example.org (sender smtp): 'host' 'mail..example.org' is not a "
            "host name.",
        ),
        (
            "",
            ["-o", "timeout=-5"],
            2,
            "-o timeout=-5 (sender smtp): timeout '-5' is not a number of seconds above 0. "
            "Write a number of seconds above 0.",
        ),
        # The OAuth login (XOAUTH2) and the provider presets.
        (
            "",
            ["-o", "auth=xoauth2"],
            2,
            "-o auth=xoauth2 (sender smtp): auth = 'xoauth2' needs oauth = 'microsoft365' or "
            "'google' (who issues the token).",
        ),
        (
            "",
            ["-o", "oauth=google", "-o", "auth=password"],
            2,
            "-o oauth=google (sender smtp): 'oauth' is for auth = 'xoauth2'. Remove one of them.",
        ),
        (
            "",
            ["-o", "provider=microsoft365"],
            2,
            "-o provider=microsoft365 (sender smtp): 'username' is missing: XOAUTH2 signs in "
            'as the mailbox that sends. Add username = "newsletter@example.org".',
        ),
        (
            "",
            ["-o", "provider=google", "-o", "username=me@example.org", "-o", "password_env=PW"],
            2,
            "-o password_env=PW (sender smtp): 'password_env' is not used with an OAuth login. "
            "Remove it.",
        ),
        (
            "",
            ["-o", "provider=google", "-o", "username=me@example.org"]
            + ["-o", "host=smtp.example.org", "-o", "security=none"],
            2,
            "-o security=none (sender smtp): refusing to send an OAuth token unencrypted to "
            "smtp.example.org. Set security = 'starttls' or 'tls'.",
        ),
        (
            "",
            ["-o", "provider=yahoo"],
            2,
            "-o provider=yahoo (sender smtp): provider 'yahoo' is not allowed. "
            "Use one of: microsoft365, google.",
        ),
        (
            "",
            ["-o", "max_per_day=-1"],
            2,
            "-o max_per_day=-1 (sender smtp): max_per_day '-1' is not a whole number from 0 "
            "to 100,000,000. Write a whole number from 0 to 100,000,000.",
        ),
        (
            f'{SMTP_TABLE}\nprovider = "microsoft365"\n',
            [],
            1,
            f"pyproject.toml:16: {SMTP_TABLE} 'username' is missing: XOAUTH2 signs in as the "
            'mailbox that sends. Add username = "newsletter@example.org".',
        ),
        ("", ["-o", "host"], 2, "-o host: expected KEY=VALUE, e.g. -o port=2525."),
        (
            "",
            ["-o", "security=ssl"],
            2,
            "-o security=ssl (sender smtp): security 'ssl' is not allowed. "
            "Use one of: starttls, tls, none.",
        ),
        (
            "",
            ["-o", "username=me"],
            2,
            "-o username=me (sender smtp): set both 'username' and 'password_env' (the name "
            "of the environment variable holding the password), or neither.",
        ),
        (
            "",
            ["-o", "username=me", "-o", "password_env=PW", "-o", "host=mail.example.org"]
            + ["-o", "security=none"],
            2,
            "-o security=none (sender smtp): refusing to send a password unencrypted to "
            "mail.example.org. Set security = 'starttls' or 'tls'.",
        ),
        (
            f'{SMTP_TABLE}\nusername = "me"\n',
            [],
            1,
            f"pyproject.toml:16: {SMTP_TABLE} set both 'username' and 'password_env' (the name "
            "of the environment variable holding the password), or neither.",
        ),
        (
            f'{SMTP_TABLE}\nhelo = "a b"\n',
            [],
            1,
            f"pyproject.toml:16: {SMTP_TABLE} 'helo' must be a host name or an address literal "
            "such as [192.0.2.1].",
        ),
        (
            f'{SMTP_TABLE}\nport = "25"\n',
            [],
            1,
            f"pyproject.toml:16: {SMTP_TABLE} port '25' is text in quotes, not a whole number "
            "from 1 to 65535. Write the number without quotes.",
        ),
        (
            "",
            ["--sender", "carrier-pigeon"],
            1,
            "sender 'carrier-pigeon': not installed. Installed senders: outbox, ses, smtp. "
            "List them with: newsletter senders",
        ),
        (
            f'[tool.newsletter.senders.x]\nplugin = "{"p" * 5000}"\n',
            ["--sender", "x"],
            1,
            f"sender '{'p' * 39}…': not installed. Installed senders: outbox, ses, smtp. "
            "List them with: newsletter senders",
        ),
        (
            "",
            ["-o", f"host=a b{'c' * 500}"],
            2,
            f"-o host=a b{'c' * 51}… (sender smtp): 'host' 'a b{'c' * 36}…' is not a host name.",
        ),
    ],
)
def test_bad_sender_options_are_clear_errors(project, monkeypatch, settings, args, code, message):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings=settings)
    add_contacts(project, 1)
    sender = [] if "--sender" in args else ["--sender", "smtp", "-o", "host=127.0.0.1"]
    result = cli(project, "send", "2026-Q4", "--yes", *sender, *args)
    assert result.exit_code == code
    last = result.output.splitlines()[-1]
    where = (
        f"Error: {project / 'pyproject.toml'}"
        if message.startswith("pyproject.toml")
        else "Error: "
    )
    assert last == where + message.removeprefix("pyproject.toml")
    assert ledger_rows(project) == []
