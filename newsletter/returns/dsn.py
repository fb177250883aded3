"""Read one returned message: a bounce (RFC 3464 or a common older style), or not.

Pure parsing, no database: ``classify(data)`` says what a message is, which
enhanced status code (RFC 3463) it carries, why in Sisimai's words (``cause``:
userunknown, mailboxfull, filtered...; the rule is ``models.cause``), which
addresses it names and which original Message-IDs it quotes.
``newsletter.bounces`` decides what to do.

Kinds: ``hard`` and ``soft`` failures, ``delayed`` (a warning; the server is
still trying), ``delivered`` (a success report), ``complaint`` (a spam
complaint: an RFC 5965 feedback report, Microsoft's JMRP form or an Amazon SES
notice), ``auto-reply``, ``unsubscribe`` (a reply to the List-Unsubscribe
mailto, whose subject is "unsubscribe TOKEN"), ``other`` (mail that is not a
bounce) and ``malformed``.

Forms read: RFC 3464/6533 delivery reports, Amazon SES notifications by mail,
and the plain-text bounces of Exim, qmail, Sendmail, Domino, Yahoo, Outlook
and others. A bounce that says it is one but that this reader cannot tie to an
address gets a second opinion from flufl.bounce, Mailman's detector.

An auto-reply is read too: one that says its sender left (``DEPARTURE_PHRASES``,
in English, French and Spanish) has cause ``departure``, and ``successor`` is the
address it asks us to write to instead, when it names one.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.header
import email.policy
import json
import logging
import quopri
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import Message
from email.parser import HeaderParser

import flufl.bounce

from newsletter.models import CAUSE_PHRASES, ENHANCED_STATUS, cause, grade, phrases, severity

# severity is the shared rule (models); re-exported as the reader of reports names it.
__all__ = ["Bounce", "classify", "severity"]

REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")  # RFC 3464, 6533
FEEDBACK_TYPES = ("message/feedback-report",)  # RFC 5965 (ARF): a complaint
# Feedback types that are no reader's complaint: a DMARC or SPF failure report (RFC
# 6591), a message marked as not spam (RFC 6650), a virus found by a server's scan.
NOT_COMPLAINTS = ("auth-failure", "not-spam", "virus")
# Where the returned message was delivered to: with a signed return path (VERP) the
# token is in this address, whatever the report itself says or leaves out.
ENVELOPE_HEADERS = ("x-original-to", "delivered-to", "envelope-to", "x-envelope-to", "to")
# Where a report returns the original message, or only its headers.
ORIGINAL_TYPES = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/global-headers",
)
_ENHANCED = ENHANCED_STATUS
_REMOTE_CODE = re.compile(r"\b[45]\d\d[ -]+'?([245]\.\d)")
_SMTP = re.compile(r"(?:^|[:(\s#])([45])\d\d(?=[\s:-])", re.M)
# Exchange writes "dda:SMTP=ann@example.org"; the address pattern takes "SMTP=" in.
_PREFIX = re.compile(r"^(smtp|rfc822)[=:;]", re.I)
# A local part starts where a run of its characters starts (the look-behind) and has at
# most 64 (RFC 5321): without both, a long run with no "@" costs the square of its length.
_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
_ADDRESS = re.compile(rf"(?<!{_LOCAL}){_LOCAL}{{1,64}}@[\w-]+(?:\.[\w-]+)+")
# [ \t], not \s: a \s* at each line's start would run on across every blank line after it.
_ID_LINES = re.compile(
    r"^[ \t]*(message-id|in-reply-to|references|content-id)[ \t]*:.*$", re.I | re.M
)
_EXIM_RECIPIENT = re.compile(r"^[ \t]{2,}(\S+@[\w.-]+)[ \t]*$", re.M)
_TAG = re.compile(r"<[^<>]*>")  # "<" with no ">" after it costs nothing
# A bounce's own words are at its top; past this its text is a copy or padding, and
# reading 10 MB of it with every pattern would hold up the whole mailbox.
MAX_TEXT = 64 * 1024
MAX_HEADER = 4096  # characters of a header read for a verdict
SECOND_LINES = 1000
_MSGID = re.compile(r"^message-id:\s*<?([^<>\s@]+@[^<>\s]+?)>?(?=\s|$)", re.I | re.M)
_UNSUBSCRIBE = re.compile(r"\s*unsubscribe\s+([\w-]+\.[\w-]+)\s*$", re.I)
_DAEMON = re.compile(
    r"mailer-daemon|postmaster|mail delivery (sub)?system|mail-daemon|\bmdaemon@", re.I
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|delivery (status notification|failure|has failed)|"
    r"failure notice|mail delivery failed|returned mail|delivery notification|"
    r"could not be delivered|non remis|unzustellbar|no entregado|non-?delivery",
    re.I,
)
NO_STATUS = "a bounce with no status or reason"
# A subject that says the delivery failed (not "Delivery Status Notification" alone).
_FAILED_SUBJECT = re.compile(
    r"fail|undeliver|not (be )?delivered|returned|error|reject|non remis|unzustellbar|"
    r"no entregado|non-?delivery",
    re.I,
)
# Microsoft's complaint form (JMRP): "complaint about message from 192.0.2.1".
_JMRP = re.compile(r"\s*complaint about message from\b", re.I)
# Amazon SES notifications by mail come from SNS; its subtypes say more than any code.
_SES_SENDER = re.compile(r"@(sns\.amazonaws\.com|amazonses\.com)\b", re.I)
SES_SUBTYPES = {
    "NoEmail": "userunknown",
    "Suppressed": "userunknown",  # SES's list of addresses that recently bounced as invalid
    "OnAccountSuppressionList": "onhold",  # our own account's list: says nothing new
    "MailboxFull": "mailboxfull",
    "MessageTooLarge": "mesgtoobig",
    "ContentRejected": "contenterror",
    "AttachmentRejected": "contenterror",
}
_REPLY = re.compile(r"\s*(re|fwd?|aw|wg|sv|tr|rv)\s*:", re.I)
_DELAY_SUBJECT = re.compile(r"\(delay\)|delayed|will retry|warning: message", re.I)
_BODY_MARKERS = re.compile(
    r"this is the qmail-send program|could not be delivered to one or more|"
    r"following address(es)? failed|delivery to the following recipient|"
    r"i'm afraid i wasn't able to deliver|message could not be delivered|"
    r"permanent error|delivery has failed",
    re.I,
)
_AUTO_SUBJECT = re.compile(
    r"out of (the )?office|automatic reply|auto[- ]?(reply|response)|^auto:|"
    r"away from (the )?office|on vacation|vacation reply|abwesenheit|automatische antwort|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|resposta autom[áa]tica|"
    r"risposta automatica|autosvar|automatisch antwoord|fuera de la oficina|absent du bureau|"
    r"au(ss|ß)er haus|автоматический ответ|автоответ|自动回复|自動回覆|自動返信|自動応答|"
    r"^(ooo|absence|absent|abwesend)\b",
    re.I,
)
_COPY_MARKERS = re.compile(
    r"^.*(below this line is a copy|this is a copy of the message|original message follows|"
    r"original message headers|-{2,} ?original message ?-{2,}|undelivered message).*$",
    re.I | re.M,
)


# A departure notice among auto-replies: the phrases that say the sender left, as data,
# one language a line. Matched on the folded text (lower case, accents and typographic
# apostrophes dropped: "a quitté" and "a quitte" alike); a space stands for any run of
# whitespace, so a phrase matches across line wraps. The look-aheads keep out the
# other senses: "has left you a message", "have left the office for the day".
_LEFT_GUARD = (
    r"(?! (you|me|a (message|note|voicemail)|(the|my) (office|desk)\b|early|today|"
    r"for (the (day|night|evening|weekend|holidays?)|lunch|today|now)\b))"
)
DEPARTURE_PHRASES = {
    "en": (
        r"no longer with",
        r"no longer (works?|working|employed|part of|in (this|that|the) (role|position|post))",
        r"(has|have) (now )?left" + _LEFT_GUARD,
        r"(has|have) (now )?retired",
        r"(has|have) moved on to",
    ),
    "fr": (
        r"ne fait plus partie",
        r"ne fais plus partie",
        r"(a|ai) quitte(?! (le|mon|son) bureau| le travail)",
        r"(n'est|ne suis) plus en poste",
        r"ne travaill(e|es|ent) plus",
        r"(a|ai) pris (sa|ma) retraite",
    ),
    "es": (
        r"ya no (trabaja|trabajo|labora|laboro)",
        r"ya no (forma|formo) parte",
        r"(ha|he) dejado(?! (un|unos|su|sus|el|este) (mensaje|recado|nota)|"
        r" la oficina (por|hasta))",
        r"se (ha )?jubil(o|ado)",
        r"me (he )?jubilado",
    ),
}
# Words that introduce the address to write to instead: "please contact", "veuillez
# contacter", "por favor contacte a", "my successor is". Folded, like the phrases.
_SUCCESSOR_CUES = re.compile(
    r"\b(contact(ing|ez|er)?|write\s+to|writing\s+to|e-?mail|send\s[\w\s]{0,30}?to|"
    r"forward(ed)?\s+to|direct\s[\w\s]{0,30}?to|successor|replaced\s+by|replacement|"
    r"taken\s+over\s+by|handled\s+by|ecri(re|vez)\s+a|adress(er|ez)\s[\w\s]{0,30}?a|"
    r"remplac(e|ee|ant|ante)|successeur|contacte|contactar(se)?|comuniquese|escrib(a|ir)|"
    r"dirig(irse|ase)|reemplaz\w*|sucesor(a)?)\b"
)
# How far before an address its cue may be: "please contact my colleague Jane Doe,
# Head of Partnerships, at jane.doe@..." still names her.
_CUE_REACH = 120
# Where an auto-reply's own words end and a quoted copy of our message starts.
_QUOTED = re.compile(
    r"^(>|[ \t]*-{2,} ?(original message|message d'origine|mensaje original)|"
    r"on [^\n]{0,200} wrote:[ \t]*$|le [^\n]{0,200} a [ée]crit ?:[ \t]*$|"
    r"el [^\n]{0,200} escribi[óo]:[ \t]*$)",
    re.I | re.M,
)
# \b: "déjà quitté" is not "a quitté".
_DEPARTURE = phrases(*(rf"\b{p}" for group in DEPARTURE_PHRASES.values() for p in group))


class _Folding(dict[int, str]):
    """A str.translate table that folds one character to one (so positions in the
    folded text are positions in the original): lower case, without its accents."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[:1] or char
        base = base if base.isascii() else char
        low = base.lower()
        self[code] = folded = low if len(low) == 1 else base
        return folded


_FOLD = _Folding({0x2019: "'", 0x2018: "'", 0x02BC: "'", 0xA0: " "})


def fold(text: str) -> str:
    """``text`` in lower case without accents, character for character."""
    return text.translate(_FOLD)


# The wording's own cause (models, Sisimai's reasons) gives a code to a bounce that
# has none; the rest only says whether the failure is temporary or permanent.
_WORDING = dict(CAUSE_PHRASES)
_PHRASES = (  # when a non-standard bounce gives no code at all
    (_WORDING["mailboxfull"], "4.2.2"),
    (_WORDING["userunknown"], "5.1.1"),
    (_WORDING["hostunknown"], "5.1.2"),
    (phrases(r"retry time(out)? (was )?exceeded|temporar(y|ily)"), "4.0.0"),
    # Gmail: "Delivery to the following recipient failed permanently", no code at all.
    (phrases(r"permanent (error|failure)|failed permanently|i've given up"), "5.0.0"),
)
# The first word of an Action field (RFC 3464 says "failed"; servers also write
# "failure", "error", or "failed (Bad destination mailbox address)").
_FAILED_ACTIONS = ("failed", "failure", "error")


@dataclass(frozen=True)
class Bounce:
    # hard, soft, delayed, delivered, complaint, auto-reply, unsubscribe, other, malformed
    kind: str
    status: str = ""  # enhanced status code, e.g. "5.1.1"
    recipients: tuple[str, ...] = ()  # addresses the report names, most specific first
    message_ids: tuple[str, ...] = ()  # Message-IDs of the original, most reliable first
    reason: str = ""  # a short human reason: the diagnostic or why it was not a bounce
    envelope_to: tuple[str, ...] = ()  # where it was delivered to (ENVELOPE_HEADERS order)
    cause: str = ""  # why, in the reference parsers' words (Sisimai): userunknown, mailboxfull...
    # For a departure notice, the address it asks us to write to instead, when it names one
    # (a person's or a generic mailbox's: a hint for the editor, never a guess).
    successor: str = ""


def classify(data: bytes) -> Bounce:
    """What one raw message is; never raises on bad input."""
    try:
        if b"\n" not in data[:4096] and b"\r" in data:
            # Line ends of CR alone (old Mac mail saved to a file): the patterns read
            # lines by "\n", so a report read as one long line would lose its fields.
            data = data.replace(b"\r", b"\n")
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        if not msg.keys() or not any(k.lower() in ("from", "subject", "date") for k in msg.keys()):
            return Bounce("malformed", reason="no mail headers")
        found = _classify(msg)
        if (_unread(found) or _loose(msg, found)) and _looks_like_bounce(msg):
            found = _second_opinion(msg, _head(data), found)
        if found.reason == NO_STATUS and _FAILED_SUBJECT.search(_header(msg, "subject")):
            # A daemon's "Mail delivery failed" that neither reader can explain: a failure
            # still, of the message it quotes; soft, since nothing says the address is gone.
            found = replace(found, kind="soft", status="5.0.0", cause="onhold")
        return replace(found, envelope_to=_envelope_to(msg))
    except Exception as exc:  # one broken message must not stop the run
        return Bounce("malformed", reason=f"{type(exc).__name__}: {exc}"[:120])


def _unread(found: Bounce) -> bool:
    """Our reader found no one to blame, or nothing at all."""
    failure = found.kind in ("hard", "soft", "delayed")
    return found.kind in ("other", "malformed") or (failure and not found.recipients)


def _loose(msg: Message, found: Bounce) -> bool:
    """Several addresses read from a bounce's free text (not a delivery report's
    fields): some may be the list's or a quoted one's, so the second opinion narrows."""
    report = any(p.get_content_type() in REPORT_TYPES for p in msg.walk())
    return len(found.recipients) > 1 and not report


def _looks_like_bounce(msg: Message) -> bool:
    """Only a message that says it is a bounce gets a second opinion: flufl.bounce's
    generic detectors would find "failed" addresses in ordinary mail too."""
    subject = _header(msg, "subject")
    senders = f"{_header(msg, 'from')} {msg.get_unixfrom() or ''} {_header(msg, 'sender')}"
    return bool(
        _DAEMON.search(senders)
        or (not _REPLY.match(subject) and _BOUNCE_SUBJECT.search(subject))
        or _header(msg, "return-path") in ("<>", "<MAILER-DAEMON>")
        or msg.get("x-failed-recipients")
        or msg.get_content_type() == "multipart/report"
    )


def _head(data: bytes) -> Message:
    """The message's first SECOND_LINES lines, for flufl.bounce: a bounce's own words are
    at its top, and its detectors test every line with dozens of patterns (a second for
    some ten thousand), so a long returned copy or padding would hold up the run."""
    lines = data.split(b"\n", SECOND_LINES)[:SECOND_LINES]
    return email.message_from_bytes(b"\n".join(lines)[:MAX_TEXT], policy=email.policy.compat32)


def _second_opinion(msg: Message, head: Message, ours: Bounce) -> Bounce:
    """flufl.bounce (Mailman's detector) on a bounce we could not read. It names the
    addresses only, as temporary or permanent: what is hard and what soft stays ours
    (a code or specific words), and without them a permanent failure is soft, so one
    unexplained rejection never retires a focal point."""
    log = logging.getLogger("flufl.bounce")
    quiet, log.disabled = log.disabled, True  # it logs a traceback for each broken message
    try:
        temporary, permanent = flufl.bounce.all_failures(head)
    except Exception:  # its detectors raise on some broken mail; ours already did its best
        return ours
    finally:
        log.disabled = quiet
    named = [_text(a, "utf-8") if isinstance(a, bytes) else str(a) for a in permanent or temporary]
    found = (a.strip().strip("<>") for a in named)
    recipients = tuple(sorted(dict.fromkeys(a for a in found if _ADDRESS.fullmatch(a))))
    if not recipients:
        return ours
    failure = ours.kind in ("hard", "soft", "delayed")
    if failure and ours.recipients:  # ours found several: keep those flufl confirms, if any
        confirmed = {a.lower() for a in recipients}
        narrowed = tuple(a for a in ours.recipients if a.lower() in confirmed)
        return replace(ours, recipients=narrowed or ours.recipients)
    note = "read by flufl.bounce" + (f": {ours.reason}" if ours.reason else "")
    if failure:  # ours read the code (and so the kind), flufl the address
        return replace(ours, recipients=recipients, reason=note[:120])
    if not permanent:
        return Bounce("delayed", "4.0.0", recipients, ours.message_ids, note[:120], cause="expired")
    why = cause("5.0.0", _body_text(msg))
    why = why if why != "undefined" else "onhold"  # failed, but nothing says why
    kind = grade(why, "5.0.0")
    return Bounce(kind, "5.0.0", recipients, ours.message_ids, note[:120], cause=why)


def _classify(msg: Message) -> Bounce:
    subject = _header(msg, "subject")
    request = _UNSUBSCRIBE.match(subject)
    if request:  # the mailto: in List-Unsubscribe; the token says who
        return Bounce("unsubscribe", reason=request.group(1))
    ids = _original_ids(msg)
    sender = _header(msg, "from")
    text = _body_text(msg)
    return _from_form(msg, subject, sender, text, ids) or _from_words(
        msg, subject, sender, text, ids
    )


def _from_form(
    msg: Message, subject: str, sender: str, text: str, ids: tuple[str, ...]
) -> Bounce | None:
    """A report in a machine-readable form: RFC 5965, Microsoft's JMRP, RFC 3464, SES."""
    feedback = next((p for p in msg.walk() if p.get_content_type() in FEEDBACK_TYPES), None)
    if feedback is not None:
        return _from_feedback(feedback, ids)
    jmrp = _from_jmrp(msg, ids) if _JMRP.match(subject) else None
    if jmrp is not None:
        return jmrp
    report = next((p for p in msg.walk() if p.get_content_type() in REPORT_TYPES), None)
    if report is not None:
        return _from_report(report, ids)
    notice = _ses_notice(msg, sender, text)
    return _from_ses(notice, ids) if notice is not None else None


def _from_words(msg: Message, subject: str, sender: str, text: str, ids: tuple[str, ...]) -> Bounce:
    """Everything else, by who sent it, its subject and its wording."""
    # Who the bounce is from and to: never the address that failed.
    own = " ".join([sender, _header(msg, "to"), *_envelope_to(msg)])
    failed = [a for v in msg.get_all("x-failed-recipients") or [] for a in _ADDRESS.findall(str(v))]
    # A person's reply ("Re: Undeliverable ...", or one that mentions a permanent
    # error) quotes our Message-ID too, so it must not pass for a bounce: the
    # sender, a failure header or a non-reply subject has to say so, or else the
    # body's wording together with the null return path that bounces carry.
    reply = bool(_REPLY.match(subject))
    bounce_subject = None if reply else _BOUNCE_SUBJECT.search(subject)
    auto_subject = _AUTO_SUBJECT.search(subject)
    auto_header = (
        msg.get("x-autoreply")
        or msg.get("x-autorespond")
        or _header(msg, "precedence").lower() == "auto_reply"
    )
    # Whichever the subject names first wins: "Automatic reply: Undeliverable: ..."
    # is someone's out-of-office, "Undeliverable: Out of office hours ..." a bounce.
    if bounce_subject and not auto_header and auto_subject:
        bounce_subject = bounce_subject if bounce_subject.start() < auto_subject.start() else None
    if _DAEMON.search(sender) or failed or bounce_subject:
        return _text_bounce(subject, text, failed, own, ids)
    # Auto-replies come before the body's wording: "this mailbox is no longer
    # monitored, your message could not be delivered" from a person's
    # out-of-office, sent with a null return path, is still not a bounce.
    auto = (_header(msg, "auto-submitted") or "no").lower()
    if auto != "no" or auto_header or auto_subject:
        return _auto_reply(subject, sender, own, text, ids)
    if _BODY_MARKERS.search(text) and _header(msg, "return-path") == "<>" and not reply:
        return _text_bounce(subject, text, failed, own, ids)
    return Bounce("other", message_ids=ids, reason=f"not a bounce: {subject[:60]!r}")


def _auto_reply(subject: str, sender: str, own: str, text: str, ids: tuple[str, ...]) -> Bounce:
    """An out-of-office, or a departure notice: its sender left (``DEPARTURE_PHRASES``).
    A departure names its sender, so a run with --match-address can tie it by address."""
    reason = subject[:80] or "auto-reply"
    quoted = _QUOTED.search(text)
    own_text = text[: quoted.start()] if quoted else text
    if not _DEPARTURE.search(f"{fold(subject)}\n{fold(own_text)}"):
        return Bounce("auto-reply", message_ids=ids, reason=reason, cause="vacation")
    senders = tuple(dict.fromkeys(_ADDRESS.findall(sender)))
    theirs = {a.lower() for a in _ADDRESS.findall(own)}  # the sender's and ours
    return Bounce(
        "auto-reply",
        recipients=senders,
        message_ids=ids,
        reason=reason,
        cause="departure",
        successor=_successor(own_text, theirs),
    )


def _successor(text: str, excluded: set[str]) -> str:
    """The first address in the reply's own words that a cue ("please contact") shortly
    before it introduces and that is neither the sender's nor ours; "" when none does."""
    words = fold(text)  # character for character, so its positions are the text's
    for found in _ADDRESS.finditer(text):
        address = found.group(0).strip(".")
        if address.lower() in excluded or _DAEMON.search(address):
            continue
        if _SUCCESSOR_CUES.search(words, max(0, found.start() - _CUE_REACH), found.start()):
            return address
    return ""


def _text_bounce(
    subject: str, text: str, failed: list[str], own: str, ids: tuple[str, ...]
) -> Bounce:
    if _DELAY_SUBJECT.search(subject) and not failed:
        return Bounce("delayed", "4.0.0", (), ids, "delivery delayed", cause="expired")
    return _from_text(text, failed, own, ids)


def _from_report(report: Message, ids: tuple[str, ...]) -> Bounce:
    """RFC 3464: the worst per-recipient block decides."""
    # The first block is about the message; the others each name one recipient.
    blocks = [b for b in _report_blocks(report) if b.get("action") or b.get("final-recipient")]
    found: list[tuple[int, str, str, str]] = []  # rank, status, recipient, diagnostic
    for block in blocks:
        action = next(iter(re.findall(r"[a-z]+", (block.get("action") or "").lower())), "")
        if action in _FAILED_ACTIONS:
            action = "failed"
        diagnostic = _unfold(block.get("diagnostic-code") or "").partition(";")[2].strip()
        status = _status(block.get("status") or "", diagnostic, action)
        recipient = ""
        # The address as we sent it first (RFC 3464 Original-Recipient): that is the
        # contact's, where Final-Recipient may be what an alias or forward made of it.
        for field in ("original-recipient", "final-recipient", "x-actual-recipient"):
            match = _ADDRESS.search((block.get(field) or "").partition(";")[2])
            if match:
                recipient = recipient or match.group(0)
        rank = {"failed": 3, "delayed": 1}.get(action, 0)
        if action != "delayed" and status.startswith(("4", "5")):
            rank = 3  # a failure code means it failed, whatever the Action says (or if none)
        found.append((rank, status, recipient, diagnostic))
    if not found:
        return Bounce("malformed", message_ids=ids, reason="delivery report with no recipients")
    found.sort(key=lambda f: (-f[0], f[1][:1] != "5"))
    rank, status, _, diagnostic = found[0]
    recipients = tuple(dict.fromkeys(f[2] for f in found if f[2] and f[0] == rank))
    if rank == 0:
        return Bounce("delivered", status, recipients, ids, "a success report", cause="delivered")
    why = cause(status, _remote(diagnostic))
    if rank == 1:
        reason = diagnostic[:120] or "delivery delayed"
        return Bounce("delayed", status, recipients, ids, reason, cause=why)
    if not status.startswith(("4", "5")):
        status = "5.0.0"  # "failed" with no usable code: RFC 3464 says failed is permanent
        why = cause(status, _remote(diagnostic))
    return Bounce(grade(why, status), status, recipients, ids, diagnostic[:120], cause=why)


def _from_feedback(report: Message, ids: tuple[str, ...]) -> Bounce:
    """RFC 5965: someone pressed "this is spam". Providers often redact the address,
    so the original's Message-ID (or the return path's token) says who it was."""
    fields: dict[str, str] = {}
    for block in _report_blocks(report):
        for name, value in block.items():
            fields.setdefault(name.lower(), _unfold(str(value)))
    kind = fields.get("feedback-type", "abuse").lower() or "abuse"
    if kind in NOT_COMPLAINTS:  # about our mail or a server's check, not a reader's wish
        reason = f"feedback report: {kind}, not a complaint from a reader"
        return Bounce("other", "", (), ids, reason, cause="feedback")
    recipients = [
        a
        for name in ("original-rcpt-to", "removal-recipient")
        for a in _ADDRESS.findall(fields.get(name, ""))
    ]
    reason = f"feedback report: {kind}"
    if agent := fields.get("user-agent"):
        reason += f" from {agent}"
    recipients = list(dict.fromkeys(recipients))
    return Bounce("complaint", "", tuple(recipients), ids, reason[:120], cause="feedback")


def _ses_notice(msg: Message, sender: str, text: str) -> dict[str, object] | None:
    """An Amazon SES notification sent by mail through SNS: the JSON object SES
    documents ("notificationType": Bounce, Complaint or Delivery), alone or inside
    SNS's own JSON envelope ("Message"). None for anything else."""
    if not (msg.get("x-amz-sns-message-id") or _SES_SENDER.search(sender)):
        return None
    start, end = text.find("{"), text.rfind("}")
    try:  # strict=False: a long line folded by the way keeps a raw line break in a string
        data = json.loads(text[start : end + 1], strict=False) if 0 <= start < end else None
        if isinstance(data, dict) and isinstance(data.get("Message"), str):
            data = json.loads(data["Message"], strict=False)
    except ValueError:
        return None
    return data if isinstance(data, dict) and "notificationType" in data else None


def _from_ses(notice: dict[str, object], ids: tuple[str, ...]) -> Bounce:
    """SES's bounce, complaint or delivery notification: who, and (for a bounce) its
    type, subtype, status and diagnostic, per recipient."""
    kind = str(notice.get("notificationType", "")).lower()
    part = _mapping(notice.get(kind))
    mail = _mapping(notice.get("mail"))
    headers = [_mapping(h) for h in _listing(mail.get("headers"))]
    found = [str(h.get("value", "")) for h in headers if str(h.get("name")).lower() == "message-id"]
    found.append(str(_mapping(mail.get("commonHeaders")).get("messageId", "")))
    ids = tuple(dict.fromkeys([*(f"<{i.strip().strip('<>')}>" for i in found if i.strip()), *ids]))
    if kind == "delivery":
        recipients = _addresses(_listing(part.get("recipients")))
        return Bounce("delivered", "2.0.0", recipients, ids, "a success report", cause="delivered")
    field = "complainedRecipients" if kind == "complaint" else "bouncedRecipients"
    rows = [_mapping(r) for r in _listing(part.get(field))]
    recipients = _addresses([r.get("emailAddress") for r in rows])
    if kind == "complaint":
        reason = f"feedback report: {part.get('complaintFeedbackType') or 'abuse'} from Amazon SES"
        return Bounce("complaint", "", recipients, ids, reason, cause="feedback")
    if kind != "bounce":
        return Bounce("other", "", recipients, ids, f"an Amazon SES {kind or 'notice'}")
    return _ses_bounce(part, rows, recipients, ids)


def _ses_bounce(
    part: dict[str, object],
    rows: list[dict[str, object]],
    recipients: tuple[str, ...],
    ids: tuple[str, ...],
) -> Bounce:
    permanent = part.get("bounceType") == "Permanent"
    subtype = str(part.get("bounceSubType", ""))
    diagnostic = " ".join(str(r.get("diagnosticCode", "")) for r in rows).partition(";")[2].strip()
    code = _ENHANCED.search(" ".join(str(r.get("status", "")) for r in rows))
    status = ".".join(code.groups()) if code else ("5.0.0" if permanent else "4.0.0")
    why = SES_SUBTYPES.get(subtype) or cause(status, diagnostic)
    kind = grade(why, status) if permanent else "soft"  # SES says Transient: it may pass
    reason = (diagnostic or f"Amazon SES: {part.get('bounceType')} {subtype}").strip()
    return Bounce(kind, status, recipients, ids, reason[:120], cause=why)


def _addresses(values: list[object]) -> tuple[str, ...]:
    found = (v.strip() for v in values if isinstance(v, str))
    return tuple(dict.fromkeys(a for a in found if _ADDRESS.fullmatch(a)))


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _listing(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _from_jmrp(msg: Message, ids: tuple[str, ...]) -> Bounce | None:
    """Microsoft's Junk Mail Reporting Program (Outlook.com, Hotmail): no RFC 5965
    report, the complained-of message attached whole, its recipient in a header
    Microsoft adds to it. None when nothing is attached."""
    originals = [p for p in msg.walk() if p.get_content_type() in ORIGINAL_TYPES]
    if not originals:
        return None
    found = []
    for part in originals:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else part
        if isinstance(inner, Message):
            found += _ADDRESS.findall(_header(inner, "x-hmxmroriginalrecipient"))
    reason = "feedback report: abuse from Microsoft JMRP"
    return Bounce("complaint", "", tuple(dict.fromkeys(found)), ids, reason, cause="feedback")


def _envelope_to(msg: Message) -> tuple[str, ...]:
    found = [a for name in ENVELOPE_HEADERS for a in _ADDRESS.findall(_header(msg, name))]
    return tuple(dict.fromkeys(found))


def _report_blocks(report: Message) -> list[Message]:
    """The report's field blocks, however the parser split (or did not split) them."""
    payload = report.get_payload()
    # message/delivery-status is parsed into blocks already; the RFC 6533 global
    # type as one message whose body holds the other blocks; an encoded one not at all.
    raw = _encoded_body(report)
    if raw is None and isinstance(payload, list):
        raw = b"\n\n".join(b.as_bytes() for b in payload if isinstance(b, Message))
    elif raw is None:
        body = report.get_payload(decode=True)  # bytes here: the report is not multipart
        raw = body if isinstance(body, bytes) else b""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")  # RFC 6533 allows raw UTF-8
    return [HeaderParser().parsestr(chunk) for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]


def _status(field: str, diagnostic: str, action: str) -> str:
    """The Status field, made specific from the diagnostic when it is only X.0.0."""
    match = _ENHANCED.search(field)
    status = ".".join(match.groups()) if match else ""
    # Google's relays (and SES through them) write their own code first and the remote
    # server's reply after it: "5.1.0 - Unknown address error 550-'5.7.1 ... Access
    # denied'". The code the remote server gave with its reply says what happened.
    remote = _REMOTE_CODE.search(diagnostic)
    detail = _ENHANCED.search(diagnostic, remote.start(1) if remote else 0)
    if detail and (not status or (status.endswith(".0.0") and detail.group(1) == status[0])):
        status = ".".join(detail.groups())
    if not status:
        smtp = _SMTP.search(diagnostic)
        status = f"{smtp.group(1)}.0.0" if smtp else ("5.0.0" if action == "failed" else "")
    return _refine(status, diagnostic)


def _remote(diagnostic: str) -> str:
    """The remote server's reply in a diagnostic, without a relay's label before it
    ("5.1.0 - Unknown address error" is Google's name for its own code, not the words)."""
    remote = _REMOTE_CODE.search(diagnostic)
    return diagnostic[remote.start() :] if remote else diagnostic


def _refine(status: str, text: str) -> str:
    """X.0.0 only says "failed"; "552 Mailbox full" in words is X.2.2, so soft."""
    if status.endswith(".0.0") and _WORDING["mailboxfull"].search(text):
        return f"{status[0]}.2.2"
    return status


def _from_text(text: str, failed: list[str], ours: str, ids: tuple[str, ...]) -> Bounce:
    """Exim, qmail and plain-text bounces: read the part before the returned copy."""
    marker = _COPY_MARKERS.search(text)
    diagnostic = text[: marker.start()] if marker else text
    # The most specific evidence wins: an enhanced code, a known phrase, an SMTP reply.
    status, found = "", None
    code = next((m for m in _ENHANCED.finditer(diagnostic) if m.group(1) in "45"), None)
    phrase = next(((rx.search(diagnostic), s) for rx, s in _PHRASES if rx.search(diagnostic)), None)
    smtp = _SMTP.search(diagnostic)
    if code:
        status, found = _refine(".".join(code.groups()), diagnostic), code
    elif phrase:
        found, status = phrase
    elif smtp:
        status, found = f"{smtp.group(1)}.0.0", smtp
    recipients = list(failed)
    recipients += re.findall(r"^<([^<>\s]+@[^<>\s]+)>:", diagnostic, re.M)  # qmail
    recipients += _EXIM_RECIPIENT.findall(diagnostic)  # Exim
    if not recipients:  # any address, but not a quoted Message-ID or threading header
        recipients = _ADDRESS.findall(_ID_LINES.sub("", diagnostic))
    own = {a.lower() for a in _ADDRESS.findall(ours)}
    recipients = [
        r
        for r in dict.fromkeys(_PREFIX.sub("", a.strip("<>.,;:")) for a in recipients)
        if r.lower() not in own and not _DAEMON.search(r)
    ]
    if not status:
        return Bounce("other", "", tuple(recipients), ids, NO_STATUS)
    start = diagnostic.rfind("\n", 0, found.start()) + 1 if found else 0
    line = diagnostic[start:].split("\n", 1)[0].strip()
    why = cause(status, diagnostic)
    return Bounce(grade(why, status), status, tuple(recipients), ids, line[:120], cause=why)


def _original_ids(msg: Message) -> tuple[str, ...]:
    """Message-IDs of the returned original: attached copy, quoted copy, then threading."""
    ids: list[str] = []
    for part in msg.walk():
        if part.get_content_type() not in ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        encoded = _encoded_body(part)
        if encoded is not None:
            headers = HeaderParser().parsestr(encoded.decode("utf-8", "replace"))
            ids.append(_header(headers, "message-id"))
        elif isinstance(payload, list):  # the parser read message/* parts as a message
            first = payload[0] if payload else None
            ids.append(_header(first, "message-id") if isinstance(first, Message) else "")
        else:
            ids.append(_header(HeaderParser().parsestr(_decode(part)), "message-id"))
    ids += _MSGID.findall(_body_text(msg))
    for name in ("in-reply-to", "references"):
        ids += re.findall(r"<[^<>\s]+>", _header(msg, name))
    own = _header(msg, "message-id")
    # Some servers quote the id without its angle brackets; the ledger keeps them.
    found = (f"<{i.strip().strip('<>')}>" for i in ids if i.strip().strip("<>"))
    return tuple(i for i in dict.fromkeys(found) if i != own)


def _encoded_body(part: Message) -> bytes | None:
    """The decoded body of a message/* part sent as base64 or quoted-printable.

    RFC 6533 allows it for the global types, and some servers do it for the
    others too; the parser then reads the encoded text as an empty message.
    None when the part is not message/* or not encoded.
    """
    cte = str(part.get("content-transfer-encoding") or "").strip().lower()
    payload = part.get_payload()
    if cte not in ("base64", "quoted-printable") or not isinstance(payload, list):
        return None
    text = "".join(p.as_string() if isinstance(p, Message) else str(p) for p in payload)
    data = text.encode("ascii", "replace")
    try:
        return base64.b64decode(data) if cte == "base64" else quopri.decodestring(data)
    except (binascii.Error, ValueError):
        return b""


def _body_text(msg: Message) -> str:
    """The report's own text parts (not the returned original), decoded."""
    texts = []
    for part in _own_parts(msg):
        if part.get_content_type() == "text/plain":
            texts.append(_decode(part))
        elif part.get_content_type() == "text/html":
            texts.append(_TAG.sub(" ", _decode(part)[:MAX_TEXT]))
    return "\n".join(texts).replace("\r\n", "\n")[:MAX_TEXT]


def _own_parts(msg: Message) -> Iterator[Message]:
    if msg.get_content_type() in ORIGINAL_TYPES:
        return
    if msg.is_multipart():
        for part in msg.get_payload():
            if isinstance(part, Message):
                yield from _own_parts(part)
    else:
        yield msg


def _decode(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):  # None for a multipart part; never a Message once parsed
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, "replace")
    except LookupError:  # an unknown charset name
        return raw.decode("utf-8", "replace")


def _unfold(value: str) -> str:
    return " ".join(value.split())


def _header(msg: Message, name: str) -> str:
    """A header as text, with RFC 2047 words decoded; "" when missing or broken."""
    value = msg.get(name)
    if value is None:
        return ""
    if isinstance(value, str) and len(value) > MAX_HEADER:
        # Decoding encoded words is slow on a huge header (a 2 MB subject held a run
        # for over a minute), and no verdict needs more than its start.
        value = value[:MAX_HEADER]
    try:
        # The Header object itself, not str() of it: raw 8-bit UTF-8 (RFC 6532) comes
        # back as bytes in "unknown-8bit" rather than as replacement characters.
        parts = email.header.decode_header(value)
        text = "".join(_text(p, c) if isinstance(p, bytes) else p for p, c in parts)
    except (ValueError, TypeError):
        text = str(value)
    return _unfold(text)


def _text(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", "replace")
    except LookupError:  # "unknown-8bit" or a made-up charset name: most such mail is UTF-8
        return data.decode("utf-8", "replace")
