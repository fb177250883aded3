"""A real SMTP server on 127.0.0.1 for the send tests (aiosmtpd), with scripted faults.

``server.fail(address, "451 4.3.0 Try later", stage="data")`` makes the next
message to ``address`` get that reply; ``stage="drop"`` closes the connection
in the middle of DATA. Every accepted message is kept, bytes as received.
``max_connections`` refuses connections beyond it with 421, as many providers
do; ``per_connection`` answers MAIL with 421 and hangs up after that many
messages on one connection.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import defaultdict
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


class Handler:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.faults: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.lock = threading.Lock()
        self.pipelining = True
        self.delay = 0.0
        self.connections = 0
        self.open_connections = 0
        self.max_connections = 0  # 0: no limit
        self.per_connection = 0  # 0: no limit

    def take(self, address: str, stage: str) -> str | None:
        with self.lock:
            queue = self.faults.get((address.lower(), stage))
            return queue.pop(0) if queue else None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.take(address, "rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.take(envelope.rcpt_tos[0], "data")
        if reply:
            return reply
        if self.delay:
            await asyncio.sleep(self.delay)
        message = Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        with self.lock:
            self.messages.append(message)
        return "250 2.0.0 Ok: queued"


class _SMTP(SMTP):
    async def smtp_DATA(self, arg: str) -> None:
        rcpts = self.envelope.rcpt_tos if self.envelope else []
        if rcpts and self.event_handler.take(rcpts[0], "drop"):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n")  # a line of the message, then hang up
            self.transport.close()
            return
        before = len(self.event_handler.messages)
        await super().smtp_DATA(arg)
        self.accepted += len(self.event_handler.messages) > before

    async def smtp_MAIL(self, arg: str) -> None:
        handler = self.event_handler
        if handler.per_connection and self.accepted >= handler.per_connection:
            await self.push("421 4.7.0 Too many messages on this connection")
            self.transport.close()
            return
        await super().smtp_MAIL(arg)

    def connection_made(self, transport) -> None:
        handler = self.event_handler
        handler.connections += 1
        handler.open_connections += 1
        self.accepted = 0
        super().connection_made(transport)
        if handler.max_connections and handler.open_connections > handler.max_connections:
            transport.write(b"421 4.7.0 Too many connections from your address\r\n")
            transport.close()

    def connection_lost(self, exc) -> None:
        self.event_handler.open_connections -= 1
        super().connection_lost(exc)


class _Controller(Controller):
    def factory(self):
        return _SMTP(self.handler, **self.SMTP_kwargs)


class SMTPServer:
    """Start with ``start()``; ``messages`` lists what was accepted."""

    def __init__(self, password: str | None = None, **kwargs) -> None:
        self.handler = Handler()
        self.port = free_port()
        if password is not None:
            kwargs.update(authenticator=self._auth(password), auth_require_tls=False)
        self.controller = _Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @staticmethod
    def _auth(password: str):
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = getattr(auth_data, "password", b"") == password.encode()
            return AuthResult(success=ok, handled=False)

        return authenticator

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def fail(self, address: str, reply: str = "", stage: str = "data", times: int = 1) -> None:
        with self.handler.lock:
            self.handler.faults[(address.lower(), stage)] += [reply or "drop"] * times

    def per_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for message in self.messages:
            for rcpt in message.rcpt_tos:
                counts[rcpt] += 1
        return dict(counts)


def self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost, and its key: (cert path, key path)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)
