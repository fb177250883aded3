"""One contribution email read: what it proposes, or why it is no contribution.

``read_message(data, sections)`` turns a message's bytes into a ``Contribution``
(title, summary, link, section, date, sender, attachments) or a ``Skip`` (one
reason). Everything in a message is untrusted: the subject is one sanitised
line, the body goes through the house sanitiser (``sanitize.clean_bounded``:
``MAX_CHARS``, ``MAX_DEPTH``) and becomes Markdown as a feed's summary does
(``feeds.markdown.to_markdown``). Whether a message is an auto-reply or a
bounce is ``returns.dsn.classify``'s call, the reader of returned mail.
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import html
import re
import urllib.parse
from dataclasses import dataclass
from email.message import Message

from newsletter.contacts.fields import normalise_email
from newsletter.feeds.markdown import to_markdown
from newsletter.issue.keys import untracked
from newsletter.returns.dsn import classify
from newsletter.sanitize import MAX_CHARS, clean_bounded, one_line
from newsletter.schema import FIRST_DAY, LAST_DAY

MAX_MESSAGE = 10 * 1024 * 1024  # a contribution is a few paragraphs; more is an attachment
TITLE_CHARS = 200
NO_TITLE = "(no subject)"  # neither the subject nor any line of the text shows anything
MAX_HEADER = 4096  # characters of a header read: the title keeps 200 of them anyway
# Kinds of returned mail (``dsn.Bounce.kind``) that are reports, not people writing.
REPORTS = ("hard", "soft", "delayed", "delivered", "complaint", "unsubscribe")
# dsn counts Precedence: auto_reply as an auto-reply; list and junk mail is no
# contribution either, though a bounce reader must not take it for an auto-reply.
_MASS = ("bulk", "junk", "list")
# "Section: events" on a line of its own; "*" and "_" around the label or the value
# (an Outlook user bolds one) and a trailing "\\" are Markdown's marks.
_FIELD = re.compile(r"^[ \t>*_]*(section|date)[ \t*_]*:[ \t*_]*(.+?)[ \t*_\\]*$", re.I | re.M)
# Where a forwarded or quoted message starts (Gmail, Outlook, Apple Mail; English,
# French, Spanish), as plain text or as to_markdown writes it ("\\-", "\\>").
_FORWARDED = re.compile(
    r"^[ \t]*\\?(-{2,}[ \t]*(forwarded message|original message|message transf[ée]r[ée]|"
    r"message d'origine|mensaje (reenviado|original))|begin forwarded message:|"
    r"\\?>|[*_]*(from|de)[*_ \t]*:[^\n]*\n[ \t*_]*(sent|date|envoy[ée]|enviado)[*_ \t]*:)",
    re.I | re.M,
)
# A signature's separator (RFC 3676: "-- " on a line of its own; many clients drop
# the space). What follows is the sender's phone, address and job title: personal
# data that a summary printed in the email and the archive must not carry.
_SIGNATURE = re.compile(r"^--[ \t]?$", re.M)
# Microsoft 365 Safe Links, which most UN agencies' mail has, rewrite each link a
# message brings in: the wrapper's data= holds the recipient's address, which an
# item's link, the email and the public archive must never carry.
_SAFE_LINK = re.compile(
    r"https?://[a-z0-9-]+\.safelinks\.protection\.outlook\.com/?\?[^\s\"'<>]*", re.I
)
# The parts of a From: value (RFC 5322) around its address.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
_ANGLE = re.compile(r"<([^<>]*)>")
# A DMARC verdict of "fail" in an Authentication-Results header (RFC 8601).
_DMARC_FAIL = re.compile(r"(?:^|[;\s])dmarc\s*=\s*fail\b", re.I)
_LINK = re.compile(r"https?://[^\s<>\"'()\[\]]+", re.I)
_HREF = re.compile(r"""href="(https?://[^"]+)\"""", re.I)
_DATE_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%Y-%m-%d")
_DATE_SHAPE = re.compile(
    r"^\s*(\d{1,2}\s+[a-z]+\.?\s+\d{4}|[a-z]+\.?\s+\d{1,2},?\s+\d{4}|\d{4}-\d{2}-\d{2})\s*$", re.I
)


@dataclass(frozen=True)
class Skip:
    """A message that is no contribution, and why, in a few words."""

    why: str


@dataclass(frozen=True)
class Contribution:
    """What one message proposes, before its sender is looked up."""

    title: str
    summary: str  # Markdown, from sanitised HTML
    link: str | None
    section: str | None  # a house section named in the body, else None
    date: dt.date | None
    name: str  # the sender's display name, one line
    address: str  # the sender's address, lower case
    attachments: int
    warnings: tuple[str, ...] = ()  # what was written in the body but could not be used
    # The receiving server's DMARC verdict on From: was "fail": the address may be forged,
    # so it verifies no one (``run`` should take the sender as unknown).
    forged: bool = False


def key_of(data: bytes) -> str:
    """What recognises a message again: its Message-ID, else a digest of its bytes."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = re.search(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", head, re.I | re.M)
    value = found.group(1).split() if found else []
    ident = value[0].decode("ascii", "replace").strip("<>") if value else ""
    # "<>" or '""' names no message: as a key, it would make the next one "already taken".
    if ident.strip('<>"') and len(value[0]) <= 250:
        return "id:" + ident
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_message(data: bytes, sections: tuple[str, ...]) -> Contribution | Skip:
    """The contribution ``data`` proposes, or why it is skipped."""
    if len(data) > MAX_MESSAGE:
        return Skip(f"larger than {MAX_MESSAGE // 1024 // 1024} MB; ask for a link instead")
    kind = classify(_bounded(data)).kind
    if kind == "auto-reply":
        return Skip("an auto-reply")
    if kind in REPORTS:
        return Skip("a delivery report, not a contribution")
    # compat32: the default policy's header parser takes seconds over a 1 MB subject;
    # ``_header`` decodes a bounded start of each header instead.
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    if _header(msg, "precedence").lower() in _MASS:
        return Skip("mass mail (Precedence: bulk, junk or list)")
    text_html, plain, attachments = _body(msg)
    # Unwrapped before the sanitiser, which then checks the address each wrapper held.
    cleaned = clean_bounded(_SAFE_LINK.sub(_unwrapped, text_html)).html
    summary = to_markdown(cleaned)
    # "Section:" and "Date:" are read on the lines the sender wrote (``_paragraphs``
    # leaves them out of a plain body); in HTML, on the Markdown's lines, where
    # they are not for the reader either.
    words = _own(plain[:MAX_CHARS] if plain else summary)
    if not plain:
        summary = _without_fields(summary)
    if not summary.strip():
        return Skip("no text")
    # No subject: the first line of the text stands in, as a mail client lists it;
    # a line of unseen characters only is none (an empty title would not load).
    lines = (_line(line, TITLE_CHARS) for line in summary.splitlines())
    title = _line(_header(msg, "subject"), TITLE_CHARS) or next(filter(None, lines), NO_TITLE)
    name, address = _sender(msg)
    section, date, warnings = _fields(words, sections)
    link = _first_link(cleaned)
    forged = _forged(msg)
    if forged:
        warnings += (
            f"the receiving server found From: {one_line(address, 100)} forged (dmarc=fail): "
            "check with the sender before accepting it",
        )
    return Contribution(
        title=title,
        summary=summary,
        link=untracked(link) if link else None,
        section=section,
        date=date,
        name=_line(name, 100),
        address=_address(address),
        attachments=attachments,
        warnings=warnings,
        forged=forged,
    )


def _bounded(data: bytes) -> bytes:
    """``data`` with each header line cut to ``MAX_HEADER`` bytes and a header's folded
    lines dropped past that, for ``classify``: it decodes whole headers, and Python's
    ``decode_header`` takes time in the square of their encoded words (2 MB of them in
    a subject took over a minute). Its verdict reads the start of a header anyway."""
    end = re.search(rb"\r?\n\r?\n", data)
    head, body = (data[: end.start()], data[end.start() :]) if end else (data, b"")
    if len(head) <= 16 * MAX_HEADER:
        return data
    kept, size = [], 0
    for line in head.split(b"\n"):
        folded = line[:1] in (b" ", b"\t")
        if folded and size >= MAX_HEADER:
            continue
        size = size + len(line) if folded else len(line)
        kept.append(line[:MAX_HEADER])
    return b"\n".join(kept) + body


def _line(text: str, limit: int) -> str:
    """A header as one line: folding, tabs and encoded line breaks are spaces, then
    ``sanitize.one_line`` drops what a terminal would not show as it is."""
    return one_line(" ".join(text.split()), limit).rstrip()  # not a space where it was cut


def _header(msg: Message, name: str) -> str:
    """A header's value, its encoded words (RFC 2047) decoded, at most ``MAX_HEADER``
    characters read."""
    return _decoded(_raw(msg, name))


def _raw(msg: Message, name: str) -> str:
    """A header as written, at most ``MAX_HEADER`` characters. compat32 keeps 8-bit
    bytes in a header as a ``Header`` whose ``str`` is "\ufffd" for each byte; they
    are UTF-8 (RFC 6532, as clients send them), so they are read as UTF-8."""
    value = msg.get(name, "")
    if isinstance(value, email.header.Header):
        value = "".join(
            part.decode("utf-8", "replace") if isinstance(part, bytes) else part
            for part, _ in email.header.decode_header(value)
        )
    return str(value)[:MAX_HEADER]


def _forged(msg: Message) -> bool:
    """Whether an Authentication-Results header says From: failed DMARC. Only "fail" is
    believed, wherever the header stands: a sender can add their own such header, but
    a forger would write "pass", and a verdict of "pass" proves nothing here."""
    found = msg.get_all("authentication-results") or []
    return any(_DMARC_FAIL.search(str(value)[:MAX_HEADER]) for value in found[:20])


def _sender(msg: Message) -> tuple[str, str]:
    """(display name, address) of From: split as written, then the name decoded, since a
    decoded name may hold the comma or the quotes its encoding protected."""
    raw = _raw(msg, "from")
    name, _ = email.utils.parseaddr(raw)
    return _decoded(name), _mailbox(raw)


def _mailbox(raw: str) -> str:
    """The one address of From: as a mail server takes it: the only ``<...>``, else the
    value itself when it is one word; "" when it holds two or is no such shape.
    ``parseaddr`` takes the first address it meets, so "jane@known.org <me@mine.org>",
    sent from (and signed for) mine.org, would have verified a stranger as Jane."""
    bare = _QUOTED.sub('""', raw)
    for _ in range(8):  # comments nest: the innermost first
        bare, n = _COMMENT.subn(" ", bare)
        if not n:
            break
    angles = list(_ANGLE.finditer(bare))
    if len(angles) == 1:
        # A phrase before it may hold anything but brackets (clients write "a@b <a@b>");
        # after it, nothing: "<jane@known.org>@mine.org" is no one's address.
        before, after = bare[: angles[0].start()], bare[angles[0].end() :]
        plain = not after.strip() and "<" not in before and ">" not in before
        return angles[0].group(1).strip() if plain else ""
    words = bare.split()
    return words[0] if not angles and len(words) == 1 and "," not in words[0] else ""


def _address(raw: str) -> str:
    """The sender's address in the form the contacts store (``normalise_email``), so
    that ``ann@xn--bcher-kva.example`` is the contact ``ann@bücher.example``; one
    the contacts could not hold is kept lower-cased, for an unverified sender."""
    address = one_line(raw, 254)
    try:
        return normalise_email(address)
    except ValueError:
        return address.lower()


def _decoded(raw: str) -> str:
    """Encoded words decoded; the text as written when they are too broken to decode."""
    try:
        return str(email.header.make_header(email.header.decode_header(raw)))
    except (email.errors.HeaderParseError, UnicodeError, LookupError, ValueError):
        return raw


def _body(msg: Message) -> tuple[str, str, int]:
    """The body as HTML to sanitise (text/plain preferred), the plain text if that was
    it, and how many attachments."""
    plain = rich = None
    attachments = 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            attachments += 1
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = _text(part)
        elif kind == "text/html" and rich is None:
            rich = _text(part)
        elif not kind.startswith(("text/", "message/")):
            attachments += 1  # an inline picture: not kept either
    if plain and plain.strip():
        return _paragraphs(plain), plain, attachments
    return rich or "", "", attachments


def _text(part: Message) -> str:
    """A text part decoded by its charset; an unknown charset is read as UTF-8."""
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    try:
        return raw.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", "replace")


def _own(text: str) -> str:
    """The sender's own words: the text before a forwarded or quoted message starts,
    whose "Date:" is the forwarded message's, not the contribution's."""
    start = _FORWARDED.search(text)
    return text[: start.start()] if start else text


def _without_signature(text: str) -> str:
    """The text before the signature's separator, when it has one."""
    found = _SIGNATURE.search(text)
    return text[: found.start()] if found else text


def _without_fields(text: str) -> str:
    """The text without the field lines of the sender's own words, nor their signature."""
    own = _without_signature(_own(text))
    if own != _own(text):  # a signature ends the own words: what follows is not kept
        return re.sub(r"\n{3,}", "\n\n", _FIELD.sub("", own)).strip()
    kept = re.sub(r"\n{3,}", "\n\n", _FIELD.sub("", own)).strip()
    rest = text[len(own) :].strip()
    return f"{kept}\n\n{rest}".strip() if rest else kept


def _paragraphs(text: str) -> str:
    """Plain text as HTML paragraphs, escaped: the sanitiser then treats it as any HTML.
    The plain "Section:" and "Date:" lines are read by ``_fields``, not shown."""
    kept = _without_fields(text.replace("\r\n", "\n"))
    blocks = [b.strip() for b in re.split(r"\n[ \t]*\n", kept) if b.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in b.split("\n")) + "</p>" for b in blocks
    )


def _fields(
    words: str, sections: tuple[str, ...]
) -> tuple[str | None, dt.date | None, tuple[str, ...]]:
    """The section and date written plainly in the body ("Section: events"), first of each."""
    section = date = None
    warnings: list[str] = []
    for found in _FIELD.finditer(words):
        label, value = found.group(1).lower(), one_line(found.group(2), 60)
        if label == "section" and section is None:
            section = value.lower() if value.lower() in sections else None
            if section is None:
                warnings.append(f"section {value!r} is not one of {', '.join(sections)}; ignored")
        elif label == "date" and date is None:
            date = plain_date(value)
            if date is None:
                warnings.append(f"date {value!r} is not a real date; ignored")
    return section, date, tuple(warnings)


def plain_date(value: str) -> dt.date | None:
    """A date written plainly ("12 March 2027", "March 12, 2027", "2027-03-12"), strictly:
    a "Date:" line of a contribution, and a call's ``--deadline``. A day an item may not
    hold (``schema.FIRST_DAY`` to ``LAST_DAY``) is none: its candidate would not load."""
    if not _DATE_SHAPE.match(value):
        return None
    plain = re.sub(r"[.,]", "", " ".join(value.split()))
    for form in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(plain, form).date()
        except ValueError:
            continue
        return day if FIRST_DAY <= day <= LAST_DAY else None
    return None


def _unwrapped(found: re.Match[str]) -> str:
    """The address a Safe Link wraps (its ``url``), escaped for the HTML it is in; ""
    when it wraps no web address: the wrapper itself is never kept."""
    query = urllib.parse.urlsplit(html.unescape(found.group(0))).query
    target = urllib.parse.parse_qs(query).get("url", [""])[0]
    return html.escape(target) if _LINK.fullmatch(target) else ""


def _first_link(cleaned: str) -> str | None:
    """The first http(s) link of the sanitised body: a link's address, else one written out."""
    href = _HREF.search(cleaned)
    if href:
        return html.unescape(href.group(1))
    text = _LINK.search(html.unescape(cleaned))
    return text.group(0).rstrip(".,;:!?") if text else None
