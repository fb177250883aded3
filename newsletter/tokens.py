"""Unsubscribe tokens: opaque, unforgeable, and free of the address.

A token is the contact's row id and the issue ID, followed by an
HMAC-SHA256 of both under ``NEWSLETTER_SECRET``. It does not expire, so a
link in an old issue keeps working; rotating the secret revokes them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

from newsletter.errors import NewsletterError

MIN_SECRET = 16
# Unpadded URL-safe base64, then a 32-byte MAC in exactly 43 characters. Anything
# else is refused before decoding: the decoder skips stray characters and the
# last character's unused bits, so "token + '='" or a changed last letter would
# otherwise still pass the MAC check.
_SHAPE = re.compile(r"[A-Za-z0-9_-]{2,200}\.[A-Za-z0-9_-]{43}")


def secret_from_env() -> bytes:
    """The signing secret; a NewsletterError if it is unset or too short."""
    value = os.environ.get("NEWSLETTER_SECRET", "")
    if len(value) < MIN_SECRET:
        raise NewsletterError(
            "NEWSLETTER_SECRET: not set or shorter than 16 characters. Set it to a long random "
            "value, e.g. export NEWSLETTER_SECRET=\"$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')\""
        )
    return value.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"newsletter-unsubscribe\0" + payload, hashlib.sha256).digest()


def make_token(secret: bytes, contact_id: int, issue_id: str) -> str:
    payload = f"{contact_id}:{issue_id}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def read_token(secret: bytes, token: str) -> tuple[int, str] | None:
    """(contact_id, issue_id) for a genuine token; None for anything forged or damaged."""
    if not _SHAPE.fullmatch(token):
        return None
    try:
        payload_part, mac_part = token.split(".")
        payload, mac = _unb64(payload_part), _unb64(mac_part)
        if _b64(payload) != payload_part or _b64(mac) != mac_part:
            return None  # a non-canonical spelling of a genuine token: altered
        if not hmac.compare_digest(mac, _mac(secret, payload)):
            return None
        contact, issue_id = payload.decode("utf-8").split(":", 1)
        return int(contact), issue_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
