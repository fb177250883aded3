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
    assert "options: cafile, helo, host, password_env, port, security, timeout, username" in (
        result.output
    )


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


@pytest.mark.parametrize(
    "settings,args,message",
    [
        (
            '[tool.newsletter.senders.smtp]\nhots = "x"\n',
            [],
            "[tool.newsletter.senders.smtp] unknown option 'hots'. Use one of: host, port, "
            "security, username, password_env, timeout, cafile, verify, helo.",
        ),
        ("", ["-o", "hots=x"], "-o (sender smtp) unknown option 'hots'. Use one of: host, "),
        (
            "",
            ["-o", "port=many"],
            "-o (sender smtp) port 'many' is not a whole number from 1 to 65535. "
            "Write a whole number from 1 to 65535.",
        ),
        ("", ["-o", "port=70000"], "port '70000' is not a whole number from 1 to 65535."),
        ("", ["-o", "timeout=0"], "timeout '0' is not a number of seconds above 0."),
        ("", ["-o", "helo=a\rb"], "helo 'a\\u000db' is more than one line."),
        ("", ["-o", "helo=a b"], "'helo' must be a host name or an address literal"),
        ("", ["-o", "cafile=/etc/passwd"], "cafile /etc/passwd holds no usable PEM"),
        ("", ["-o", "host=a\r\nb"], "host 'a\\u000d\\u000ab' is more than one line."),
        ("", ["-o", "host=a b"], "'host' 'a b' is not a host name."),
        ("", ["-o", "timeout=-5"], "timeout '-5' is not a number of seconds above 0."),
        ("", ["-o", "host"], "-o host: expected KEY=VALUE"),
        ("", ["-o", "security=ssl"], "security 'ssl' is not allowed. Use one of: starttls, tls"),
        ("", ["-o", "username=me"], "set both 'username' and 'password_env'"),
        (
            "",
            [
                "-o",
                "username=me",
                "-o",
                "password_env=PW",
                "-o",
                "host=mail.example.org",
                "-o",
                "security=none",
            ],
            "refusing to send a password unencrypted",
        ),
        (
            '[tool.newsletter.senders.smtp]\nport = "25"\n',
            [],
            "[tool.newsletter.senders.smtp] port '25' is not a whole number from 1 to 65535.",
        ),
        (
            "",
            ["--sender", "carrier-pigeon"],
            "sender 'carrier-pigeon': not installed. Installed senders: outbox, smtp",
        ),
        (
            f'[tool.newsletter.senders.x]\nplugin = "{"p" * 5000}"\n',
            ["--sender", "x"],
            f"sender '{'p' * 39}…': not installed. Installed senders: outbox, smtp",
        ),
        (
            "",
            ["-o", f"host=a b{'c' * 500}"],
            f"'host' 'a b{'c' * 36}…' is not a host name.",
        ),
    ],
)
def test_bad_sender_options_are_clear_errors(project, monkeypatch, settings, args, message):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings=settings)
    add_contacts(project, 1)
    sender = [] if "--sender" in args else ["--sender", "smtp", "-o", "host=127.0.0.1"]
    result = cli(project, "send", "2026-Q4", "--yes", *sender, *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(project) == []
