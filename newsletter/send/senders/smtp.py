"""SMTP through smtplib: STARTTLS or implicit TLS with certificate checks, optional login.

One connection is kept for many messages and reopened after a drop. When
the server offers PIPELINING, MAIL, RCPT and DATA go out in one write, so a
message costs two round trips instead of four. The reply to the final dot
decides: 250 is sent, 4xx temporary, 5xx permanent. A connection lost
before the whole message went out is temporary (retried); once the final
dot has gone, no reply at all (a timeout or a hang-up) is uncertain: the
server may have committed the message, so it is not retried on its own.
Opening a connection (options, TLS, login) is in ``smtp_connect.py``.
"""

from __future__ import annotations

import re
import smtplib
from typing import Any

from newsletter.send.senders import (
    PERMANENT,
    SENT,
    TEMPORARY,
    UNCERTAIN,
    Message,
    Result,
    SenderContext,
    SenderError,
)
from newsletter.send.senders.smtp_connect import (
    OPTIONS,
    Server,
    Unavailable,
    close,
    connect,
    text,
)

_LINE_START_DOT = re.compile(rb"(?m)^\.")


class SMTPSender:
    description = (
        "Send through an SMTP server: STARTTLS or TLS with certificate checks, optional "
        "login by password or OAuth (XOAUTH2; provider = microsoft365 or google)."
    )
    options = OPTIONS
    delivers = True

    def __init__(self, options: dict[str, Any], context: SenderContext) -> None:
        self.server = Server.from_options(options, context)
        self.label = self.server.label
        self.timeout = self.server.timeout
        self.limits = self.server.limits  # a provider's caps, kept by the run
        self.conn: smtplib.SMTP | None = None
        self.pipelining = False

    def open(self) -> None:
        try:
            self._connect()
        except Unavailable as exc:
            raise SenderError(f"{self.label}: {exc}. Check host, port and security.") from None

    def _connect(self) -> None:
        self.conn = connect(self.server)
        self.pipelining = self.conn.has_extn("pipelining")

    def send(self, message: Message, data: bytes) -> Result:
        reused = self.conn is not None
        for attempt in (1, 2):
            if self.conn is None:
                try:
                    self._connect()
                except Unavailable as exc:
                    return Result(TEMPORARY, str(exc))
            refused = self._envelope(message)
            if refused is None:
                break
            if self.conn is not None or not reused or attempt == 2:
                return refused
            # A kept-open connection the server had closed (idle timeout, or a limit of
            # messages per connection): nothing of this message went out, so reconnect
            # at once instead of spending one of its attempts and a backoff.
        conn = self.conn
        assert conn is not None
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
            # The whole message, final dot included, has gone out: the server may have
            # committed it before its reply was lost, whether it went silent or hung
            # up. Only a reply tells, so without one the delivery is uncertain, never
            # retried on its own: a retry could deliver it twice.
            if isinstance(exc.__context__, TimeoutError):
                return Result(UNCERTAIN, f"no reply within {self.timeout:g} s after the message")
            return Result(UNCERTAIN, "the connection was lost after the message, before a reply")
        if 200 <= code < 300:  # RFC 5321: any 2yz is success, not only 250
            return Result(SENT, f"{code} {text(reply)}")
        if code == 421:
            self._drop()
        status = TEMPORARY if 400 <= code < 500 else PERMANENT if 500 <= code < 600 else UNCERTAIN
        return Result(status, f"{code} {text(reply)}")

    def _envelope(self, message: Message) -> Result | None:
        """MAIL, RCPT and DATA; None when the server waits for the message.

        On a failure the connection is left ready for the next message, or
        dropped (``self.conn`` is None) when the server closed it.
        """
        conn = self.conn
        assert conn is not None
        commands = [
            (f"MAIL FROM:<{message.mail_from}>\r\n", range(200, 300)),
            (f"RCPT TO:<{message.recipient}>\r\n", range(200, 300)),  # 251, 252 too
            ("DATA\r\n", range(354, 355)),
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
        except smtplib.SMTPServerDisconnected as exc:
            self.conn = None
            return Result(TEMPORARY, f"connection lost before the message was sent: {exc}")
        for stage, ((_, ok), (code, reply)) in enumerate(zip(commands, replies, strict=False)):
            if code in ok:
                continue
            self._abort(replies[-1][0] == 354, code)
            if stage == 0 and 500 <= code < 600:
                # The sender, not this recipient, is refused: every message would fail
                # the same way, so stop with the row still queued.
                raise SenderError(
                    f"{self.label}: the server refused the sender <{message.mail_from}> "
                    f"({code} {text(reply)}). Check from_address, return_path and the "
                    "login, then run the same command to continue."
                )
            status = PERMANENT if 500 <= code < 600 else TEMPORARY
            return Result(status, f"{code} {text(reply)}")
        return None

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
        close(self.conn)
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()
