"""newsletter.send.senders.oauth: XOAUTH2 logins with tokens from MSAL and google-auth.

The whole path runs for real on 127.0.0.1: environment variables, an HTTPS token
service (tests/helpers.py TokenServer, trusted through REQUESTS_CA_BUNDLE), the
XOAUTH2 login to aiosmtpd (OAuthHandler), and the messages it accepts.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from helpers import (
    OAuthHandler,
    SMTPServer,
    TokenServer,
    ledger_rows,
    no_traceback,
    rsa_key_pem,
    smtp_send,
)

from newsletter.send.senders import oauth

MAILBOX = "newsletter@unglobalcompact.example"
CLIENT, CLIENT_SECRET = "client-0a1b", "m365-client-secret-value-xyz"
G_CLIENT, G_SECRET, REFRESH = "g-client.apps", "google-client-secret-abc", "1//refresh-token-def"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Each test starts with no token cached, and with none of the real variables."""
    monkeypatch.setattr(oauth, "_sources", {})
    for name in [*oauth.M365_ENV.values(), *oauth.GOOGLE_ENV.values()]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def smtp_oauth():
    handler = OAuthHandler(MAILBOX)
    server = SMTPServer(handler=handler, auth_require_tls=False).start()
    yield server
    server.stop()


@pytest.fixture
def tokens(tmp_path, smtp_oauth, monkeypatch):
    """The token service, with the Microsoft and Google apps registered and their
    variables exported; the tests choose the provider with -o provider=."""
    with TokenServer(tmp_path, smtp_oauth.handler) as server:
        server.clients = {CLIENT: CLIENT_SECRET, G_CLIENT: G_SECRET}
        server.refresh_tokens = {REFRESH}
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.cert)
        monkeypatch.setenv(oauth.M365_AUTHORITY_ENV, server.url)
        monkeypatch.setenv(oauth.GOOGLE_TOKEN_URI_ENV, f"{server.url}/google/token")
        monkeypatch.setenv("NEWSLETTER_M365_TENANT_ID", server.tenant)
        monkeypatch.setenv("NEWSLETTER_M365_CLIENT_ID", CLIENT)
        monkeypatch.setenv("NEWSLETTER_M365_CLIENT_SECRET", CLIENT_SECRET)
        yield server


def google_refresh(monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_GOOGLE_CLIENT_ID", G_CLIENT)
    monkeypatch.setenv("NEWSLETTER_GOOGLE_CLIENT_SECRET", G_SECRET)
    monkeypatch.setenv("NEWSLETTER_GOOGLE_REFRESH_TOKEN", REFRESH)


def send(project, smtp, provider: str = "microsoft365", *extra: str):
    """``newsletter send`` with the preset, pointed at the local server; no per-minute cap,
    so twelve messages do not take twenty seconds."""
    login = ["-o", f"provider={provider}", "-o", f"username={MAILBOX}"]
    return smtp_send(project, smtp.port, *login, "-o", "max_per_minute=0", *extra)


def no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_the_xoauth2_initial_response():
    initial = oauth.sasl("someone@example.org", "ya29.token")
    assert initial == "user=someone@example.org\x01auth=Bearer ya29.token\x01\x01"
    # smtplib base64-encodes the initial response, as RFC 4954 and XOAUTH2 want it.
    wire = base64.b64encode(initial.encode()).decode()
    assert wire == "dXNlcj1zb21lb25lQGV4YW1wbGUub3JnAWF1dGg9QmVhcmVyIHlhMjkudG9rZW4BAQ=="


def test_microsoft365_client_secret_sends_through_xoauth2(smtp_ready, smtp_oauth, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    result = send(smtp_ready, smtp_oauth)
    assert result.exit_code == 0, result.output
    assert len(smtp_oauth.messages) == 12
    # Four connections, one token: MSAL's cache serves the other three.
    assert len(tokens.issued) == 1
    assert tokens.requests == [
        f"GET /{tokens.tenant}/v2.0/.well-known/openid-configuration",
        f"POST /{tokens.tenant}/oauth2/v2.0/token",
    ]
    assert smtp_oauth.handler.logins == [(MAILBOX, tokens.issued[0], True)] * 4
    no_secret(result.output + caplog.text, CLIENT_SECRET, tokens.issued[0])


def test_microsoft365_certificate_credential(smtp_ready, smtp_oauth, tokens, tmp_path, monkeypatch):
    pem, public = rsa_key_pem()
    key_file = tmp_path / "app-key.pem"
    key_file.write_bytes(pem)
    tokens.public_keys[CLIENT] = public
    monkeypatch.delenv("NEWSLETTER_M365_CLIENT_SECRET")
    monkeypatch.setenv("NEWSLETTER_M365_CERT_FILE", str(key_file))
    monkeypatch.setenv("NEWSLETTER_M365_CERT_THUMBPRINT", "A" * 40)
    result = send(smtp_ready, smtp_oauth)
    assert result.exit_code == 0, result.output
    assert len(smtp_oauth.messages) == 12 and len(tokens.issued) == 1
    assert "PRIVATE KEY" not in result.output


def test_google_refresh_token(smtp_ready, smtp_oauth, tokens, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    google_refresh(monkeypatch)
    result = send(smtp_ready, smtp_oauth, "google")
    assert result.exit_code == 0, result.output
    assert len(smtp_oauth.messages) == 12
    assert tokens.requests == ["POST /google/token"]
    no_secret(result.output + caplog.text, G_SECRET, REFRESH, tokens.issued[0])


def test_google_service_account_acts_as_the_mailbox(
    smtp_ready, smtp_oauth, tokens, tmp_path, monkeypatch
):
    pem, public = rsa_key_pem()
    email = "sender@newsletter-project.iam.gserviceaccount.com"
    tokens.public_keys[email] = public
    key = {
        "type": "service_account",
        "project_id": "newsletter-project",
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": email,
        "client_id": "1234",
        "token_uri": "https://oauth2.googleapis.com/token",  # NEWSLETTER_GOOGLE_TOKEN_URI wins
    }
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(key))
    monkeypatch.setenv("NEWSLETTER_GOOGLE_SERVICE_ACCOUNT_FILE", str(path))
    result = send(smtp_ready, smtp_oauth, "google")
    assert result.exit_code == 0, result.output
    assert len(smtp_oauth.messages) == 12 and tokens.requests == ["POST /google/token"]


@pytest.mark.parametrize(
    ("provider", "expires_in", "fetched"),
    [
        ("microsoft365", 3600, 1),  # cached for the run
        ("microsoft365", 60, 3),  # within 5 minutes of expiry: each connection renews
        ("google", 3600, 1),
        ("google", 60, 3),
    ],
)
def test_a_token_near_expiry_is_renewed_for_a_new_connection(
    smtp_ready, smtp_oauth, tokens, monkeypatch, provider, expires_in, fetched
):
    google_refresh(monkeypatch)
    tokens.expires_in = expires_in
    result = send(smtp_ready, smtp_oauth, provider, "--concurrency", "3")
    assert result.exit_code == 0, result.output
    assert len(tokens.issued) == fetched
    used = [token for _, token, _ in smtp_oauth.handler.logins]
    assert used == (tokens.issued * 3 if fetched == 1 else tokens.issued)


def test_a_refused_token_mid_run_is_renewed_once(smtp_ready, smtp_oauth, tokens):
    """The server drops the connection after 4 messages; the cached token no longer
    works for the next login (revoked), so the sender fetches a new one and goes on."""
    smtp_oauth.handler.single_use = True
    smtp_oauth.handler.per_connection = 4
    result = send(smtp_ready, smtp_oauth, "microsoft365", "--concurrency", "1")
    assert result.exit_code == 0, result.output
    assert len(smtp_oauth.messages) == 12
    accepted = [ok for _, _, ok in smtp_oauth.handler.logins]
    assert accepted == [True, False, True, False, True]
    assert len(tokens.issued) == 3


def test_no_new_token_mid_run_stops_the_run_with_the_rest_queued(smtp_ready, smtp_oauth, tokens):
    smtp_oauth.handler.single_use = True
    smtp_oauth.handler.per_connection = 4
    tokens.max_tokens = 1  # the client secret is revoked after the first token
    result = send(smtp_ready, smtp_oauth, "microsoft365", "--concurrency", "1")
    assert result.exit_code == 1
    no_traceback(result)
    assert result.output.splitlines()[-1] == (
        "Error: issues/2026-Q4: send stopped: Microsoft 365: no token for client "
        f"{CLIENT} in tenant {tokens.tenant} (AADSTS7000215: Invalid client secret "
        "provided.). Check NEWSLETTER_M365_CLIENT_ID and the secret or certificate. "
        "(8 still queued)"
    )
    assert len(smtp_oauth.messages) == 4
    statuses = sorted(row["status"] for row in ledger_rows(smtp_ready))
    assert statuses == ["queued"] * 8 + ["sent"] * 4
    no_secret(result.output, CLIENT_SECRET, *tokens.issued)


def test_a_refused_token_is_one_clear_line(smtp_ready, smtp_oauth, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    smtp_oauth.handler.user = "someone-else@example.org"  # the token is not for this mailbox
    result = send(smtp_ready, smtp_oauth)
    assert result.exit_code == 1
    no_traceback(result)
    assert result.output.splitlines()[-1] + "\n" == (
        f"Error: smtp (127.0.0.1:{smtp_oauth.port}): the server refused the OAuth token for "
        f"{MAILBOX} (535 5.7.8 Authentication credentials invalid; status 401). Check the "
        "app's permissions (Microsoft 365: SMTP.SendAsApp and the mailbox's SMTP AUTH; "
        "Google: access to https://mail.google.com/) and that the token is for this mailbox.\n"
    )
    assert len(tokens.issued) == 2  # the cached one, then one new one; then it gives up
    assert ledger_rows(smtp_ready) == [] and not smtp_oauth.messages
    no_secret(result.output + caplog.text, CLIENT_SECRET, *tokens.issued)


def test_a_refused_client_secret_is_one_clear_line(smtp_ready, smtp_oauth, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    tokens.refuse = True
    result = send(smtp_ready, smtp_oauth)
    assert result.exit_code == 1
    no_traceback(result)
    assert result.output.splitlines()[-1] + "\n" == (
        f"Error: Microsoft 365: no token for client {CLIENT} in tenant {tokens.tenant} "
        "(AADSTS7000215: Invalid client secret provided.). Check NEWSLETTER_M365_CLIENT_ID "
        "and the secret or certificate.\n"
    )
    no_secret(result.output + caplog.text, CLIENT_SECRET)
    assert not smtp_oauth.handler.logins


@pytest.mark.parametrize(
    ("provider", "unset", "expected"),
    [
        (
            "microsoft365",
            ["NEWSLETTER_M365_CLIENT_SECRET"],
            "Error: NEWSLETTER_M365_CLIENT_SECRET: not set. Export the app's client secret "
            "in it, or set NEWSLETTER_M365_CERT_FILE and NEWSLETTER_M365_CERT_THUMBPRINT for "
            "a certificate.\n",
        ),
        (
            "microsoft365",
            ["NEWSLETTER_M365_TENANT_ID", "NEWSLETTER_M365_CLIENT_ID"],
            "Error: NEWSLETTER_M365_TENANT_ID and NEWSLETTER_M365_CLIENT_ID: not set. Export "
            "the tenant id and the client id of the app registered for sending (see the "
            "README, Microsoft 365).\n",
        ),
        (
            "google",
            [],
            "Error: NEWSLETTER_GOOGLE_SERVICE_ACCOUNT_FILE: not set. Point it at the service "
            "account's JSON key (with domain-wide delegation), or set "
            "NEWSLETTER_GOOGLE_CLIENT_ID, NEWSLETTER_GOOGLE_CLIENT_SECRET, "
            "NEWSLETTER_GOOGLE_REFRESH_TOKEN.\n",
        ),
    ],
)
def test_missing_variables_are_named(
    smtp_ready, smtp_oauth, tokens, monkeypatch, provider, unset, expected
):
    for name in unset:
        monkeypatch.delenv(name)
    result = send(smtp_ready, smtp_oauth, provider)
    assert result.exit_code == 1 and result.output.splitlines()[-1] + "\n" == expected
    assert ledger_rows(smtp_ready) == []


def test_secrets_never_reach_the_ledger(smtp_ready, smtp_oauth, tokens):
    smtp_oauth.handler.user = "someone-else@example.org"
    send(smtp_ready, smtp_oauth)
    smtp_oauth.handler.user = MAILBOX
    assert send(smtp_ready, smtp_oauth).exit_code == 0
    stored = (smtp_ready / "contacts.db").read_bytes()
    for secret in [CLIENT_SECRET, *tokens.issued]:
        assert secret.encode() not in stored


@pytest.mark.parametrize("provider", ["microsoft365", "google"])
def test_a_token_service_echoing_the_secret_never_shows_it(
    smtp_ready, smtp_oauth, tokens, monkeypatch, caplog, provider
):
    """A token service that quotes what it was sent in its error (some proxies and
    older services do) must not put the client secret or refresh token on screen."""
    caplog.set_level(logging.DEBUG)
    google_refresh(monkeypatch)

    def echo(path, form):
        said = " ".join(f"{k}={v}" for k, v in sorted(form.items()))
        return 400, {"error": "invalid_grant", "error_description": f"bad request: {said}"}

    monkeypatch.setattr(tokens, "answer", echo)
    result = send(smtp_ready, smtp_oauth, provider)
    assert result.exit_code == 1
    no_traceback(result)
    assert "[hidden]" in result.output
    no_secret(result.output + caplog.text, CLIENT_SECRET, G_SECRET, REFRESH)
    assert ledger_rows(smtp_ready) == []
