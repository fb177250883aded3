"""Signed tokens: unforgeable, free of the address, and each good for one purpose only.

Two kinds, both an HMAC-SHA256 under ``NEWSLETTER_SECRET``, neither expiring
(a link in an old issue keeps working; rotating the secret revokes them all):

* the **unsubscribe** token of a personal link: the contact's row id and the
  issue ID, then the MAC, in URL-safe base64 (``make_token``, ``read_token``);
* the **return-path** token in the envelope sender (VERP,
  ``bounces+TOKEN@example.org``), which names the delivery a bounce is about
  (``make_return_token``, ``read_return_token``);
* the **form** token (CSRF) of a web form on a personal link's page, bound to
  that link and to the time the page was made, good for ``FORM_MAX_AGE``
  (``make_form_token``, ``form_token_ok``);
* the **page** tokens of the other personal links (``make_link_token``,
  ``read_link_token``): the contact's row id and the day the link was made,
  under one label per page (``ENTRY``: "Check your entry"; ``MEMBERS``: the
  members-only directory; ``SUBMIT``: a focal point's contribution form).
  Unlike an unsubscribe link they expire (``LINK_MAX_AGE``): they show a
  person's address and phone, and the next issue brings a fresh one.
* the **review** token of a reviewer's link to one issue's preview
  (``make_review_token``, ``read_review_token``): the issue, the reviewer's
  address, the day it was made and the days it is good for (``REVIEW_DAYS`` by
  default), under ``REVIEW``.

* the **click** token of a link in the email when the house counts readership
  (``make_click_token``, ``read_click_token``): the issue ID, the link's number
  in the email and the link itself, and nothing about the reader, so ``serve``
  redirects to the signed address (never to one from a query) and counts it;
* the **organisation part** of a click link (``make_click_org_token``,
  ``read_click_org_token``): the issue ID and an organisation's row id, never a
  reader's. It follows the click token as one more path segment, is the same in
  every copy sent to that organisation, and only organisations with at least
  ``models.MIN_GROUP`` recipients of the issue get one.

Each MAC is computed over its purpose's label first (``UNSUBSCRIBE``,
``RETURN_PATH``: domain separation), so a token made for one purpose never
verifies as the other, even where one's text could pass for the other's.
The unsubscribe label is the one every link already mailed out was signed
with, so those links keep working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from newsletter.errors import NewsletterError
from newsletter.models import MAX_ROW_ID

MIN_SECRET = 16
UNSUBSCRIBE = b"newsletter-unsubscribe"  # never change: links already mailed carry it
RETURN_PATH = b"newsletter-return-path"
FORM = b"newsletter-form"
ENTRY = b"newsletter-entry"
MEMBERS = b"newsletter-members"
CLICK = b"newsletter-click"
CLICK_ORG = b"newsletter-click-organisation"
REVIEW = b"newsletter-review"
SUBMIT = b"newsletter-submit"
LINK_PURPOSES = (ENTRY, MEMBERS, SUBMIT)
# Days a page link works: two quarters, so the link in one issue still works
# when the next is late; the next issue carries a new one.
LINK_MAX_AGE = 200
FORM_MAX_AGE = 24 * 3600  # seconds: a page left open over lunch still works
# Unpadded URL-safe base64, then a 32-byte MAC in exactly 43 characters. Anything
# else is refused before decoding: the decoder skips stray characters and the
# last character's unused bits, so "token + '='" or a changed last letter would
# otherwise still pass the MAC check.
SHAPE = re.compile(r"[A-Za-z0-9_-]{2,200}\.[A-Za-z0-9_-]{43}")

# The return-path token lives in an address's local part (RFC 5321: at most 64
# octets with the rest of the address around it) and some servers lowercase
# local parts on the way back, so it is lowercase base32 without padding
# (letters and 2-7: nothing a case-folding or a recipient delimiter can change)
# of a fixed-size record:
#   the contact id (LEB128, 1 to 9 bytes) + ISSUE_TAG bytes of a hash of the
#   issue ID (a 64-character issue ID must not make the address too long; the
#   ledger says which of the contact's issues it is) + RETURN_MAC bytes of MAC.
# 80 bits of MAC: a forger cannot compute tags without the secret, so the only
# attack is guessing, one mailed bounce per guess; 2^80 guesses is out of reach
# (a billion a second for a century is under 2^62), and RFC 2104 section 5 puts
# the floor for a truncated HMAC at 80 bits. 80 bits is also exactly 16 base32
# characters, with no spare bits.
ISSUE_TAG = 4
RETURN_MAC = 10
MAX_RETURN_TOKEN = -(-(9 + ISSUE_TAG + RETURN_MAC) * 8 // 5)  # 37 characters
MIN_RETURN_TOKEN = -(-(1 + ISSUE_TAG + RETURN_MAC) * 8 // 5)  # 24 characters
RETURN_TOKEN = re.compile(f"[a-z2-7]{{{MIN_RETURN_TOKEN},{MAX_RETURN_TOKEN}}}", re.I)


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


def _mac(secret: bytes, purpose: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, purpose + b"\0" + payload, hashlib.sha256).digest()


def make_token(secret: bytes, contact_id: int, issue_id: str) -> str:
    """The unsubscribe token of ``contact_id``'s link in ``issue_id``."""
    payload = f"{contact_id}:{issue_id}".encode()
    return _signed(secret, UNSUBSCRIBE, payload)


def _signed(secret: bytes, purpose: bytes, payload: bytes) -> str:
    """``payload`` and its MAC under ``purpose``, as every payload.MAC token is written;
    ``_payload`` is the one reader."""
    return f"{_b64(payload)}.{_b64(_mac(secret, purpose, payload))}"


def _payload(secret: bytes, purpose: bytes, token: str, shape: re.Pattern[str]) -> bytes | None:
    """The payload of a genuine ``purpose`` token of ``shape``; None for anything forged,
    damaged, spelled otherwise than we spell it, or made for another purpose.

    The one check every ``payload.MAC`` token goes through (unsubscribe, page,
    click and review links); each reader then parses its own payload."""
    if not shape.fullmatch(token):
        return None
    try:
        payload_part, mac_part = token.split(".")
        payload, mac = _unb64(payload_part), _unb64(mac_part)
    except (ValueError, binascii.Error):
        return None
    if _b64(payload) != payload_part or _b64(mac) != mac_part:
        return None  # a non-canonical spelling of a genuine token: altered
    return payload if hmac.compare_digest(mac, _mac(secret, purpose, payload)) else None


def read_token(secret: bytes, token: str) -> tuple[int, str] | None:
    """(contact_id, issue_id) for a genuine token; None for anything forged or damaged."""
    payload = _payload(secret, UNSUBSCRIBE, token, SHAPE)
    try:
        contact, issue_id = payload.decode("utf-8").split(":", 1) if payload else ("", "")
        return int(contact), issue_id
    except (ValueError, UnicodeDecodeError):
        return None


# -- page links: "Check your entry", the members' directory ---------------------

_DAY = 86400


@dataclass(frozen=True)
class Link:
    """What a genuine page token says: whose link it is, and the day it was made."""

    contact_id: int
    issued: int  # days since 1970-01-01 (UTC)

    def age(self, now: float) -> int:
        """Days since the link was made, at ``now`` (seconds since the epoch)."""
        return int(now // _DAY) - self.issued


def make_link_token(secret: bytes, purpose: bytes, contact_id: int, now: float) -> str:
    """The token of ``contact_id``'s personal link for ``purpose``, made at ``now`` (seconds)."""
    if purpose not in LINK_PURPOSES:
        raise ValueError(f"{purpose!r} is not a page purpose")
    payload = f"{contact_id}:{int(now // _DAY)}".encode()
    return _signed(secret, purpose, payload)


def read_link_token(
    secret: bytes, purpose: bytes, token: str, now: float, max_age: int = LINK_MAX_AGE
) -> Link | None:
    """The link a genuine, unexpired ``purpose`` token names; None for anything forged,
    damaged, made for another purpose, older than ``max_age`` days or dated ahead."""
    payload = _payload(secret, purpose, token, SHAPE) if purpose in LINK_PURPOSES else None
    try:
        contact, issued = payload.decode("ascii").split(":") if payload else ("", "")
        link = Link(int(contact), int(issued))
    except (ValueError, UnicodeDecodeError):
        return None
    return link if -1 <= link.age(now) <= max_age else None  # a day for clocks that differ


# -- click links (readership = "aggregate") -------------------------------------

# A link's address is in its token, so the shape allows a long one; anything
# else is refused before decoding, as with SHAPE.
MAX_CLICK_URL = 2000
CLICK_SHAPE = re.compile(r"[A-Za-z0-9_-]{2,2800}\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Click:
    """What a genuine click token says: the issue, the link's number, its address."""

    issue_id: str
    index: int
    url: str


def make_click_token(secret: bytes, issue_id: str, index: int, url: str) -> str:
    """The token of link ``index`` (to ``url``) in ``issue_id``'s email; names no reader."""
    if len(url) > MAX_CLICK_URL or "\n" in issue_id or "\n" in url:
        raise ValueError("not a link that can be counted")
    payload = f"{issue_id}\n{index}\n{url}".encode()
    return _signed(secret, CLICK, payload)


def read_click_token(secret: bytes, token: str) -> Click | None:
    """The link a genuine click token names; None for anything forged, damaged or
    made for another purpose."""
    payload = _payload(secret, CLICK, token, CLICK_SHAPE)
    try:
        issue_id, index, url = payload.decode("utf-8").split("\n") if payload else ("", "", "")
        return Click(issue_id, int(index), url)
    except (ValueError, UnicodeDecodeError):
        return None


# The organisation part: an issue ID (up to 64 characters) and a row id.
_CLICK_ORG_SHAPE = re.compile(r"[A-Za-z0-9_-]{2,120}\.[A-Za-z0-9_-]{43}")
MAX_CLICK_ORG = 164  # characters: the longest the shape allows


def make_click_org_token(secret: bytes, issue_id: str, organisation_id: int) -> str:
    """The organisation part of the click links in ``issue_id``'s copies sent to
    ``organisation_id``'s people: the same for each of them, naming none."""
    if "\n" in issue_id or not 0 <= organisation_id <= MAX_ROW_ID:
        raise ValueError("not an issue and an organisation")
    payload = f"{issue_id}\n{organisation_id}".encode()
    return _signed(secret, CLICK_ORG, payload)


def read_click_org_token(secret: bytes, token: str, issue_id: str) -> int | None:
    """The organisation a genuine organisation part names, if it was made for
    ``issue_id`` (the click token's issue); None for anything forged, damaged, made
    for another issue or another purpose."""
    payload = _payload(secret, CLICK_ORG, token, _CLICK_ORG_SHAPE)
    try:
        issue, org = payload.decode("utf-8").split("\n") if payload else ("", "")
        organisation = int(org)
    except (ValueError, UnicodeDecodeError):
        return None
    if issue != issue_id or not org.isascii() or not org.isdigit() or str(organisation) != org:
        return None  # only reachable with the secret: a record we never make
    return organisation


# -- review links: a reviewer's read-only preview of one issue's build ---------------

REVIEW_DAYS = 14  # the default life of a review link
MAX_REVIEW_DAYS = 90
# A review payload names an issue (up to 64 characters) and an address (up to 254).
_REVIEW_SHAPE = re.compile(r"[A-Za-z0-9_-]{2,600}\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class Review:
    """What a genuine review token says: which issue, for whom, made when, good how long."""

    issue_id: str
    reviewer: str
    issued: int  # days since 1970-01-01 (UTC)
    days: int

    def age(self, now: float) -> int:
        return int(now // _DAY) - self.issued


def make_review_token(
    secret: bytes, issue_id: str, reviewer: str, now: float, days: int = REVIEW_DAYS
) -> str:
    """The token of ``reviewer``'s link to the preview of ``issue_id``, good for ``days``."""
    if not 1 <= days <= MAX_REVIEW_DAYS or "\n" in issue_id + reviewer:
        raise ValueError("a review link is good for 1 to 90 days, for one issue and one address")
    payload = f"{int(now // _DAY)}:{days}:{issue_id}\n{reviewer}".encode()
    return _signed(secret, REVIEW, payload)


def read_review_token(secret: bytes, token: str, now: float) -> Review | None:
    """The review a genuine, unexpired review token names; None for anything forged,
    damaged, made for another purpose, expired or dated ahead."""
    payload = _payload(secret, REVIEW, token, _REVIEW_SHAPE)
    try:
        issued, days, rest = payload.decode("utf-8").split(":", 2) if payload else ("", "", "")
        issue_id, reviewer = rest.split("\n")
        found = Review(issue_id, reviewer, int(issued), int(days))
    except (ValueError, UnicodeDecodeError):
        return None
    return found if -1 <= found.age(now) <= found.days else None


# -- the form token (CSRF) ---------------------------------------------------------

_FORM_SHAPE = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


def make_form_token(secret: bytes, link: str, issued: int) -> str:
    """The CSRF token of a form on the page of ``link`` (a personal token), made at ``issued``."""
    return f"{issued}.{_b64(_mac(secret, FORM, f'{issued}:{link}'.encode()))}"


def form_token_ok(secret: bytes, link: str, token: str, now: int) -> bool:
    """Whether ``token`` was made by us for ``link``'s page within ``FORM_MAX_AGE`` of ``now``."""
    found = _FORM_SHAPE.fullmatch(token)
    if found is None:
        return False
    issued = int(found[1])
    if not now - FORM_MAX_AGE <= issued <= now + 60:  # a minute for clocks that differ
        return False
    return hmac.compare_digest(token, make_form_token(secret, link, issued))


# -- the return path --------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What a genuine return-path token says: the contact, and a tag of the issue."""

    contact_id: int
    issue_tag: bytes

    def names(self, issue_id: str) -> bool:
        """Whether the token was made for ``issue_id``."""
        return hmac.compare_digest(self.issue_tag, issue_tag(issue_id))


def issue_tag(issue_id: str) -> bytes:
    return hashlib.sha256(b"newsletter-issue\0" + issue_id.encode("utf-8")).digest()[:ISSUE_TAG]


def _leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).rstrip(b"=").decode("ascii").lower()


def make_return_token(secret: bytes, contact_id: int, issue_id: str) -> str:
    """The token that goes in the envelope sender of ``contact_id``'s copy of ``issue_id``."""
    if not 0 <= contact_id <= MAX_ROW_ID:
        raise ValueError(f"contact id {contact_id} is out of range")
    payload = _leb128(contact_id) + issue_tag(issue_id)
    return _b32(payload + _mac(secret, RETURN_PATH, payload)[:RETURN_MAC])


def read_return_token(secret: bytes, token: str) -> Delivery | None:
    """The delivery a genuine return-path token names, in any letter case; None for
    anything forged or damaged (or made for another purpose, or under another secret)."""
    if not RETURN_TOKEN.fullmatch(token):
        return None
    text = token.lower()
    try:
        data = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
    if _b32(data) != text:
        return None  # spare bits set, or a length base32 never makes: altered
    payload, mac = data[:-RETURN_MAC], data[-RETURN_MAC:]
    if not hmac.compare_digest(mac, _mac(secret, RETURN_PATH, payload)[:RETURN_MAC]):
        return None
    contact_id, end = _read_leb128(payload)
    if len(payload) - end != ISSUE_TAG:
        return None  # only reachable with the secret: a record we never make
    return Delivery(contact_id, payload[end:])


def _read_leb128(data: bytes) -> tuple[int, int]:
    """(the number at the start of ``data``, where it ends)."""
    value = 0
    for n, byte in enumerate(data):
        value |= (byte & 0x7F) << (7 * n)
        if not byte & 0x80:
            return value, n + 1
    return value, len(data)


# -- the return-path setting, ``bounces+{token}@example.org`` ----------------------

TOKEN_FIELD = "{token}"
MAX_LOCAL_PART = 64  # octets (RFC 5321 4.5.3.1.1)


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot be a signed return path, or None.

    ``{token}`` stands in the local part, once, and nothing else is in braces;
    with the longest token in its place the local part fits in 64 octets.
    """
    local, at, domain = template.rpartition("@")
    if not at:
        return "is not an email address"
    if "{" in domain or "}" in domain:
        return f"has braces after the @: {TOKEN_FIELD} goes in the part before it"
    count = local.count(TOKEN_FIELD)
    if count > 1:
        return f"has {TOKEN_FIELD} {count} times: put it in once"
    if "{" in local.replace(TOKEN_FIELD, "") or "}" in local.replace(TOKEN_FIELD, ""):
        return f"has braces other than {TOKEN_FIELD}: only {TOKEN_FIELD} is filled in"
    longest = len(local.replace(TOKEN_FIELD, "").encode("utf-8")) + MAX_RETURN_TOKEN * count
    if longest > MAX_LOCAL_PART:
        return (
            f"would have a local part of up to {longest} octets with the "
            f"{MAX_RETURN_TOKEN}-character token in it; the limit is {MAX_LOCAL_PART}: "
            "shorten the part before the @"
        )
    return None


def is_signed(template: str) -> bool:
    """Whether the return-path setting asks for a signed token in each envelope sender."""
    return TOKEN_FIELD in template


def return_address(template: str, secret: bytes, contact_id: int, issue_id: str) -> str:
    """The envelope sender for one delivery: ``template`` with its token in place."""
    if not is_signed(template):
        return template
    return template.replace(TOKEN_FIELD, make_return_token(secret, contact_id, issue_id))


def return_tokens(template: str, text: str) -> list[str]:
    """The tokens of every address in ``text`` made from ``template``, first seen first.

    Letter case is ignored, as servers may fold it on the way back; a
    candidate of the token's letters is returned even if it is forged, so the
    caller can say so. Where the token is the whole local part
    (``{token}@bounces.example.org``), only a word of its length too: the bounce
    domain's other mailboxes ("postmaster@bounces.example.org" in a report) are
    no forged tokens, and must not hold the report back as one.
    """
    if not is_signed(template):
        return []
    before, _, after = template.partition(TOKEN_FIELD)
    shape = f"[a-z2-7]{{{MIN_RETURN_TOKEN},{MAX_RETURN_TOKEN}}}" if not before else "[a-z2-7]+"
    pattern = re.compile(
        rf"(?<![\w.+-]){re.escape(before)}({shape}){re.escape(after)}(?![\w-]|\.\w)", re.I
    )
    return list(dict.fromkeys(m.group(1) for m in pattern.finditer(text)))
