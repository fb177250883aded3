"""newsletter.send.senders.smtp: sending through a real SMTP server on 127.0.0.1, faults included."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re

import pytest
from helpers import SECRET, cli, ledger_rows, parse, smtp_send

from newsletter.tokens import read_return_token, read_token


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_one_clean_message_per_contact(smtp_ready, smtp, pipelining):
    smtp.handler.pipelining = pipelining
    result = smtp_send(smtp_ready, smtp.port)
    assert result.exit_code == 0, result.output
    assert "Sent 12 via smtp" in result.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}
    for received in smtp.messages:
        assert received.mail_from == "focalpoint@example.org"
        msg = parse(received.data)
        # The envelope and the To header name the same single recipient; no Cc, no Bcc.
        assert msg["To"].addresses[0].addr_spec == received.rcpt_tos[0]
        assert len(received.rcpt_tos) == 1 and msg["Cc"] is None and msg["Bcc"] is None
        assert msg["From"].addresses[0].addr_spec == "focalpoint@example.org"
        assert msg["Subject"] == "The UN-Business Focal Point: test issue"
        assert re.search(r"[+-]\d{4}$", msg["Date"])
        assert msg["Message-ID"].endswith("@example.org>")
        assert msg["List-Id"].endswith("<the-un-business-focal-point.example.org>")
        https, mailto = (u.strip(" <>") for u in msg["List-Unsubscribe"].split(","))
        token = https.rsplit("/", 1)[1]
        assert https.startswith("https://focalpoint.example.org/unsubscribe/")
        assert mailto == f"mailto:focalpoint@example.org?subject=unsubscribe%20{token}"
        assert read_token(SECRET.encode(), token)[1] == "2026-Q4"
        assert received.rcpt_tos[0] not in msg["List-Unsubscribe"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg.get_content_type() == "multipart/alternative"
        text, html = msg.iter_parts()
        assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
        for part in (text, html):
            assert part.get_content_charset() == "utf-8"
            assert part["Content-Transfer-Encoding"] == "quoted-printable"
            body = part.get_content()
            assert "685 Third Avenue" in body and f"/unsubscribe/{token}" in body
            assert received.rcpt_tos[0] in body and "%%" not in body
        n = received.rcpt_tos[0].removeprefix("person").split("@")[0]
        assert f"Dear Person {n}," in text.get_content()
        strict = email.message_from_bytes(received.data, policy=email.policy.strict)
        assert not [part.defects for part in strict.walk() if part.defects]
        assert not [v.defects for v in strict.values() if v.defects]
        lines = received.data.split(b"\r\n")
        assert max(map(len, lines)) <= 998 and all(b < 128 for b in received.data)
        assert b"\n" not in received.data.replace(b"\r\n", b"")
    assert {r["status"] for r in ledger_rows(smtp_ready)} == {"sent"}
    ids = {parse(m.data)["Message-ID"] for m in smtp.messages}
    assert ids == {r["message_id"] for r in ledger_rows(smtp_ready)}


def test_a_signed_return_path_gives_each_message_its_own_envelope_sender(smtp_ready, smtp):
    settings = smtp_ready / "pyproject.toml"
    settings.write_text(
        settings.read_text().replace(
            "retry_delay = 0.01\n",
            'retry_delay = 0.01\nreturn_path = "bounces+{token}@example.org"\n',
        )
    )
    result = smtp_send(smtp_ready, smtp.port)
    assert result.exit_code == 0, result.output
    contacts = {r["email"]: r["contact_id"] for r in ledger_rows(smtp_ready)}
    senders = set()
    for received in smtp.messages:
        local, domain = received.mail_from.split("@")
        assert (local[:8], domain, len(local) <= 64) == ("bounces+", "example.org", True)
        found = read_return_token(SECRET.encode(), local[8:])
        assert found.contact_id == contacts[received.rcpt_tos[0]] and found.names("2026-Q4")
        senders.add(received.mail_from)
    assert len(senders) == len(smtp.messages) == 12


def test_4xx_is_retried_and_5xx_fails(smtp_ready, smtp):
    smtp.fail("person1@example.org", "451 4.3.0 Try again later")
    smtp.fail("person2@example.org", "421 4.3.2 Service shutting down", times=2)
    smtp.fail("person3@example.org", "450 4.2.1 Mailbox busy", stage="rcpt")
    smtp.fail("person4@example.org", "550 5.1.1 User unknown")
    smtp.fail("person5@example.org", "553 5.1.3 Bad address", stage="rcpt")
    result = smtp_send(smtp_ready, smtp.port)
    assert result.exit_code == 0, result.output
    counts = smtp.per_recipient()
    assert counts == {f"person{n}@example.org": 1 for n in range(12) if n not in (4, 5)}
    rows = {r["email"]: r for r in ledger_rows(smtp_ready)}
    assert rows["person4@example.org"]["status"] == "failed"
    assert rows["person4@example.org"]["last_error"] == "550 5.1.1 User unknown"
    assert rows["person5@example.org"]["last_error"].startswith("553")
    assert rows["person2@example.org"]["attempts"] == 3
    assert "4 retries" in result.output and "2 failed" in result.output
    status = cli(smtp_ready, "status", "2026-Q4")
    assert "failed: person4@example.org (contact 5, 1 attempt): 550 5.1.1 User unknown" in (
        status.output
    )


def test_a_connection_dropped_before_the_message_is_retried(smtp_ready, smtp):
    smtp.fail("person0@example.org", stage="drop")
    smtp.fail("person7@example.org", stage="drop", times=3)
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "2")
    assert result.exit_code == 0, result.output
    assert "Sent 12 via smtp" in result.output and "0 uncertain" in result.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}
    rows = {r["email"]: r for r in ledger_rows(smtp_ready)}
    assert rows["person7@example.org"]["status"] == "sent"
    assert rows["person7@example.org"]["attempts"] >= 2


def test_a_connection_lost_after_the_final_dot_is_uncertain_not_retried(smtp_ready, smtp):
    # The server commits every 4th message, then hangs up before it replies: a retry
    # would deliver those twice (it did: 103 of 103 duplicated before).
    hung_up = [f"person{n}@example.org" for n in range(0, 12, 4)]
    for address in hung_up:
        smtp.fail(address, stage="hangup")
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "2")
    assert result.exit_code == 0, result.output
    assert "Sent 9 via smtp" in result.output and "3 uncertain" in result.output
    assert "0 retries" in result.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}
    rows = {r["email"]: r for r in ledger_rows(smtp_ready)}
    for address in hung_up:
        assert rows[address]["status"] == "uncertain" and rows[address]["attempts"] == 1
        assert rows[address]["last_error"] == (
            "the connection was lost after the message, before a reply"
        )
    again = smtp_send(smtp_ready, smtp.port)  # a plain rerun leaves them
    assert "3 uncertain (may have arrived) are left alone" in again.output, again.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}


def test_a_server_that_hangs_up_after_n_messages_is_reconnected_at_once(smtp_ready, smtp):
    smtp.handler.per_connection = 3
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "2")
    assert result.exit_code == 0, result.output
    # Nothing of a message went out on the closed connection: no attempt spent on it.
    assert "Sent 12 via smtp" in result.output and "0 retries" in result.output
    assert {r["attempts"] for r in ledger_rows(smtp_ready)} == {1}
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}
    assert smtp.handler.connections >= 5


def test_a_refused_sender_stops_the_run_with_rows_still_queued(smtp_ready, smtp):
    async def refuse_mail(server, session, envelope, address, mail_options):
        return "553 5.7.1 Sender address not owned by the login"

    smtp.handler.handle_MAIL = refuse_mail
    result = smtp_send(smtp_ready, smtp.port, "--concurrency", "1")
    assert result.exit_code == 1
    assert (
        f"send stopped: smtp (127.0.0.1:{smtp.port}): the server refused the sender "
        "<focalpoint@example.org> (553 5.7.1 Sender address not owned by the login). "
        "Check from_address, return_path and the login, then run the same command to "
        "continue. (12 still queued)"
    ) in result.output
    assert {r["status"] for r in ledger_rows(smtp_ready)} == {"queued"}  # not 12 "failed"
    del smtp.handler.handle_MAIL
    again = smtp_send(smtp_ready, smtp.port)
    assert again.exit_code == 0 and "Sent 12 via smtp" in again.output, again.output


def test_a_server_silent_past_the_timeout_leaves_the_message_uncertain(smtp_ready, smtp):
    accept, slow = smtp.handler.handle_DATA, ["person0@example.org"]

    async def slow_once(server, session, envelope):
        if envelope.rcpt_tos == slow:
            slow.clear()
            await asyncio.sleep(2)
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = slow_once
    result = smtp_send(smtp_ready, smtp.port, "-o", "timeout=0.5")
    assert result.exit_code == 0, result.output
    assert "Sent 11 via smtp" in result.output and "1 uncertain" in result.output
    assert "uncertain: person0@example.org (contact 1, 1 attempt): no reply within 0.5 s " in (
        cli(smtp_ready, "status", "2026-Q4").output
    )
    # It may have arrived: a plain rerun leaves it, --retry-uncertain sends it.
    again = smtp_send(smtp_ready, smtp.port)
    assert "1 uncertain (may have arrived) are left alone" in again.output
    assert "person0@example.org" not in smtp.per_recipient()
    again = smtp_send(smtp_ready, smtp.port, "--retry-uncertain")
    assert again.exit_code == 0 and "Sent 1 via smtp" in again.output, again.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}


def test_any_2xx_reply_is_success(smtp_ready, smtp):
    # RFC 5321 success is 2yz: 251/252 to RCPT, and any 2yz after the message.
    rcpt, data = smtp.handler.handle_RCPT, smtp.handler.handle_DATA

    async def will_forward(server, session, envelope, address, rcpt_options):
        await rcpt(server, session, envelope, address, rcpt_options)
        return "252 2.1.5 Cannot verify, will attempt delivery"

    async def accepted(server, session, envelope):
        await data(server, session, envelope)
        return "251 2.0.0 Accepted for forwarding"

    smtp.handler.handle_RCPT, smtp.handler.handle_DATA = will_forward, accepted
    result = smtp_send(smtp_ready, smtp.port)
    assert result.exit_code == 0 and "Sent 12 via smtp" in result.output, result.output
    assert {r["reply"] for r in ledger_rows(smtp_ready)} == {"251 2.0.0 Accepted for forwarding"}
    assert len(smtp.messages) == 12
