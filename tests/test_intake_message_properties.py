"""newsletter.intake, by property: any bytes as a message are read or skipped, safely.

A contribution email is written by anyone who knows the address. Whatever its
bytes, ``read_message`` returns a contribution or a reason and never raises; a
contribution's title and sender are one printable line, and its summary renders
(as the build renders it) to what the house sanitiser lets through. ``intake`` on
a mailbox of such messages ends cleanly and writes nothing but inbox files.
"""

from __future__ import annotations

import mailbox
import re
from email.errors import MessageError
from email.message import EmailMessage

from helpers import PROPERTY, examples, make_issue, unharmed
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.intake import Contribution, Skip, read_message
from newsletter.issue import summary_of
from newsletter.sanitize import clean_html

SECTIONS = ("news", "tools", "events", "spotlight")
_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<img src=x onerror="alert(1)">',
        "<!--[if gte mso 9]><xml><o:p/></xml><![endif]-->",
        "=?utf-8?b?PHNjcmlwdD4=?=",
        "\u202eevil\u202c",
        "Section: events\nDate: 31 February 2027",
        "Date: 12 March 2027",
        "https://example.org/a?utm_source=x&b=1",
        "<" * 50 + "div>" * 50,
        "\r\n.\r\n",
    ]
)
TEXT = st.one_of(st.text(max_size=200), HOSTILE, st.lists(HOSTILE, max_size=4).map("".join))


@st.composite
def messages(draw) -> bytes:
    """A message a mail client could have built, with any words in it."""
    msg = EmailMessage()
    for name in ("From", "Subject", "Message-ID", "Auto-Submitted", "Precedence"):
        if draw(st.booleans()):
            try:
                msg[name] = draw(TEXT)
            except (ValueError, TypeError, IndexError, MessageError):  # the library refuses it
                pass
    body = draw(TEXT)
    kind = draw(st.sampled_from(["plain", "html", "both", "attached"]))
    msg.set_content(body, subtype="html" if kind == "html" else "plain")
    if kind == "both":
        msg.add_alternative(f"<p>{body}</p>", subtype="html")
    if kind == "attached":
        msg.add_attachment(draw(st.binary(max_size=50)), maintype="application", subtype="pdf")
    if msg.is_multipart():
        msg.set_boundary("==b0undary==")  # the library would draw one from `random`
    try:
        return msg.as_bytes()
    except UnicodeError:  # a header the library cannot write as bytes: as a client would
        return msg.as_string().encode("utf-8", "surrogateescape")


def check(found: Contribution | Skip) -> None:
    if isinstance(found, Skip):
        assert found.why and "\n" not in found.why
        return
    for line in (found.title, found.name, found.address, *found.warnings):
        assert not _UNSEEN.search(line), line
    assert found.title and len(found.title) <= 200
    shown = summary_of(found.summary).html
    assert shown == clean_html(shown)
    assert "<script" not in shown.lower()
    assert not re.search(r"""<[^>]*\b(href|src)\s*=\s*["']?\s*javascript:""", shown, re.I)
    assert found.link is None or found.link.startswith(("http://", "https://"))


@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_skipped_never_a_crash(data):
    check(read_message(data, SECTIONS))


@given(messages())
def test_any_message_a_client_could_send_is_read_or_skipped_safely(data):
    check(read_message(data, SECTIONS))


@settings(max_examples=examples(25), **PROPERTY)
@given(st.lists(st.one_of(messages(), st.binary(max_size=500)), min_size=1, max_size=5))
def test_intake_of_any_mailbox_writes_only_inbox_files(project, tmp_path_factory, batch):
    folder = make_issue(project) if not (project / "issues" / "2026-Q4").is_dir() else None
    box = tmp_path_factory.mktemp("box") / "Maildir"
    mailbox.Maildir(box, create=True).close()
    for n, data in enumerate(batch):
        (box / "new" / f"{n:03d}").write_bytes(data)
    before = {p for p in project.rglob("*") if p.is_file()}
    result = unharmed(project, "intake", "2026-Q4", str(box))
    assert result.exit_code == 0, result.output
    added = {p for p in project.rglob("*") if p.is_file()} - before
    inbox = project / "issues" / "2026-Q4" / "inbox"
    assert all(p.parent == inbox or p.name.startswith("contacts.db") for p in added), added
    assert len(result.stdout.splitlines()) == len(batch) + 1
    del folder
