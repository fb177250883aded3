"""newsletter.intake on the shared corpus: the Big List of Naughty Strings as subjects,
bodies and sender names, and isemail's addresses as senders. Each message is read
or skipped; what is read is one printable line per field and a summary the house
sanitiser would leave as it is."""

from __future__ import annotations

import json
import mailbox
import re
import xml.etree.ElementTree as ET
from email.header import Header
from email.message import Message

from helpers import cli, make_issue

from newsletter.intake import Contribution, read_message
from newsletter.issue import summary_of
from newsletter.sanitize import clean_html

SECTIONS = ("news", "tools", "events", "spotlight")
_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def naughty(corpus) -> list[str]:
    return json.loads((corpus / "contacts/blns/blns.json").read_text(encoding="utf-8"))


def addresses(corpus) -> list[str]:
    tree = ET.parse(corpus / "contacts/isemail/tests.xml")
    found = [t.findtext("address") or "" for t in tree.getroot().iter("test")]
    # The file writes control characters as U+2400 + code (see its notes).
    return [
        "".join(chr(ord(c) - 0x2400) if 0x2400 <= ord(c) < 0x2420 else c for c in a) for a in found
    ]


def message(sender: str, subject: str, body: str) -> bytes:
    """A message as a client writes one: non-ASCII headers as encoded words, UTF-8 body."""
    msg = Message()
    msg["From"] = Header(sender, "utf-8")
    msg["Subject"] = Header(subject, "utf-8")
    msg.set_payload(body.encode("utf-8"), "utf-8")
    return msg.as_bytes()


def check(data: bytes) -> Contribution | None:
    found = read_message(data, SECTIONS)
    if not isinstance(found, Contribution):
        return None
    for line in (found.title, found.name, found.address, *found.warnings):
        assert not _UNSEEN.search(line), line
    shown = summary_of(found.summary).html
    assert shown == clean_html(shown)
    assert "<script" not in shown.lower()
    return found


def test_naughty_strings_as_subject_body_and_name_are_read_safely(corpus):
    strings = naughty(corpus)
    read = [
        check(message(f"{s} <a@who.example>", s, f"{s}\n\nhttps://who.example/x")) for s in strings
    ]
    assert sum(r is not None for r in read) > len(strings) // 2  # most are words to take


def test_every_isemail_address_as_sender_is_read_without_a_crash(corpus):
    for address in addresses(corpus):
        found = check(message(address, "A note", "Some news."))
        assert found is None or "\n" not in found.address


def test_a_maildir_of_naughty_messages_gives_one_line_each(corpus, project, tmp_path):
    make_issue(project)
    box = tmp_path / "box"
    mailbox.Maildir(box, create=True).close()
    strings = naughty(corpus)
    for n, s in enumerate(strings):
        (box / "new" / f"{n:04d}").write_bytes(message(f"{s} <x{n}@who.example>", s, s or "-"))
    result = cli(project, "intake", "2026-Q4", str(box), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert len(data["messages"]) == len(strings)
    for entry in data["messages"]:
        assert entry["candidate"] is None or re.fullmatch(r"[a-z0-9-]+\.md", entry["candidate"])
