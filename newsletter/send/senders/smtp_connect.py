"""Opening an SMTP connection: the sender's options, TLS, certificate checks, login.

A login is a password (AUTH PLAIN/LOGIN through smtplib) or an OAuth token
(XOAUTH2, tokens from ``oauth.py``); a provider preset fills in a service's
host, port, login and limits, and any option set explicitly wins over it.

Kept apart from the per-message protocol in ``smtp.py``: everything here runs
once per connection, and every way it can fail ends in a SenderError (give
up: wrong settings) or Unavailable (try again later: the server is busy or
unreachable), never in a traceback.
"""

from __future__ import annotations

import binascii
import json
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.models import LIMITS
from newsletter.schema import (
    Field,
    Schema,
    boolean,
    choice,
    host_problem,
    line,
    number,
    ranged,
    shown,
    whole,
)
from newsletter.send.senders import Limits, SenderContext, SenderError
from newsletter.send.senders.oauth import GOOGLE, MICROSOFT, PROVIDERS, Login, sasl

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_HELO = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\]")
PASSWORD, XOAUTH2 = "password", "xoauth2"

# provider = "NAME": a service's submission server, its OAuth login and its caps.
# Microsoft 365: Exchange Online's limits for a mailbox are 30 messages a minute
# (SMTP client submission) and 10,000 recipients in a rolling 24 hours. Google
# Workspace: 2,000 messages a day per user in a rolling 24 hours (Google's "Gmail
# sending limits in Google Workspace", support.google.com/a/answer/166852; 500 for
# trial accounts); it names no per-minute cap, so none is set. One message goes
# to one recipient, so messages and recipients count alike.
PRESETS: dict[str, dict[str, Any]] = {
    MICROSOFT: {
        "host": "smtp.office365.com",
        "port": 587,
        "security": "starttls",
        "auth": XOAUTH2,
        "oauth": MICROSOFT,
        "max_per_minute": 30,
        "max_per_day": 10_000,
    },
    GOOGLE: {
        "host": "smtp.gmail.com",
        "port": 587,
        "security": "starttls",
        "auth": XOAUTH2,
        "oauth": GOOGLE,
        "max_per_day": 2_000,
    },
}


# The options SMTPSender takes, with their kinds: -o port=2525 and the TOML
# table are checked the same way before a sender is built.
_NAME = line()
OPTIONS = Schema(
    fields=(
        Field("host", _NAME, fix='Write host = "smtp.example.org".'),
        Field("port", whole(1, 65535)),
        Field("security", choice(tuple(DEFAULT_PORTS))),
        Field("username", _NAME),
        Field("password_env", _NAME),
        Field("timeout", number(above=0, unit="seconds")),
        Field("cafile", _NAME),
        Field("verify", boolean()),
        Field("helo", _NAME),
        Field("provider", choice(tuple(PRESETS))),
        Field("auth", choice((PASSWORD, XOAUTH2))),
        Field("oauth", choice(PROVIDERS)),
        Field("max_per_minute", ranged(LIMITS["max_per_minute"])),
        Field("max_per_day", ranged(LIMITS["max_per_day"])),
    ),
    unknown_word="option",
)


class Unavailable(Exception):
    """The server could not be reached or greeted; worth retrying later."""


def text(reply: bytes | str) -> str:
    """A server reply on one line."""
    value = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(value.split())


@dataclass(frozen=True)
class Server:
    """Validated options: where to connect, how securely, and as whom."""

    host: str
    port: int
    security: str
    username: str
    password_env: str
    timeout: float
    cafile: str | None
    verify: bool
    helo: str | None
    label: str  # "NAME (host:port)", for messages
    oauth: str = ""  # the provider that signs ``username`` in with XOAUTH2; "": a password
    limits: Limits = Limits()

    @classmethod
    def from_options(cls, options: dict[str, Any], context: SenderContext) -> Server:
        # Each mistake is blamed where it was made: -o KEY=VALUE, or the settings table.
        mistake = context.mistake
        # Options set explicitly win over the preset's; auth = "password" keeps the
        # provider's server and caps with a password login.
        preset = dict(PRESETS.get(options.get("provider", ""), {}))
        if options.get("auth") == PASSWORD:
            preset.pop("oauth", None)
        options = {**preset, **options}
        host = options.get("host", "")
        security = options.get("security", "starttls")
        if not host:
            raise mistake("'host' is missing. Add host = \"smtp.example.org\".", "host")
        if re.search(r"[\s\x00-\x1f\x7f]", host) or host_problem(host):
            raise mistake(f"'host' {shown(host)} is not a host name.", "host")
        port = options.get("port", DEFAULT_PORTS[security])
        username = options.get("username", "")
        password_env = options.get("password_env", "")
        oauth = _login_options(options, mistake)
        if username and security == "none" and host not in LOCAL_HOSTS:
            secret = "an OAuth token" if oauth else "a password"
            raise mistake(
                f"refusing to send {secret} unencrypted to {host}. "
                "Set security = 'starttls' or 'tls'.",
                "security",
                "host",
                "username",
            )
        # OPTIONS checked the port's range and that the timeout is above 0 (smtplib
        # would take 0 as non-blocking and fail oddly).
        timeout = options.get("timeout", 120.0)
        cafile = options.get("cafile")
        if cafile and not Path(cafile).is_file():
            raise mistake(f"cafile {shown(cafile)} does not exist.", "cafile")
        if cafile:
            try:  # now, not at the first connection: a wrong file is a settings mistake
                ssl.create_default_context(cafile=cafile)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise mistake(
                    f"cafile {cafile} holds no usable PEM certificate "
                    f"({getattr(exc, 'reason', None) or exc}).",
                    "cafile",
                ) from None
        helo = options.get("helo") or None
        if helo and not _HELO.fullmatch(helo):  # smtplib would raise on a line break
            raise mistake(
                "'helo' must be a host name or an address literal such as [192.0.2.1].", "helo"
            )
        label = f"{context.name} ({host}:{port})"
        verify = options.get("verify", True)
        limits = Limits(options.get("max_per_minute", 0), options.get("max_per_day", 0))
        return cls(
            host,
            port,
            security,
            username,
            password_env,
            timeout,
            cafile,
            verify,
            helo,
            label,
            oauth,
            limits,
        )


def _login_options(options: dict[str, Any], mistake: Any) -> str:
    """Check how the sender logs in; the OAuth provider for XOAUTH2, else ""."""
    username, password_env = options.get("username", ""), options.get("password_env", "")
    oauth = options.get("oauth", "")
    auth = options.get("auth") or (XOAUTH2 if oauth else PASSWORD)
    if auth == PASSWORD:
        if oauth:
            raise mistake("'oauth' is for auth = 'xoauth2'. Remove one of them.", "oauth", "auth")
        if bool(username) != bool(password_env):
            raise mistake(
                "set both 'username' and 'password_env' (the name of the environment "
                "variable holding the password), or neither.",
                "username",
                "password_env",
            )
        return ""
    if not oauth:
        raise mistake(
            "auth = 'xoauth2' needs oauth = 'microsoft365' or 'google' (who issues the token).",
            "auth",
            "oauth",
        )
    if not username:
        raise mistake(
            "'username' is missing: XOAUTH2 signs in as the mailbox that sends. "
            'Add username = "newsletter@example.org".',
            "username",
            "provider",
        )
    if password_env:
        raise mistake(
            "'password_env' is not used with an OAuth login. Remove it.",
            "password_env",
            "provider",
            "auth",
        )
    return str(oauth)


def connect(server: Server) -> smtplib.SMTP:
    """A greeted, secured and logged-in connection."""
    password = ""
    if server.username and not server.oauth:
        password = os.environ.get(server.password_env, "")
        if not password:
            raise SenderError(
                f"{server.password_env}: not set. Export the SMTP password for "
                f"{server.username} in it."
            )
    ctx = ssl.create_default_context(cafile=server.cafile)
    if not server.verify:
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    conn: smtplib.SMTP | None = None
    host, port, helo, timeout = server.host, server.port, server.helo, server.timeout
    try:
        if server.security == "tls":
            conn = smtplib.SMTP_SSL(host, port, helo, timeout=timeout, context=ctx)
        else:
            conn = smtplib.SMTP(host, port, helo, timeout=timeout)
        conn.ehlo_or_helo_if_needed()
        if server.security == "starttls":
            if not conn.has_extn("starttls"):
                raise SenderError(
                    f"{server.label}: the server does not offer STARTTLS. "
                    "Set security = 'tls' (implicit TLS) or, on a local relay, 'none'."
                )
            conn.starttls(context=ctx)
            conn.ehlo()
        if server.username:
            if not conn.has_extn("auth"):
                raise SenderError(
                    f"{server.label}: the server does not offer a login (no AUTH after "
                    f"EHLO{' and STARTTLS' * (server.security == 'starttls')}). Remove "
                    "'username' and 'password_env', or use the server's submission port."
                )
            if server.oauth:
                _xoauth2(conn, server, Login(server.oauth, server.username))
            else:
                conn.login(server.username, password)
    except smtplib.SMTPAuthenticationError as exc:
        close(conn)
        reply = text(exc.smtp_error)
        fix = (
            "Microsoft 365 takes no passwords for sending: set provider = 'microsoft365' "
            "(an OAuth login; see the README)."
            if "5.7.30" in reply or "5.7.139" in reply
            else f"Check 'username' and the password in ${server.password_env}."
        )
        raise SenderError(
            f"{server.label}: login as {server.username} refused ({exc.smtp_code} {reply}). {fix}"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        close(conn)
        raise SenderError(
            f"{server.label}: certificate check failed ({exc.verify_message}). Fix the "
            "server's certificate, or set 'cafile' to the CA that signed it."
        ) from None
    except SenderError:
        close(conn)
        raise
    except smtplib.SMTPResponseException as exc:  # e.g. "421 too many connections"
        close(conn)
        raise Unavailable(
            f"cannot connect (the server replied {exc.smtp_code} {text(exc.smtp_error)})"
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        close(conn)
        raise Unavailable(f"cannot connect ({text(str(exc)) or type(exc).__name__})") from None
    assert conn.sock is not None  # connected: smtplib clears it only on close()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _xoauth2(conn: smtplib.SMTP, server: Server, login: Login) -> None:
    """AUTH XOAUTH2 with the cached token; once more with a new one if it is refused
    (revoked, or expired early), then a SenderError that names no secret."""
    offered = conn.esmtp_features.get("auth", "").upper().split()
    if "XOAUTH2" not in offered:
        raise SenderError(
            f"{server.label}: the server does not offer an OAuth login (AUTH XOAUTH2; it "
            f"offers {' '.join(offered) or 'none'}). Check 'host', or log in with a password."
        )
    for renew in (False, True):
        token = login.token(renew)
        refused, refusal = _auth(conn, login.user, token)
        if refused is None:
            return
        if refused.smtp_code == 535 and not renew:
            continue
        reply = text(refused.smtp_error).replace(token, "[token]")
        raise SenderError(
            f"{server.label}: the server refused the OAuth token for {login.user} "
            f"({refused.smtp_code} {reply}{_status(refusal)}). Check the app's permissions "
            "(Microsoft 365: SMTP.SendAsApp and the mailbox's SMTP AUTH; Google: access to "
            "https://mail.google.com/) and that the token is for this mailbox."
        )


def _auth(
    conn: smtplib.SMTP, user: str, token: str
) -> tuple[smtplib.SMTPAuthenticationError | None, list[bytes]]:
    """One AUTH XOAUTH2: the refusal (None when accepted) and the server's error challenge."""
    refusal: list[bytes] = []

    def respond(challenge: bytes | None = None) -> str:
        if challenge is None:  # smtplib asks first for the initial response
            return sasl(user, token)
        # A refusal: the server sends its error as a challenge and waits for an empty
        # line before its final 535.
        refusal.append(challenge)
        return ""

    try:
        conn.auth("XOAUTH2", respond)
    except smtplib.SMTPAuthenticationError as exc:
        return exc, refusal
    return None, refusal


def _status(refusal: list[bytes]) -> str:
    """The status in a server's XOAUTH2 error challenge, e.g. "; status 401"."""
    try:
        error = json.loads(refusal[0]) if refusal else {}
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return ""
    status = error.get("status") if isinstance(error, dict) else None
    return f"; status {text(str(status))[:20]}" if status else ""


def close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass
