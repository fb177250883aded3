"""Messages of an IMAP folder, for ``newsletter intake ID imaps://user@host/FOLDER``.

Read-only (the folder is EXAMINEd and bodies fetched with BODY.PEEK[], so
nothing is marked as read or moved); a message larger than
``message.MAX_MESSAGE`` by the server's count is not fetched. The password is
``NEWSLETTER_IMAP_PASSWORD``, or an OAuth access token ``NEWSLETTER_IMAP_TOKEN``
(XOAUTH2, as Microsoft 365 and Google ask); never in the address, which
shells and logs keep. ``imap://`` (no TLS) is only for a server on this machine.
``imaps://`` checks the server's certificate and name against the system's
authorities, or those of ``SSL_CERT_FILE`` (OpenSSL's own variable) for a
server whose certificate an organisation signs itself.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from newsletter.errors import NewsletterError
from newsletter.intake.message import MAX_MESSAGE
from newsletter.schema import header_problem, shown

PASSWORD = "NEWSLETTER_IMAP_PASSWORD"
TOKEN = "NEWSLETTER_IMAP_TOKEN"
SCHEMES = ("imap", "imaps")
TIMEOUT = 60  # seconds for the connection and each answer
CHUNK = 50  # messages fetched at a time: a folder of thousands never sits in memory whole


def is_imap(source: str) -> bool:
    """Whether ``source`` names an IMAP folder rather than a file or a Maildir."""
    return source.lower().startswith(tuple(f"{s}://" for s in SCHEMES))


def read_imap(source: str) -> Iterator[tuple[str, bytes | str]]:
    """(label, bytes) for each message of the folder; (label, why) for one not fetched."""
    url = urlsplit(source)
    host, folder = url.hostname or "", unquote(url.path.lstrip("/")) or "INBOX"
    user = unquote(url.username or "")
    where = shown(f"{url.scheme}://{host}/{folder}", quote=False)
    try:
        port = url.port
    except ValueError:  # ":993x"
        port, host = None, ""
    if not host or not user or url.password:
        # ``where`` leaves out the user and any password: an error line is no place for it.
        raise NewsletterError(
            f"{where}: write the folder as imaps://USER@HOST[:PORT]/FOLDER, the password in "
            f"{PASSWORD} (or an OAuth token in {TOKEN}), never in the address."
        )
    # imaplib writes the user name into the LOGIN line as it is (XOAUTH2 too): a CR LF
    # would send a command of its own, a DELETE say, to a folder this only reads. (The
    # folder is safe: IMAPClient writes it in modified UTF-7, quoted.)
    bad = header_problem(user)
    if bad:
        raise NewsletterError(f"{where}: the user name {bad}. Write it as the server knows it.")
    tls = url.scheme.lower() == "imaps"
    if not tls and not _loopback(host):
        raise NewsletterError(
            f"{where}: imap:// would send the password unencrypted. Use imaps://{host}/{folder}."
        )
    try:
        with IMAPClient(
            host, port=port, ssl=tls, timeout=TIMEOUT, ssl_context=_context(tls)
        ) as box:
            _login(box, user, where)
            box.select_folder(folder, readonly=True)
            yield from _messages(box)
    except ssl.SSLCertVerificationError as exc:
        why = shown(exc.verify_message or "no reason given", 120, quote=False)
        raise NewsletterError(
            f"{where}: the server's certificate is not trusted ({why}). If it is signed by "
            "your organisation's own authority, set SSL_CERT_FILE to that authority's PEM "
            "file; nothing was taken in."
        ) from None
    except (IMAPClientError, OSError, ssl.SSLError) as exc:
        raise NewsletterError(
            f"{where}: the IMAP server refused or failed ({_why(exc)}). Check "
            "the address, the folder and the password; nothing was taken in."
        ) from None


def _login(box: IMAPClient, user: str, where: str) -> None:
    token, password = os.environ.get(TOKEN), os.environ.get(PASSWORD)
    if token:
        box.oauth2_login(user, token)
    elif password:
        box.login(user, password)
    else:
        raise NewsletterError(f"{where}: no password. Set {PASSWORD} (or {TOKEN}), then run again.")


def _messages(box: IMAPClient) -> Iterator[tuple[str, bytes | str]]:
    uids = sorted(box.search(["ALL"]))
    for n in range(0, len(uids), CHUNK):
        part = uids[n : n + CHUNK]
        sizes = box.fetch(part, ["RFC822.SIZE"])
        small = [u for u in part if sizes.get(u, {}).get(b"RFC822.SIZE", 0) <= MAX_MESSAGE]
        bodies = box.fetch(small, ["BODY.PEEK[]"]) if small else {}
        for uid in part:
            body = bodies.get(uid, {}).get(b"BODY[]")
            if isinstance(body, bytes):
                yield f"uid {uid}", body
            else:
                yield f"uid {uid}", f"larger than {MAX_MESSAGE // 1024 // 1024} MB; not fetched"


def _why(exc: Exception) -> str:
    """The server's words, one short safe line: imaplib hands them over as bytes, and
    IMAPClient's login error as the text of those bytes ("b'...'")."""
    if isinstance(exc, OSError) and exc.strerror:  # its first argument is the errno
        return shown(exc.strerror, quote=False)
    said = exc.args[0] if exc.args else exc
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    text = re.sub(r"""^b(['"])(.*)\1$""", r"\2", text)
    return shown(text, quote=False)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _context(tls: bool) -> ssl.SSLContext | None:
    return ssl.create_default_context() if tls else None
