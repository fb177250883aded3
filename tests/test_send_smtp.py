"""`newsletter send` through a real SMTP server (aiosmtpd on 127.0.0.1), faults included."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re

import pytest
from helpers import (
    SECRET,
    SMTPServer,
    add_contacts,
    built,
    cli,
    ledger_rows,
    parse,
    set_status,
    smtp_args,
    suppress,
)

from newsletter.tokens import read_token


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def ready(project, monkeypatch):
    """A built issue and 12 subscribed contacts; fast retries."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings="[tool.newsletter.send]\nretry_delay = 0.01\n")
    add_contacts(project, 12)
    return project


def send(root, port, *extra):
    return cli(root, "send", "2026-Q4", "--yes", *smtp_args(port), *extra)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_one_clean_message_per_contact(ready, smtp, pipelining):
    smtp.handler.pipelining = pipelining
    result = send(ready, smtp.port)
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
    assert {r["status"] for r in ledger_rows(ready)} == {"sent"}
    ids = {parse(m.data)["Message-ID"] for m in smtp.messages}
    assert ids == {r["message_id"] for r in ledger_rows(ready)}


def test_4xx_is_retried_and_5xx_fails(ready, smtp):
    smtp.fail("person1@example.org", "451 4.3.0 Try again later")
    smtp.fail("person2@example.org", "421 4.3.2 Service shutting down", times=2)
    smtp.fail("person3@example.org", "450 4.2.1 Mailbox busy", stage="rcpt")
    smtp.fail("person4@example.org", "550 5.1.1 User unknown")
    smtp.fail("person5@example.org", "553 5.1.3 Bad address", stage="rcpt")
    result = send(ready, smtp.port)
    assert result.exit_code == 0, result.output
    counts = smtp.per_recipient()
    assert counts == {f"person{n}@example.org": 1 for n in range(12) if n not in (4, 5)}
    rows = {r["email"]: r for r in ledger_rows(ready)}
    assert rows["person4@example.org"]["status"] == "failed"
    assert rows["person4@example.org"]["last_error"] == "550 5.1.1 User unknown"
    assert rows["person5@example.org"]["last_error"].startswith("553")
    assert rows["person2@example.org"]["attempts"] == 3
    assert "4 retries" in result.output and "2 failed" in result.output
    status = cli(ready, "status", "2026-Q4")
    assert "failed: person4@example.org (contact 5, 1 attempt): 550 5.1.1 User unknown" in (
        status.output
    )


def test_a_connection_dropped_mid_data_is_retried(ready, smtp):
    smtp.fail("person0@example.org", stage="drop")
    smtp.fail("person7@example.org", stage="drop", times=2)
    result = send(ready, smtp.port, "--concurrency", "2")
    assert result.exit_code == 0, result.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}
    rows = {r["email"]: r for r in ledger_rows(ready)}
    assert rows["person7@example.org"]["attempts"] == 3


def test_retries_give_up_after_max_attempts(ready, smtp):
    smtp.fail("person3@example.org", "451 4.7.1 Greylisted", times=10)
    send(ready, smtp.port)
    row = {r["email"]: r for r in ledger_rows(ready)}["person3@example.org"]
    assert row["status"] == "failed" and row["attempts"] == 5
    assert row["last_error"] == "gave up after 5 attempts: 451 4.7.1 Greylisted"
    # --retry-failed queues it again, with a full set of attempts for this run:
    # the greylisting lasts three more tries.
    smtp.handler.faults.clear()
    smtp.fail("person3@example.org", "451 4.7.1 Greylisted", times=3)
    again = send(ready, smtp.port, "--retry-failed")
    assert again.exit_code == 0 and "Sent 1 via smtp" in again.output, again.output
    assert smtp.per_recipient()["person3@example.org"] == 1
    row = {r["email"]: r for r in ledger_rows(ready)}["person3@example.org"]
    assert row["status"] == "sent" and row["attempts"] == 9


def test_too_many_failures_in_a_row_pause_the_run(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings="[tool.newsletter.send]\nmax_consecutive_failures = 3\n")
    add_contacts(project, 12)
    for n in range(12):
        smtp.fail(f"person{n}@example.org", "554 5.7.1 Relay access denied")
    paused = send(project, smtp.port, "--concurrency", "1")
    assert paused.exit_code == 1
    assert "paused after 3 failures in a row; the last: 554 5.7.1 Relay access denied" in (
        paused.output
    )
    assert "(9 still queued)" in paused.output and not smtp.messages
    smtp.handler.faults.clear()  # the relay is fixed: the same command continues
    resumed = send(project, smtp.port)
    assert resumed.exit_code == 0 and "Sent 9 via smtp" in resumed.output, resumed.output
    assert "3 failed are left alone" in resumed.output


def test_refused_login_stops_before_anything_is_queued(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project)
    add_contacts(project, 3)
    server = SMTPServer(password="right").start()
    try:
        login = ["-o", "username=newsletter", "-o", "password_env=SMTP_PASSWORD"]
        monkeypatch.setenv("SMTP_PASSWORD", "wrong")
        result = send(project, server.port, *login)
        assert result.exit_code == 1
        assert "login as newsletter refused (535" in result.output
        assert "$SMTP_PASSWORD" in result.output and "wrong" not in result.output
        assert "Traceback" not in result.output
        assert ledger_rows(project) == [] and not server.messages
        monkeypatch.setenv("SMTP_PASSWORD", "right")
        result = send(project, server.port, *login)
        assert result.exit_code == 0, result.output
        assert len(server.messages) == 3
    finally:
        server.stop()


def test_unreachable_server_is_a_clear_error(ready):
    from helpers import free_port

    result = send(ready, free_port())
    assert result.exit_code == 1
    assert "cannot connect" in result.output and "Check host, port and security" in result.output
    assert ledger_rows(ready) == []


def test_rehearsal_and_real_send_have_separate_ledgers(ready, smtp):
    rehearsal = cli(ready, "send", "2026-Q4", "--yes")
    assert rehearsal.exit_code == 0 and "Sent 12 via outbox" in rehearsal.output
    real = send(ready, smtp.port)
    assert real.exit_code == 0 and "Sent 12 via smtp" in real.output, real.output
    assert len(smtp.messages) == 12
    status = cli(ready, "status", "2026-Q4").output
    assert "via outbox: 12 recipients" in status and "via smtp: 12 recipients" in status


def test_test_sends_are_not_recorded(ready, smtp):
    result = cli(
        ready,
        "send",
        "2026-Q4",
        *smtp_args(smtp.port),
        "--to",
        "editor@example.org",
        "--to",
        "Chief@Example.org",
    )
    assert result.exit_code == 0, result.output
    assert "Test to editor@example.org: sent (250 2.0.0 Ok: queued)" in result.output
    assert sorted(smtp.per_recipient()) == ["Chief@Example.org", "editor@example.org"]
    assert parse(smtp.messages[0].data)["Subject"].startswith("[TEST] The UN-Business")
    assert ledger_rows(ready) == []


@pytest.fixture
def tls(tmp_path):
    import ssl

    from helpers import self_signed

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_certificate_checks(project, monkeypatch, tls, security):
    cert, context = tls
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    monkeypatch.setenv("SMTP_PASSWORD", "right")
    built(project)
    add_contacts(project, 3)
    if security == "tls":
        server = SMTPServer(password="right", ssl_context=context).start()
    else:
        server = SMTPServer(password="right", tls_context=context, require_starttls=True).start()
    try:
        base = [
            "send",
            "2026-Q4",
            "--yes",
            "--sender",
            "smtp",
            "-o",
            "host=127.0.0.1",
            "-o",
            f"port={server.port}",
            "-o",
            f"security={security}",
            "-o",
            "username=nl",
            "-o",
            "password_env=SMTP_PASSWORD",
        ]
        refused = cli(project, *base)  # the certificate is not from a trusted CA
        assert refused.exit_code == 1 and "certificate check failed" in refused.output
        assert "set 'cafile' to the CA that signed it" in refused.output
        result = cli(project, *base, "-o", f"cafile={cert}")
        assert result.exit_code == 0, result.output
        assert len(server.messages) == 3
    finally:
        server.stop()


def test_dkim_signed_mail_verifies_as_received(project, monkeypatch, smtp, tmp_path):
    import dkim
    from test_message import dns_stub, rsa_key

    pem, der = rsa_key(2048)
    key_file = tmp_path / "keys" / "dkim.pem"
    key_file.parent.mkdir()
    key_file.write_bytes(pem)
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(
        project, settings=f'[tool.newsletter.send.dkim]\nselector = "nl"\nkey_file = "{key_file}"\n'
    )
    add_contacts(
        project,
        [
            {"email": "jose@example.org", "name": "José Núñez"},
            {"email": "ann@example.org", "name": 'Ann "The" Editor'},
        ],
    )
    result = send(project, smtp.port)
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 2
    for received in smtp.messages:
        assert received.data.startswith(b"DKIM-Signature: ")
        assert dkim.verify(received.data, dnsfunc=dns_stub(der))
    assert str(key_file) not in result.output and "PRIVATE KEY" not in result.output


def test_consent_is_checked_again_just_before_each_message(ready, smtp):
    accept = smtp.handler.handle_DATA

    async def first_message_changes_two_contacts(server, session, envelope):
        if not smtp.messages:  # mid-send, long after the snapshot
            set_status(ready, "person8@example.org", "unsubscribed")
            suppress(ready, "person9@example.org")
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = first_message_changes_two_contacts
    result = send(ready, smtp.port, "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert "Sent 10 via smtp" in result.output and "2 skipped" in result.output
    assert sorted(smtp.per_recipient()) == sorted(
        f"person{n}@example.org" for n in range(12) if n not in (8, 9)
    )


def test_a_server_that_caps_connections_gets_fewer(ready, smtp):
    smtp.handler.max_connections = 2
    result = send(ready, smtp.port, "--concurrency", "4")
    assert result.exit_code == 0, result.output
    assert (
        "Sending with 2 of 4 connections; the next could not be opened: smtp (127.0.0.1:"
        f"{smtp.port}): cannot connect (the server replied 421 4.7.0 Too many connections "
        "from your address)."
    ) in result.output
    assert "Sent 12 via smtp" in result.output and "0 retries" in result.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}


def test_a_server_that_hangs_up_after_n_messages_is_reconnected_at_once(ready, smtp):
    smtp.handler.per_connection = 3
    result = send(ready, smtp.port, "--concurrency", "2")
    assert result.exit_code == 0, result.output
    # Nothing of a message went out on the closed connection: no attempt spent on it.
    assert "Sent 12 via smtp" in result.output and "0 retries" in result.output
    assert {r["attempts"] for r in ledger_rows(ready)} == {1}
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}
    assert smtp.handler.connections >= 5


def test_a_refused_sender_stops_the_run_with_rows_still_queued(ready, smtp):
    async def refuse_mail(server, session, envelope, address, mail_options):
        return "553 5.7.1 Sender address not owned by the login"

    smtp.handler.handle_MAIL = refuse_mail
    result = send(ready, smtp.port, "--concurrency", "1")
    assert result.exit_code == 1
    assert (
        f"send stopped: smtp (127.0.0.1:{smtp.port}): the server refused the sender "
        "<focalpoint@example.org> (553 5.7.1 Sender address not owned by the login). "
        "Check from_address, return_path and the login, then run the same command to "
        "continue. (12 still queued)"
    ) in result.output
    assert {r["status"] for r in ledger_rows(ready)} == {"queued"}  # not 12 "failed"
    del smtp.handler.handle_MAIL
    again = send(ready, smtp.port)
    assert again.exit_code == 0 and "Sent 12 via smtp" in again.output, again.output


def test_a_server_silent_past_the_timeout_leaves_the_message_uncertain(ready, smtp):
    accept, slow = smtp.handler.handle_DATA, ["person0@example.org"]

    async def slow_once(server, session, envelope):
        if envelope.rcpt_tos == slow:
            slow.clear()
            await asyncio.sleep(2)
        return await accept(server, session, envelope)

    smtp.handler.handle_DATA = slow_once
    result = send(ready, smtp.port, "-o", "timeout=0.5")
    assert result.exit_code == 0, result.output
    assert "Sent 11 via smtp" in result.output and "1 uncertain" in result.output
    assert "uncertain: person0@example.org (contact 1, 1 attempt): no reply within 0.5 s " in (
        cli(ready, "status", "2026-Q4").output
    )
    # It may have arrived: a plain rerun leaves it, --retry-uncertain sends it.
    again = send(ready, smtp.port)
    assert "1 uncertain (may have arrived) are left alone" in again.output
    assert "person0@example.org" not in smtp.per_recipient()
    again = send(ready, smtp.port, "--retry-uncertain")
    assert again.exit_code == 0 and "Sent 1 via smtp" in again.output, again.output
    assert smtp.per_recipient() == {f"person{n}@example.org": 1 for n in range(12)}


def test_a_login_the_server_does_not_offer_is_a_clear_error(ready, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "secret-password")
    login = ["-o", "username=nl", "-o", "password_env=SMTP_PASSWORD"]
    result = send(ready, smtp.port, *login)
    assert result.exit_code == 1
    assert (
        "the server does not offer a login (no AUTH after EHLO). Remove 'username' and "
        "'password_env', or use the server's submission port."
    ) in result.output
    assert "secret-password" not in result.output and ledger_rows(ready) == []


def test_internationalised_sending_domain_goes_out_in_ascii(project, monkeypatch, smtp):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    toml = project / "pyproject.toml"
    text = toml.read_text().replace("focalpoint@example.org", "focalpoint@exämple.org")
    toml.write_text(text.replace("partnerships@example.org", "partners@exämple.org"))
    built(project, settings='[tool.newsletter.send]\nreturn_path = "bounces@exämple.org"\n')
    add_contacts(project, 2)
    result = send(project, smtp.port)
    assert result.exit_code == 0 and "Sent 2 via smtp" in result.output, result.output
    for received in smtp.messages:
        assert received.mail_from == "bounces@xn--exmple-cua.org"
        msg = parse(received.data)
        assert msg["From"].addresses[0].addr_spec == "focalpoint@xn--exmple-cua.org"
        assert msg["Reply-To"] == "partners@xn--exmple-cua.org"
        assert msg["Message-ID"].endswith("@xn--exmple-cua.org>")
        assert msg["List-Id"].endswith("<the-un-business-focal-point.xn--exmple-cua.org>")
        assert msg["Feedback-ID"] == "2026-Q4:newsletter:xn--exmple-cua.org"


def test_any_2xx_reply_is_success(ready, smtp):
    # RFC 5321 success is 2yz: 251/252 to RCPT, and any 2yz after the message.
    rcpt, data = smtp.handler.handle_RCPT, smtp.handler.handle_DATA

    async def will_forward(server, session, envelope, address, rcpt_options):
        await rcpt(server, session, envelope, address, rcpt_options)
        return "252 2.1.5 Cannot verify, will attempt delivery"

    async def accepted(server, session, envelope):
        await data(server, session, envelope)
        return "251 2.0.0 Accepted for forwarding"

    smtp.handler.handle_RCPT, smtp.handler.handle_DATA = will_forward, accepted
    result = send(ready, smtp.port)
    assert result.exit_code == 0 and "Sent 12 via smtp" in result.output, result.output
    assert {r["reply"] for r in ledger_rows(ready)} == {"251 2.0.0 Accepted for forwarding"}
    assert len(smtp.messages) == 12
