"""OAuth 2.0 access tokens for the SMTP sender's XOAUTH2 login.

Microsoft 365 goes through MSAL (the client-credentials flow of an app
registered in the tenant) and Google through google-auth (a service account
with domain-wide delegation, or a refresh token). Every secret comes from an
environment variable, and none of them, nor a token, is ever put in a message
or a log: errors name the variables, never their values.

Tokens are kept in memory for the run and shared by its connections; a token
is renewed ``MARGIN`` seconds before it expires, so a send that lasts hours
(10,000 messages at 30 a minute take five and a half) logs each new
connection in with a fresh one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from newsletter.sanitize import one_line
from newsletter.send.senders import SenderError

MICROSOFT, GOOGLE = "microsoft365", "google"
PROVIDERS = (MICROSOFT, GOOGLE)
MARGIN = 300.0  # seconds: renew a token this long before it expires (MSAL uses the same)

M365_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
# Where tokens come from. Real users never set these; tests point them at 127.0.0.1,
# and a sovereign cloud (e.g. https://login.microsoftonline.us) would set the first.
M365_AUTHORITY = "https://login.microsoftonline.com"
M365_AUTHORITY_ENV = "NEWSLETTER_M365_AUTHORITY"
GOOGLE_TOKEN_URI_ENV = "NEWSLETTER_GOOGLE_TOKEN_URI"

M365_ENV = {
    "tenant": "NEWSLETTER_M365_TENANT_ID",
    "client": "NEWSLETTER_M365_CLIENT_ID",
    "secret": "NEWSLETTER_M365_CLIENT_SECRET",
    "cert": "NEWSLETTER_M365_CERT_FILE",
    "thumbprint": "NEWSLETTER_M365_CERT_THUMBPRINT",
}
GOOGLE_ENV = {
    "service_account": "NEWSLETTER_GOOGLE_SERVICE_ACCOUNT_FILE",
    "client": "NEWSLETTER_GOOGLE_CLIENT_ID",
    "secret": "NEWSLETTER_GOOGLE_CLIENT_SECRET",
    "refresh": "NEWSLETTER_GOOGLE_REFRESH_TOKEN",
}


def sasl(user: str, token: str) -> str:
    """The XOAUTH2 initial response before base64, which smtplib adds."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


# The variables whose values are secrets: a token service may echo what it was sent
# ("invalid client secret 'abc...'"), and its error is shown and kept in the ledger.
SECRET_ENV = (M365_ENV["secret"], GOOGLE_ENV["secret"], GOOGLE_ENV["refresh"])


def _short(text: object) -> str:
    """A provider's error on one line, without the trace and correlation ids MSAL adds,
    and with any secret it echoes hidden."""
    shown = str(text)
    for name in SECRET_ENV:
        if value := _env(name):
            shown = shown.replace(value, "[hidden]")
    first = shown.strip().splitlines()[0] if shown.strip() else ""
    return one_line(first, 200)


class _Source:
    """One provider's tokens for one mailbox, cached; safe to share between threads."""

    label = ""

    def __init__(self, user: str) -> None:
        self.user = user
        self.lock = threading.Lock()
        self.token = ""
        self.expires_at = 0.0

    def get(self, renew: bool = False) -> str:
        """A token valid for at least MARGIN seconds more; ``renew`` forces a new one."""
        with self.lock:
            if renew or not self.token or self.expires_at - MARGIN <= time.time():
                self.token, self.expires_at = self._fetch(renew)
            return self.token

    def _fetch(self, renew: bool) -> tuple[str, float]:
        raise NotImplementedError


class _Microsoft(_Source):
    """Client credentials through MSAL, whose own token cache serves repeated asks."""

    label = "Microsoft 365"

    def __init__(self, user: str) -> None:
        super().__init__(user)
        missing = [M365_ENV[k] for k in ("tenant", "client") if not _env(M365_ENV[k])]
        if missing:
            raise SenderError(
                f"{' and '.join(missing)}: not set. Export the tenant id and the client id "
                "of the app registered for sending (see the README, Microsoft 365)."
            )
        self.tenant, self.client = _env(M365_ENV["tenant"]), _env(M365_ENV["client"])
        self.app: Any = None

    def _credential(self) -> str | dict[str, str]:
        secret = _env(M365_ENV["secret"])
        cert, thumbprint = _env(M365_ENV["cert"]), _env(M365_ENV["thumbprint"])
        if secret:
            return secret
        if cert and thumbprint:
            try:
                with open(cert, encoding="ascii") as f:
                    return {"private_key": f.read(), "thumbprint": thumbprint}
            except (OSError, UnicodeDecodeError) as exc:
                raise SenderError(
                    f"{M365_ENV['cert']}: cannot read {cert} "
                    f"({getattr(exc, 'strerror', None) or 'not a PEM file'}). "
                    "Point it at the PEM file with the app's private key."
                ) from None
        raise SenderError(
            f"{M365_ENV['secret']}: not set. Export the app's client secret in it, or set "
            f"{M365_ENV['cert']} and {M365_ENV['thumbprint']} for a certificate."
        )

    def _application(self) -> Any:
        import msal  # only a Microsoft 365 send pays for importing it

        base = (_env(M365_AUTHORITY_ENV) or M365_AUTHORITY).rstrip("/")
        credential = self._credential()
        try:
            return msal.ConfidentialClientApplication(
                self.client,
                client_credential=credential,
                authority=f"{base}/{self.tenant}",
                # Microsoft's own hosts need no instance discovery; another is a test
                # server or a sovereign cloud named on purpose.
                instance_discovery=base == M365_AUTHORITY,
            )
        except (ValueError, OSError) as exc:  # a bad tenant, an unreachable authority
            raise SenderError(
                f"{self.label}: cannot reach the sign-in service for tenant {self.tenant} "
                f"({_short(exc) or type(exc).__name__}). Check {M365_ENV['tenant']} "
                "and the network."
            ) from None
        except Exception as exc:  # requests' errors, a malformed certificate
            raise SenderError(
                f"{self.label}: cannot start the sign-in for client {self.client} "
                f"({type(exc).__name__}: {_short(exc)}). Check {M365_ENV['tenant']}, "
                f"{M365_ENV['client']} and the credential."
            ) from None

    def get(self, renew: bool = False) -> str:
        """MSAL's own cache holds the token and renews it MARGIN seconds early."""
        with self.lock:
            self.token, self.expires_at = self._fetch(renew)
            return self.token

    def _fetch(self, renew: bool) -> tuple[str, float]:
        if self.app is None:
            self.app = self._application()
        if renew:  # the server refused the cached token: drop it so MSAL asks again
            cache = self.app.token_cache
            for entry in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(entry)
        try:
            result = self.app.acquire_token_for_client(scopes=[M365_SCOPE])
        except Exception as exc:  # requests' connection errors
            raise SenderError(
                f"{self.label}: cannot reach the token service ({type(exc).__name__}). "
                "Check the network, then run the same command to continue."
            ) from None
        if "access_token" not in result:
            why = _short(result.get("error_description") or result.get("error") or "no token")
            raise SenderError(
                f"{self.label}: no token for client {self.client} in tenant {self.tenant} "
                f"({why}). Check {M365_ENV['client']} and the secret or certificate."
            )
        return result["access_token"], time.time() + float(result.get("expires_in", 0))


class _Google(_Source):
    """A service account acting as the mailbox, or a refresh token, through google-auth."""

    label = "Google"

    def __init__(self, user: str) -> None:
        super().__init__(user)
        self.credentials: Any = None
        self.variable = GOOGLE_ENV["service_account"]
        if not _env(self.variable):
            needed = [GOOGLE_ENV[k] for k in ("client", "secret", "refresh")]
            if not all(_env(n) for n in needed):
                raise SenderError(
                    f"{GOOGLE_ENV['service_account']}: not set. Point it at the service "
                    "account's JSON key (with domain-wide delegation), or set "
                    f"{', '.join(needed)}."
                )
            self.variable = GOOGLE_ENV["refresh"]

    def _build(self) -> Any:
        token_uri = _env(GOOGLE_TOKEN_URI_ENV)
        path = _env(GOOGLE_ENV["service_account"])
        if path:
            from google.oauth2 import service_account

            try:
                creds = service_account.Credentials.from_service_account_file(
                    path, scopes=[GOOGLE_SCOPE], subject=self.user
                )
            except (OSError, ValueError, KeyError) as exc:
                raise SenderError(
                    f"{self.variable}: {path} is not a service account key "
                    f"({type(exc).__name__}). Download the JSON key of the service account."
                ) from None
            return creds.with_token_uri(token_uri) if token_uri else creds
        from google.oauth2.credentials import Credentials

        return Credentials(
            None,
            refresh_token=_env(GOOGLE_ENV["refresh"]),
            client_id=_env(GOOGLE_ENV["client"]),
            client_secret=_env(GOOGLE_ENV["secret"]),
            token_uri=token_uri or "https://oauth2.googleapis.com/token",
            scopes=[GOOGLE_SCOPE],
        )

    def _fetch(self, renew: bool) -> tuple[str, float]:
        from google.auth.exceptions import GoogleAuthError, RefreshError
        from google.auth.transport.requests import Request

        if self.credentials is None:
            self.credentials = self._build()
        try:
            self.credentials.refresh(Request())
        except RefreshError as exc:  # the service said no: args[0] is its error, no secret
            why = _short(exc.args[0] if exc.args else "refused")
            raise SenderError(
                f"{self.label}: no token for {self.user} ({why}). "
                f"Check {self.variable} and the app's access to https://mail.google.com/."
            ) from None
        except (GoogleAuthError, OSError) as exc:
            raise SenderError(
                f"{self.label}: cannot reach the token service ({type(exc).__name__}). "
                "Check the network, then run the same command to continue."
            ) from None
        expiry = self.credentials.expiry  # naive UTC, as google-auth keeps it
        expires = expiry.replace(tzinfo=UTC).timestamp() if expiry else time.time() + 3600
        return self.credentials.token, expires


_KINDS: dict[str, Callable[[str], _Source]] = {MICROSOFT: _Microsoft, GOOGLE: _Google}
_sources: dict[tuple[str, ...], _Source] = {}
_sources_lock = threading.Lock()


@dataclass(frozen=True)
class Login:
    """What the SMTP sender needs: whose mailbox, and which provider signs it in."""

    provider: str
    user: str

    def token(self, renew: bool = False) -> str:
        """An access token for ``user``: cached for the run, renewed before it expires."""
        return source(self.provider, self.user).get(renew)


def source(provider: str, user: str) -> _Source:
    """The run's token source for this mailbox; a new one when the environment changed."""
    names = M365_ENV if provider == MICROSOFT else GOOGLE_ENV
    key = (provider, user, *(_env(n) for n in names.values()))
    key += (_env(M365_AUTHORITY_ENV), _env(GOOGLE_TOKEN_URI_ENV))
    with _sources_lock:
        if key not in _sources:
            _sources[key] = _KINDS[provider](user)
        return _sources[key]
