"""SMTP through smtplib: STARTTLS or implicit TLS with certificate checks, optional login.

One connection is kept for many messages and reopened after a drop. When
the server offers PIPELINING, MAIL, RCPT and DATA go out in one write, so a
message costs two round trips instead of four. The reply to the final dot
decides: 250 is sent, 4xx temporary, 5xx permanent. A connection lost
before that reply is temporary (a server accepts only by replying), but a
*timeout* waiting for it is uncertain: the server may still accept.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
from pathlib import Path
from typing import Any

from newsletter.senders import (
    PERMANENT,
    SENT,
    TEMPORARY,
    UNCERTAIN,
    Envelope,
    Result,
    SenderContext,
    SenderError,
)

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_LINE_START_DOT = re.compile(rb"(?m)^\.")


class _Unavailable(Exception):
    """The server could not be reached or greeted; worth retrying later."""


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


class SMTPSender:
    description = (
        "Send through an SMTP server: STARTTLS or TLS with certificate checks, optional login."
    )
    options = {
        "host": str,
        "port": int,
        "security": str,
        "username": str,
        "password_env": str,
        "timeout": float,
        "cafile": str,
        "verify": bool,
        "helo": str,
    }
    delivers = True

    def __init__(self, options: dict[str, Any], context: SenderContext) -> None:
        where = f"{context.settings.path}: [tool.newsletter.senders.{context.name}]"
        self.host = options.get("host", "")
        self.security = options.get("security", "starttls")
        if not self.host:
            raise SenderError(f"{where} 'host' is missing. Add host = \"smtp.example.org\".")
        if self.security not in DEFAULT_PORTS:
            raise SenderError(f"{where} 'security' must be starttls, tls or none.")
        self.port = options.get("port", DEFAULT_PORTS[self.security])
        self.username = options.get("username", "")
        self.password_env = options.get("password_env", "")
        if bool(self.username) != bool(self.password_env):
            raise SenderError(
                f"{where} set both 'username' and 'password_env' (the name of the environment "
                "variable holding the password), or neither."
            )
        if self.username and self.security == "none" and self.host not in LOCAL_HOSTS:
            raise SenderError(
                f"{where} refusing to send a password unencrypted to {self.host}. "
                "Set security = 'starttls' or 'tls'."
            )
        self.timeout = options.get("timeout", 120.0)
        self.cafile = options.get("cafile")
        if self.cafile and not Path(self.cafile).is_file():
            raise SenderError(f"{where} cafile {self.cafile} does not exist.")
        self.verify = options.get("verify", True)
        self.helo = options.get("helo") or None
        self.label = f"{context.name} ({self.host}:{self.port})"
        self.conn: smtplib.SMTP | None = None
        self.pipelining = False

    def open(self) -> None:
        try:
            self._connect()
        except _Unavailable as exc:
            raise SenderError(f"{self.label}: {exc}. Check host, port and security.") from None

    def _connect(self) -> None:
        password = ""
        if self.username:
            password = os.environ.get(self.password_env, "")
            if not password:
                raise SenderError(
                    f"{self.password_env}: not set. Export the SMTP password for "
                    f"{self.username} in it."
                )
        ctx = ssl.create_default_context(cafile=self.cafile)
        if not self.verify:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        conn: smtplib.SMTP | None = None
        try:
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(
                    self.host, self.port, self.helo, timeout=self.timeout, context=ctx
                )
            else:
                conn = smtplib.SMTP(self.host, self.port, self.helo, timeout=self.timeout)
            conn.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise SenderError(
                        f"{self.label}: the server does not offer STARTTLS. "
                        "Set security = 'tls' (implicit TLS) or, on a local relay, 'none'."
                    )
                conn.starttls(context=ctx)
                conn.ehlo()
            if self.username:
                conn.login(self.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            _close(conn)
            raise SenderError(
                f"{self.label}: login as {self.username} refused ({exc.smtp_code} "
                f"{_text(exc.smtp_error)}). Check 'username' and the password in "
                f"${self.password_env}."
            ) from None
        except ssl.SSLCertVerificationError as exc:
            _close(conn)
            raise SenderError(
                f"{self.label}: certificate check failed ({exc.verify_message}). Fix the "
                "server's certificate, or set 'cafile' to the CA that signed it."
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            _close(conn)
            raise _Unavailable(
                f"cannot connect ({_text(str(exc)) or type(exc).__name__})"
            ) from None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pipelining = conn.has_extn("pipelining")
        self.conn = conn

    def send(self, envelope: Envelope, data: bytes) -> Result:
        if self.conn is None:
            try:
                self._connect()
            except _Unavailable as exc:
                return Result(TEMPORARY, str(exc))
        conn = self.conn
        assert conn is not None
        commands = [
            (f"MAIL FROM:<{envelope.mail_from}>\r\n", (250,)),
            (f"RCPT TO:<{envelope.recipient}>\r\n", (250, 251)),
            ("DATA\r\n", (354,)),
        ]
        try:
            if self.pipelining:
                conn.send("".join(c for c, _ in commands))
                replies = [conn.getreply() for _ in commands]
            else:
                replies = []
                for command, ok in commands:
                    conn.send(command)
                    replies.append(conn.getreply())
                    if replies[-1][0] not in ok:
                        break
            for (_, ok), (code, reply) in zip(commands, replies, strict=False):
                if code not in ok:
                    self._abort(replies[-1][0] == 354, code)
                    status = PERMANENT if 500 <= code < 600 else TEMPORARY
                    return Result(status, f"{code} {_text(reply)}")
        except smtplib.SMTPServerDisconnected as exc:
            self.conn = None
            return Result(TEMPORARY, f"connection lost before the message was sent: {exc}")
        if data.startswith(b".") or b"\n." in data:  # the composer never does this; plugins might
            data = _LINE_START_DOT.sub(b"..", data)
        try:
            conn.send(data + b".\r\n")
        except smtplib.SMTPServerDisconnected:
            # The final dot did not go out whole, so the server cannot have accepted it.
            self.conn = None
            return Result(TEMPORARY, "connection lost while sending the message")
        try:
            code, reply = conn.getreply()
        except smtplib.SMTPServerDisconnected as exc:
            self.conn = None
            if isinstance(exc.__context__, TimeoutError):
                # Still silent after the whole message: it may be accepted yet.
                return Result(UNCERTAIN, f"no reply within {self.timeout:g} s after the message")
            # A server accepts by replying 250; one that drops the connection first has not,
            # so, as MTAs do (RFC 1047), the message is retried.
            return Result(TEMPORARY, f"connection lost before the server accepted: {exc}")
        if code == 250:
            return Result(SENT, f"{code} {_text(reply)}")
        if code == 421:
            self._drop()
        status = TEMPORARY if 400 <= code < 500 else PERMANENT if 500 <= code < 600 else UNCERTAIN
        return Result(status, f"{code} {_text(reply)}")

    def _abort(self, in_data: bool, code: int) -> None:
        """Leave the connection ready for the next message, or drop it."""
        if code == 421:
            return self._drop()
        try:
            assert self.conn is not None
            if in_data:  # the server wants a message; give it an empty one to end DATA
                self.conn.send(".\r\n")
                self.conn.getreply()
            if self.conn.rset()[0] != 250:
                self._drop()
        except smtplib.SMTPException:
            self._drop()

    def _drop(self) -> None:
        _close(self.conn)
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass
