"""Opening an SMTP connection: the sender's options, TLS, certificate checks, login.

Kept apart from the per-message protocol in ``smtp.py``: everything here runs
once per connection, and every way it can fail ends in a SenderError (give
up: wrong settings) or Unavailable (try again later: the server is busy or
unreachable), never in a traceback.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.schema import (
    Field,
    Schema,
    boolean,
    choice,
    host_problem,
    line,
    number,
    shown,
    whole,
)
from newsletter.send.senders import SenderContext, SenderError

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_HELO = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\]")


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

    @classmethod
    def from_options(cls, options: dict[str, Any], context: SenderContext) -> Server:
        # Each mistake is blamed where it was made: -o KEY=VALUE, or the settings table.
        mistake = context.mistake
        host = options.get("host", "")
        security = options.get("security", "starttls")
        if not host:
            raise mistake("'host' is missing. Add host = \"smtp.example.org\".", "host")
        if re.search(r"[\s\x00-\x1f\x7f]", host) or host_problem(host):
            raise mistake(f"'host' {shown(host)} is not a host name.", "host")
        port = options.get("port", DEFAULT_PORTS[security])
        username = options.get("username", "")
        password_env = options.get("password_env", "")
        if bool(username) != bool(password_env):
            raise mistake(
                "set both 'username' and 'password_env' (the name of the environment "
                "variable holding the password), or neither.",
                "username",
                "password_env",
            )
        if username and security == "none" and host not in LOCAL_HOSTS:
            raise mistake(
                f"refusing to send a password unencrypted to {host}. "
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
        return cls(
            host, port, security, username, password_env, timeout, cafile, verify, helo, label
        )


def connect(server: Server) -> smtplib.SMTP:
    """A greeted, secured and logged-in connection."""
    password = ""
    if server.username:
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
            conn.login(server.username, password)
    except smtplib.SMTPAuthenticationError as exc:
        close(conn)
        raise SenderError(
            f"{server.label}: login as {server.username} refused ({exc.smtp_code} "
            f"{text(exc.smtp_error)}). Check 'username' and the password in "
            f"${server.password_env}."
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


def close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass
