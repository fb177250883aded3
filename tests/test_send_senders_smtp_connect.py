"""newsletter.send.senders.smtp_connect: connecting, TLS with certificate checks, and login."""

from __future__ import annotations

import pytest
from aiosmtpd.smtp import AuthResult
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

from newsletter.config import load_settings
from newsletter.send.senders import Limits, SenderContext
from newsletter.send.senders.smtp_connect import Server


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


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"provider": "microsoft365", "username": "nl@example.org"},
            ("smtp.office365.com", 587, "starttls", "microsoft365", Limits(30, 10_000)),
        ),
        (
            {"provider": "google", "username": "nl@example.org"},
            ("smtp.gmail.com", 587, "starttls", "google", Limits(0, 2_000)),
        ),
        # Options set explicitly win over the preset's.
        (
            {"provider": "microsoft365", "username": "nl@example.org", "port": 25}
            | {"max_per_day": 5_000, "max_per_minute": 0},
            ("smtp.office365.com", 25, "starttls", "microsoft365", Limits(0, 5_000)),
        ),
        (
            {"provider": "microsoft365", "auth": "password", "username": "nl"}
            | {"password_env": "PW"},
            ("smtp.office365.com", 587, "starttls", "", Limits(30, 10_000)),
        ),
        (
            {"host": "relay.example.org", "username": "nl", "password_env": "PW"},
            ("relay.example.org", 587, "starttls", "", Limits()),
        ),
        (
            {"host": "relay.example.org", "username": "nl@example.org", "oauth": "google"},
            ("relay.example.org", 587, "starttls", "google", Limits()),
        ),
    ],
)
def test_provider_presets_and_explicit_options(project, options, expected):
    context = SenderContext("smtp", "2026-Q4", project / "issues", load_settings(project))
    server = Server.from_options(options, context)
    assert (server.host, server.port, server.security, server.oauth, server.limits) == expected


def test_microsoft_refusing_basic_auth_points_to_the_oauth_preset(smtp_ready, monkeypatch):
    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(
            success=False,
            handled=False,
            message="550 5.7.30 Basic authentication is not supported for Client Submission.",
        )

    server = SMTPServer(authenticator=refuse, auth_require_tls=False).start()
    try:
        monkeypatch.setenv("SMTP_PASSWORD", "secret-password")
        result = smtp_send(
            smtp_ready, server.port, "-o", "username=nl", "-o", "password_env=SMTP_PASSWORD"
        )
    finally:
        server.stop()
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"Error: smtp (127.0.0.1:{server.port}): login as nl refused (550 5.7.30 Basic "
        "authentication is not supported for Client Submission.). Microsoft 365 takes no "
        "passwords for sending: set provider = 'microsoft365' (an OAuth login; see the README)."
    )
    assert "secret-password" not in result.output
