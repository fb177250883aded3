"""newsletter.returns.bounces, by property: `newsletter bounces` on any mailbox ends cleanly.

A bounce mailbox holds whatever servers and strangers sent back: real reports that
name our Message-IDs and contacts, damaged ones, forgeries. Whatever it holds, the
command reads it (as an mbox or a Maildir) and ends without a traceback; when it
fails, contacts.db is as it was (helpers.unharmed).
"""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from helpers import PROPERTY, SECRET, cli, examples, ledger_rows, rows, unharmed
from hypothesis import given, settings
from hypothesis import strategies as st

SAMPLES = sorted((Path(__file__).parent / "data" / "bounces").glob("*.eml"))
ADDRESSES = [f"person{n}@example.org" for n in range(5)] + ["stranger@example.net", "a@b"]

REPORT = """\
From: {sender}
To: focalpoint@example.org
Subject: {subject}
{extra}
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

{text}
--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}
--b
Content-Type: message/rfc822-headers

Message-ID: {message_id}
To: {recipient}
--b--
"""


def reports(message_ids: list[str]) -> st.SearchStrategy[bytes]:
    """Delivery reports with each part right, wrong or strange."""
    text = st.one_of(st.text(max_size=30), st.sampled_from(["", "x\ny", "\x00", "é" * 5]))
    return st.builds(
        lambda **parts: REPORT.format(**parts).encode("utf-8", "surrogatepass"),
        sender=st.one_of(st.just("MAILER-DAEMON@mx.example.org"), text),
        subject=st.one_of(st.just("Undelivered Mail Returned to Sender"), text),
        extra=st.one_of(
            st.just(""),
            st.sampled_from(ADDRESSES).map(lambda a: f"X-Failed-Recipients: {a}"),
            st.just("Auto-Submitted: auto-replied"),
            text.map(lambda t: f"X-Junk: {t}"),
        ),
        text=text,
        recipient=st.one_of(st.sampled_from(ADDRESSES), text),
        action=st.sampled_from(["failed", "delayed", "delivered", "relayed", "", "x"]),
        status=st.one_of(
            st.sampled_from(["5.1.1", "4.2.2", "5.0.0", "2.0.0", "9.9.9", "5.1", ""]), text
        ),
        diagnostic=text,
        message_id=st.one_of(st.sampled_from(message_ids or ["<none@example.org>"]), text),
    )


def damaged() -> st.SearchStrategy[bytes]:
    """A sample bounce, cut short or with bytes changed."""
    return st.builds(
        lambda data, at, junk: data[:at] + junk + data[at + len(junk) :],
        st.sampled_from(SAMPLES).map(Path.read_bytes),
        st.integers(0, 4000),
        st.binary(max_size=8),
    )


def write_mailbox(folder: Path, messages: list[bytes], kind: str) -> Path:
    """The messages as an mbox file or a Maildir under ``folder``; its path."""
    if kind == "mbox":
        path = folder / "bounces.mbox"
        box: mailbox.Mailbox = mailbox.mbox(path)
    else:
        path = folder / "Maildir"
        box = mailbox.Maildir(path)
    for data in messages:
        box.add(data)
    box.close()
    return path


@pytest.fixture
def sent(outbox_ready):
    """The project after an outbox send: five contacts, each with a Message-ID of ours."""
    assert cli(outbox_ready, "send", "2026-Q4", "--yes").exit_code == 0
    return outbox_ready


@settings(max_examples=examples(100), **PROPERTY)
@given(data=st.data(), kind=st.sampled_from(["mbox", "maildir"]))
def test_bounces_on_any_mailbox_ends_cleanly(sent, tmp_path_factory, data, kind):
    ids = [row["message_id"] for row in ledger_rows(sent)]
    messages = data.draw(
        st.lists(st.one_of(reports(ids), damaged(), st.binary(max_size=200)), max_size=4)
    )
    path = write_mailbox(tmp_path_factory.mktemp("mail"), messages, kind)
    result = unharmed(sent, "bounces", str(path))
    assert result.exit_code == 0, result.output
    again = unharmed(sent, "bounces", str(path))  # a second run changes nothing more
    assert again.exit_code == 0 and again.output.endswith("; 0 contacts changed.\n")


FORGED = b"From: x@example.net\nSubject: failed\nX-Failed-Recipients: person0@example.org\n\nNo.\n"


# A forged three-line message once retired anyone: a bounce is applied only through a
# Message-ID of ours (or with --match-address). Each case on a fresh project, so the
# outcome never depends on what an earlier example changed.
@pytest.mark.parametrize("kind", ["mbox", "maildir"])
@pytest.mark.parametrize(
    "message",
    [
        FORGED,
        REPORT.format(
            sender="MAILER-DAEMON@mx.example.net",
            subject="Undelivered",
            extra="",
            text="gone",
            recipient="person1@example.org",
            action="failed",
            status="5.1.1",
            diagnostic="550 5.1.1 no such user",
            message_id="<not-ours@example.net>",
        ).encode(),
    ],
    ids=["x-failed-recipients", "report-for-another-message"],
)
def test_a_bounce_without_our_message_id_changes_no_contact(sent, tmp_path, message, kind):
    before = rows(sent / "contacts.db")
    (tmp_path / "mail").mkdir()
    path = write_mailbox(tmp_path / "mail", [message], kind)
    result = unharmed(sent, "bounces", str(path))
    assert result.exit_code == 0, result.output
    assert rows(sent / "contacts.db") == before


B32 = "abcdefghijklmnopqrstuvwxyz234567"


@st.composite
def forged_tokens(draw, genuine: list[str]) -> str:
    """Made-up base32, or a genuine return-path token with one character changed."""
    if draw(st.booleans()):
        return draw(st.text(B32 + B32.upper(), min_size=1, max_size=45))
    token = draw(st.sampled_from(genuine))
    at = draw(st.integers(0, len(token) - 1))
    char = draw(st.sampled_from([c for c in B32 if c != token[at]]))
    return token[:at] + char + token[at + 1 :]


# A signed return path is matched first: a token that does not verify must never
# apply by itself, nor let the address the report names apply it. Only a genuine
# Message-ID of ours may, as with no token at all (the rotated-secret case).
@settings(max_examples=examples(40), **PROPERTY)
@given(data=st.data())
def test_a_forged_return_path_token_changes_no_contact(signed_sent, tmp_path_factory, data):
    from newsletter.tokens import make_return_token

    contacts = [row["contact_id"] for row in ledger_rows(signed_sent)]
    genuine = [make_return_token(SECRET.encode(), c, "2026-Q4") for c in contacts]
    token = data.draw(forged_tokens(genuine))
    # Quoting no Message-ID of ours: a genuine one may apply it (the rotated secret).
    report = data.draw(reports([])).replace(
        b"To: focalpoint@example.org", f"To: bounces+{token}@example.org".encode()
    )
    before = rows(signed_sent / "contacts.db")
    path = write_mailbox(tmp_path_factory.mktemp("mail"), [report], "mbox")
    result = unharmed(signed_sent, "bounces", str(path))
    assert result.exit_code == 0, result.output
    assert rows(signed_sent / "contacts.db") == before, result.output


@pytest.fixture
def signed_sent(outbox_ready, monkeypatch):
    """An outbox send with a signed return path and NEWSLETTER_SECRET set."""
    settings_file = outbox_ready / "pyproject.toml"
    settings_file.write_text(
        settings_file.read_text()
        + '\n[tool.newsletter.send]\nreturn_path = "bounces+{token}@example.org"\n'
    )
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    assert cli(outbox_ready, "send", "2026-Q4", "--yes").exit_code == 0
    return outbox_ready
