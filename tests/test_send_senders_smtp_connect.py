"""newsletter.send.senders.smtp_connect: connecting, TLS with certificate checks, and login."""

from __future__ import annotations

import pytest
from helpers import (
    SECRET,
    SMTPServer,
    add_contacts,
    built,
    cli,
    free_port,
    ledger_rows,
    self_signed,
    smtp_send,
)


def test_refused_login_stops_before_anything_is_queued(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project)
    add_contacts(project, 3)
    server = SMTPServer(password="right").start()
    try:
        login = ["-o", "username=newsletter", "-o", "password_env=SMTP_PASSWORD"]
        monkeypatch.setenv("SMTP_PASSWORD", "wrong")
        result = smtp_send(project, server.port, *login)
        assert result.exit_code == 1
        assert "login as newsletter refused (535" in result.output
        assert "$SMTP_PASSWORD" in result.output and "wrong" not in result.output
        assert "Traceback" not in result.output
        assert ledger_rows(project) == [] and not server.messages
        monkeypatch.setenv("SMTP_PASSWORD", "right")
        result = smtp_send(project, server.port, *login)
        assert result.exit_code == 0, result.output
        assert len(server.messages) == 3
    finally:
        server.stop()


def test_unreachable_server_is_a_clear_error(smtp_ready):

    result = smtp_send(smtp_ready, free_port())
    assert result.exit_code == 1
    assert "cannot connect" in result.output and "Check host, port and security" in result.output
    assert ledger_rows(smtp_ready) == []


@pytest.fixture
def tls(tmp_path):
    import ssl

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


def test_a_login_the_server_does_not_offer_is_a_clear_error(smtp_ready, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "secret-password")
    login = ["-o", "username=nl", "-o", "password_env=SMTP_PASSWORD"]
    result = smtp_send(smtp_ready, smtp.port, *login)
    assert result.exit_code == 1
    assert (
        "the server does not offer a login (no AUTH after EHLO). Remove 'username' and "
        "'password_env', or use the server's submission port."
    ) in result.output
    assert "secret-password" not in result.output and ledger_rows(smtp_ready) == []
