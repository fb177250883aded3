"""Messages: the MIME skeleton is encoded once per issue, recipients are spliced in.

Building an ``email`` package message per recipient costs milliseconds, so
the two bodies are quoted-printable encoded once, cut at the personalisation
markers. Every cut ends in a soft line break, so each spliced value starts on
a fresh encoded line: a marker is never split and no line exceeds 76
characters. The result is CRLF, 7-bit, and ready for a sender byte for byte.

The HTML part is cut at the markers themselves. The text part is cut around
each whole line that holds one, and that line is laid out again once the
values are in (``render.fit``, the build's own wrapping rule), so a long name
cannot push a line of the text part past 78 characters. A link only some
recipients get (``models.OPTIONAL_LINKS``) is cut as a whole: its ``<a>``
element in HTML, its line in text, dropped where the recipient has none.
"""

from __future__ import annotations

import html
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate

from newsletter.build.render import fit
from newsletter.models import OPTIONAL_LINKS, PLACEHOLDERS
from newsletter.send import headers
from newsletter.send.signing import Signer, relaxed_body

SOFT_BREAK = b"=\r\n"
_SAFE = frozenset(range(33, 127)) - {ord("=")}
# Each byte as it appears in quoted-printable (spaces and tabs literal).
_TOKENS = [bytes((b,)) if b in _SAFE or b in (9, 32) else b"=%02X" % b for b in range(256)]
_MARKERS = re.compile("|".join(re.escape(m) for m in PLACEHOLDERS.values()))
_MARKED_LINES = re.compile(rf"[^\r\n]*(?:{_MARKERS.pattern})[^\r\n]*")  # a line holding one
_KEY_OF = {marker: key for key, marker in PLACEHOLDERS.items()}
_OPTIONAL = "|".join(re.escape(PLACEHOLDERS[key]) for key in OPTIONAL_LINKS)
# An optional link: in HTML its whole <a> element and the " · " that follows it; in
# text its whole line with its line end, so that dropping it leaves no gap.
_HTML_SLOTS = re.compile(
    rf"<a\b[^>]*(?:{_OPTIONAL})[^>]*>(?:(?!</a>).)*</a>(?:[ \t]*(?:·|&middot;|&#183;)[ \t]*)?"
    rf"|{_MARKERS.pattern}",
    re.S | re.I,
)
_TEXT_SLOTS = re.compile(rf"[^\r\n]*(?:{_OPTIONAL})[^\r\n]*\n?|{_MARKED_LINES.pattern}")


def qp_line(data: bytes, out: list[bytes]) -> None:
    """Encode one line (no line ends in ``data``), wrapping at 76 with soft breaks."""
    line = bytearray()
    last = len(data) - 1
    for i, byte in enumerate(data):
        literal = byte in _SAFE or (byte in (9, 32) and i != last)
        token = bytes((byte,)) if literal else b"=%02X" % byte
        if len(line) + len(token) > 75:
            out.append(bytes(line) + SOFT_BREAK)
            line.clear()
        # A line starting with "." would need SMTP dot-stuffing, and "From "
        # is mangled by mbox tools; encoding the first byte avoids both.
        if not line and (token == b"." or (token == b"F" and data[i : i + 5] == b"From ")):
            token = b"=%02X" % byte
        line += token
    out.append(bytes(line))


def qp(text: str) -> bytes:
    """Quoted-printable with CRLF; the result ends with CRLF or a soft break."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ends_with_newline = lines[-1] == ""
    if ends_with_newline:
        lines.pop()
    out: list[bytes] = []
    for n, line in enumerate(lines):
        qp_line(line.encode("utf-8"), out)
        last = n == len(lines) - 1
        out.append(b"\r\n" if ends_with_newline or not last else SOFT_BREAK)
    return b"".join(out)


def qp_value(value: str) -> bytes:
    """A spliced value: one or more encoded lines, ending with a soft break.

    Runs once per marker per message, so the common case avoids ``qp``'s
    byte loop: a table lookup per byte, then cuts that never split "=XX".
    """
    data = value.encode("utf-8")
    if not data:
        return b""
    enc = b"".join([_TOKENS[b] for b in data])
    if data[-1] in (9, 32):  # whitespace before a line end must be encoded
        enc = enc[:-1] + b"=%02X" % data[-1]
    if data[:1] == b"." or data[:5] == b"From ":
        enc = b"=%02X" % data[0] + enc[1:]
    lines, start = [], 0
    while len(enc) - start > 75:
        end = start + 75
        end -= 1 if enc[end - 1] == 61 else 2 if enc[end - 2] == 61 else 0
        lines.append(enc[start:end])
        start = end
        if enc[start : start + 1] == b"." or enc[start : start + 5] == b"From ":
            return qp(value)  # rare: let the careful encoder place the breaks
    lines.append(enc[start:])
    return SOFT_BREAK.join(lines) + SOFT_BREAK


@dataclass(frozen=True)
class Recipient:
    """Who one message is for; ``token`` signs the unsubscribe link, ``entry``,
    ``members`` and ``submit`` the personal page links ("" for none), ``fields``
    other markers' values; ``click_org`` follows each click link: "/" and their
    organisation's part, or ""."""

    email: str
    name: str
    message_id: str
    token: str
    entry: str = ""
    members: str = ""
    submit: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    click_org: str = ""


# What goes between a part's chunks for one recipient: the encoded bytes of a
# slot (a marker, or a line holding markers), given the recipient's values.
Fill = Callable[[str, dict[str, str]], bytes]


@dataclass(frozen=True)
class Part:
    """A body part cut at its slots: static chunks and what goes between them."""

    chunks: tuple[bytes, ...]  # len(slots) + 1 encoded chunks
    canon: tuple[bytes, ...]  # the same chunks in DKIM relaxed form
    slots: tuple[str, ...]
    fill: Fill


def _missing(slot: str, values: dict[str, str]) -> bool:
    """Whether ``slot`` holds an optional link this recipient does not get."""
    return any(not values[key] for key in OPTIONAL_LINKS if PLACEHOLDERS[key] in slot)


def html_value(slot: str, values: dict[str, str]) -> bytes:
    """A marker's value, escaped; an optional link's element with its value in, or nothing."""
    if slot in _KEY_OF:
        return qp_value(html.escape(values[_KEY_OF[slot]]))
    if _missing(slot, values):
        return b""
    return qp_value(_MARKERS.sub(lambda m: html.escape(values[_KEY_OF[m[0]]]), slot))


def text_line(line: str, values: dict[str, str]) -> bytes:
    """A text line with the values in, wrapped when they make it too long; an optional
    link's line (cut with its line end) is dropped where the recipient has none."""
    ends = line.endswith("\n")
    if ends and _missing(line, values):
        return b""
    filled = fit(_MARKERS.sub(lambda m: values[_KEY_OF[m[0]]], line.rstrip("\n")))
    encoded = qp_value(filled) if "\n" not in filled else qp_lines(filled)
    return encoded + b"\r\n" if ends else encoded


def qp_lines(text: str) -> bytes:
    """Lines of a spliced value, each through ``qp_value``'s fast path, with hard line
    breaks between them; like ``qp`` it ends with a soft break. A text line with a
    personal link in wraps (a URL is long), so this runs a few times per message."""
    pieces = text.split("\n")
    out = [qp_value(piece).removesuffix(SOFT_BREAK) + b"\r\n" for piece in pieces[:-1]]
    return b"".join(out) + qp_value(pieces[-1])


def cut(text: str, header: bytes, slots: re.Pattern[str], fill: Fill) -> Part:
    chunks = [qp(piece) for piece in slots.split(text)]
    chunks[0] = header + chunks[0]
    found = tuple(slots.findall(text))
    return Part(tuple(chunks), tuple(relaxed_body(c) for c in chunks), found, fill)


@dataclass(frozen=True)
class Layout:
    """What every message of a send shares."""

    from_header: str
    subject: str
    list_id: str
    unsubscribe_url: str  # ends with "/unsubscribe/"; the token follows
    unsubscribe_mailto: str
    feedback_id: str
    domain: str
    reply_to: str = ""
    entry_url: str = ""  # ends with "/entry/"; the token follows
    members_url: str = ""  # ends with "/members/"; the token follows
    submit_url: str = ""  # ends with "/submit/"; the token follows


class Composer:
    """Personalised messages for one issue: ``compose(recipient)`` returns the exact bytes."""

    def __init__(self, layout: Layout, text: str, html_body: str, signer: Signer | None) -> None:
        self.layout = layout
        self.signer = signer
        boundary = "=_nl_" + secrets.token_hex(12)  # "=_" never occurs in QP
        self.content_type = f'multipart/alternative;\r\n boundary="{boundary}"'
        part = "\r\nContent-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: "
        part += "quoted-printable\r\n\r\n"
        b = boundary.encode("ascii")
        self.text = cut(text, b"--" + b + part.format("plain").encode(), _TEXT_SLOTS, text_line)
        html_head = b"\r\n--" + b + part.format("html").encode()
        self.html = cut(html_body, html_head, _HTML_SLOTS, html_value)
        self.tail = b"\r\n--" + b + b"--\r\n"
        self._date = (0, "")
        self._subjects: dict[str, str] = {}
        # A slot whose one marker is the click links' organisation part (a text line
        # with a click link in: laid out again per message) is the same for everyone
        # of one organisation: spliced once per organisation, then reused.
        org = PLACEHOLDERS["click_org"]
        self._org_only = {
            (name, n)
            for name, part in (("text", self.text), ("html", self.html))
            for n, slot in enumerate(part.slots)
            if set(_MARKERS.findall(slot)) == {org}
        }
        self._spliced: dict[tuple[str, int, str], tuple[bytes, bytes]] = {}

    def uses(self, key: str) -> bool:
        """Whether either body holds ``key``'s marker (models.PLACEHOLDERS)."""
        marker = PLACEHOLDERS[key]
        return any(marker in slot for part in (self.text, self.html) for slot in part.slots)

    def date(self) -> str:
        """The Date header, formatted once a second, not once a message."""
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, formatdate(now, localtime=True))
        return self._date[1]

    def _subject(self, prefix: str) -> str:
        if prefix not in self._subjects:
            self._subjects[prefix] = headers.unstructured(prefix + self.layout.subject)
        return self._subjects[prefix]

    def headers(self, r: Recipient, subject_prefix: str = "") -> list[tuple[str, str]]:
        lay = self.layout
        url = lay.unsubscribe_url + r.token
        mailto = f"mailto:{lay.unsubscribe_mailto}?subject=unsubscribe%20{r.token}"
        pairs = [
            ("From", lay.from_header),
            ("To", headers.mailbox(r.name, r.email)),
            ("Subject", self._subject(subject_prefix)),
            ("Date", self.date()),
            ("Message-ID", r.message_id),
            ("List-Id", lay.list_id),
            ("List-Unsubscribe", f"<{url}>,\r\n <{mailto}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Feedback-ID", lay.feedback_id),
        ]
        if lay.reply_to:
            pairs.append(("Reply-To", lay.reply_to))
        pairs += [("MIME-Version", "1.0"), ("Content-Type", self.content_type)]
        return pairs

    def values(self, r: Recipient) -> dict[str, str]:
        """Every marker's value for ``r``: "" for one the recipient has none of."""
        lay = self.layout
        return {
            **dict.fromkeys(PLACEHOLDERS, ""),
            **dict(r.fields),
            "name": r.name if r.name.strip() else "colleague",  # a blank name greets no one
            "email": r.email,
            "unsubscribe_url": lay.unsubscribe_url + r.token,
            "entry_url": lay.entry_url + r.entry if r.entry and lay.entry_url else "",
            "members_url": lay.members_url + r.members if r.members and lay.members_url else "",
            "submit_url": lay.submit_url + r.submit if r.submit and lay.submit_url else "",
            "click_org": r.click_org,
        }

    def compose(self, r: Recipient, subject_prefix: str = "") -> bytes:
        values = self.values(r)
        body: list[bytes] = []
        canon: list[bytes] = []
        for name, part in (("text", self.text), ("html", self.html)):
            for n, slot in enumerate(part.slots):
                body.append(part.chunks[n])
                canon.append(part.canon[n])
                key = (name, n, values["click_org"])
                if (found := self._spliced.get(key)) is None:
                    spliced = part.fill(slot, values)
                    found = (spliced, relaxed_body(spliced))
                    if (name, n) in self._org_only:
                        self._spliced[key] = found
                body += found[:1]
                canon += found[1:]
            body.append(part.chunks[-1])
            canon.append(part.canon[-1])
        body.append(self.tail)
        canon.append(self.tail)
        pairs = self.headers(r, subject_prefix)
        head = "".join(f"{name}: {value}\r\n" for name, value in pairs).encode("ascii")
        if self.signer:
            head = self.signer.sign(pairs, canon) + head
        return head + b"\r\n" + b"".join(body)


def id_label(issue_id: str) -> str:
    """The issue ID as it may appear in a Message-ID or Feedback-ID.

    Issue IDs are folder names and may hold spaces, "<" or non-ASCII letters,
    none of which a Message-ID (dot-atom text) can carry.
    """
    return re.sub(r"[^A-Za-z0-9]+", "-", issue_id).strip("-") or "issue"


def new_message_id(issue_id: str, domain: str) -> str:
    return f"<{id_label(issue_id)}.{secrets.token_hex(8)}@{domain}>"
