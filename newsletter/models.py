"""Plain values passed between the stages. Frozen, so no stage edits another's."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

# An RFC 3463 enhanced status code in a reply or a report: "5.1.1", not "1.5.1.1", nor
# a program's version ("Lotus SMTP MTA v4.6.1", "mxl_mta-5.5.0-3"); "550-5.1.1" is one.
ENHANCED_STATUS = re.compile(r"(?<![\w.])(?<![A-Za-z]-)([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d|-\d)")
# Why a message failed, in the reference parser's words (Sisimai's reasons). Only
# these say the address itself is gone, so only they are hard, whatever the code:
# a full mailbox empties, a suspended account comes back, a policy or spam block is
# about our mail and not the reader, so one of those must never retire a focal point.
HARD_CAUSES = ("userunknown", "hostunknown", "hasmoved", "notaccept")
# What an enhanced status code (RFC 3463) says by itself, subject.detail then subject.
STATUS_CAUSES = {
    "1.0": "userunknown",
    "1.1": "userunknown",
    "1.2": "hostunknown",
    "1.3": "userunknown",
    "1.4": "filtered",
    "1.6": "hasmoved",
    "1.7": "rejected",
    "1.8": "rejected",
    "1.10": "notaccept",  # null MX (RFC 7505): the domain takes no mail at all
    "2.": "filtered",
    "2.1": "suspend",
    "2.2": "mailboxfull",
    "2.3": "exceedlimit",
    "3.": "systemerror",
    "3.1": "systemfull",
    "3.4": "mesgtoobig",
    "4.": "networkerror",
    "4.1": "expired",
    "4.4": "hostunknown",  # unable to route: the domain has no mail server
    "4.7": "expired",
    "5.3": "toomanyconn",
    "6.": "contenterror",
    "7.": "securityerror",
    "7.1": "blocked",
    "7.2": "blocked",
}


def phrases(*phrases: str) -> re.Pattern[str]:
    """Phrases matched across any folding: servers wrap their text anywhere
    ("Mail quota\n    exceeded"). A space is one or more whitespace, " ?" any."""
    joined = "|".join(p.replace(" ?", r"\s*").replace(" ", r"\s+") for p in phrases)
    return re.compile(joined, re.I)


# Where the wording is specific it outranks the code: "5.1.1 Mailbox full" is a full
# mailbox. First match wins, in Sisimai's order (a full mailbox before anything else).
# Learned from Sisimai's lib/sisimai/reason/*.rb and from real bounces.
CAUSE_PHRASES = (
    (
        "mailboxfull",
        phrases(
            r"mailbox (is )?full|full mailbox|mailbox size limit|over ?(the )?(disk )?quota",
            r"quota (exceeded|violation)|exceed(s|ed|ing) (its|the|their) (mailbox )?"
            r"(storage|quota|disk space)|insufficient (disk )?(storage|space)|"
            r"(not enough|no) (free |storage )?space|mail ?(box|folder) (is )?(full|over)",
        ),
    ),
    (
        "mesgtoobig",
        phrases(r"message (too (big|large)|size exceeds|file too big)|max message size"),
    ),
    (
        "suspend",
        phrases(
            r"(account|mailbox|user) (is |has been )?(currently |temporarily )?"
            r"(suspended|disabled|deactivated|frozen|inactive|locked|blocked)|inactive account|"
            r"(mailbox|account) (has been )?(de-?activated|disabled)"
        ),
    ),
    (
        "hasmoved",
        phrases(r"has been replaced by|(user|recipient|mailbox|address) has moved|no longer at"),
    ),
    ("norelaying", phrases(r"relay(ing)? (access )?(denied|not permitted)|unable to relay")),
    (  # about our sender address, not the reader's ("Sender address rejected: Domain not found")
        "rejected",
        phrases(
            r"sender (address )?(rejected|verify failed|is (in my )?black ?list)|invalid sender|"
            r"domain of sender address|sender (domain|address) (must exist|not found|unknown)|"
            r"unroutable sender"
        ),
    ),
    (
        "userunknown",
        phrases(
            r"(user|recipient|address|mailbox|account) (is )?(unknown|not found|does not exist|"
            r"doesn't exist)|unknown (user|recipient|address|mailbox|local ?part)|"
            r"no such (user|mailbox|recipient|address|person|account)|"
            r"(mailbox|address|account|user) (name )?(is )?(not valid|invalid)|"
            r"invalid (recipient|mailbox|address|user)|not a valid (user|recipient|mailbox)|"
            r"no mailbox (here|by that name|found)|mailbox (unavailable|not present)|"
            r"not our customer|not listed in (the )?(domino )?(public )?directory|"
            r"does(n't| not) have an? [\w.-]+ account|no longer (valid|active|in use)|"
            r"bad destination (mailbox )?address|there is no one at this address|"
            r"unrouteable address|(user|recipient) not exist|"
            r"is not a known user|"
            r"(account|address) (has been )?(closed|terminated|removed|deleted)|"
            r"recipient address rejected",
        ),
    ),
    (
        "filtered",
        phrases(
            r"refuse[sd]? to (receive|accept)|user rules|recipient preferences|"
            r"not accepting (any )?mail|resolver\.rst\.notauthorized|blocked by the recipient"
        ),
    ),
    (  # before hostunknown: Postfix's "Name service error ... Host not found, try again"
        "networkerror",
        phrases(
            r"mail (forwarding )?loop|routing loop|loop detected|too many hops|no route to|"
            r"host not found, try again|name server reply"
        ),
    ),
    (
        "hostunknown",
        phrases(
            r"host (or domain name )?(unknown|not found)|unknown host|no such domain|"
            r"domain (does not|doesn't) exist|domain (is )?not (found|reachable)|unroutable"
        ),
    ),
    (
        "spamdetected",
        phrases(r"\bspam\b|unsolicited|bulk e-?mail|content (filter|rejected)|message filtered"),
    ),
    (
        "toomanyconn",
        phrases(
            r"too many (connections|concurrent|smtp sessions|recipients)|rate limit|"
            r"frequency limited"
        ),
    ),
    (
        "blocked",
        phrases(
            r"block ?list|black ?list|blocked (using|by|from)|banned|\brbl\b|dnsbl|spamhaus|"
            r"client host rejected|connection refused|reputation|not accepting connections"
        ),
    ),
    (
        "policyviolation",
        phrases(r"polic(y|ies)|not permitted|prohibited|moderator|members-only|closed list"),
    ),
    (
        "securityerror",
        phrases(r"authenticat(e|ion) (required|failed|failure)|starttls|tls required"),
    ),
    ("authfailure", phrases(r"\bdmarc\b|\bspf\b|\bdkim\b")),
    ("virusdetected", phrases(r"virus|malware|infected")),
    (
        "expired",
        phrases(
            r"(delivery|message) (time )?(expired|timed out)|retry time(out)? (was )?exceeded|"
            r"too long in (the )?queue|been in the queue too long|"
            r"could not be delivered (for|within)|connection timed out"
        ),
    ),
    (
        "systemerror",
        phrases(r"(local|system|server) (configuration )?error|temporary local problem"),
    ),
    ("notaccept", phrases(r"(does|will) not accept mail|null ?mx|no mx record")),
)
# Every cause a failure may carry: those of the codes and of the wording, "onhold" (a
# failure only flufl.bounce could read) and "undefined" (nothing says why).
FAILURE_CAUSES = tuple(
    dict.fromkeys([*STATUS_CAUSES.values(), *(r for r, _ in CAUSE_PHRASES), "onhold", "undefined"])
)
# Wording that overrides a code saying the address is gone ("550 5.1.1 Mailbox full"
# is a full mailbox); other wording there ("5.1.1 ... see our policy") does not.
OVERRIDE_GONE = (
    *("mailboxfull", "suspend", "norelaying", "rejected", "blocked", "hasmoved", "notaccept"),
    *("authfailure", "toomanyconn", "networkerror"),  # our sending, or the network's
)
# What one provider's code means in its own documentation, before the general rules:
# Exchange Online's "550 5.4.1 Recipient address rejected: Access denied" is its
# directory-based edge blocking, for an address its directory does not have.
PROVIDER_CAUSES = (("5.4.1", phrases(r"recipient address rejected: access denied"), "userunknown"),)
# Wording that says the address is gone overrides a code saying something else only
# when it is specific; these are too broad ("address rejected: access denied" is a
# policy as often as a dead address) to overrule a policy or spam code.
_BROAD = phrases(r"recipient address rejected|invalid address|mailbox unavailable")
_PREFIX_ONLY = phrases(r"recipient address rejected")


def cause(status: str, text: str = "") -> str:
    """Sisimai's reason for a status code and the server's wording: userunknown,
    mailboxfull, filtered... "delivered" for 2.x.x, "undefined" when nothing says."""
    klass, _, rest = status.partition(".")
    if klass == "2":
        return "delivered"
    subject, _, detail = rest.partition(".")
    by_code = STATUS_CAUSES.get(f"{subject}.{detail}") or STATUS_CAUSES.get(f"{subject}.", "")
    for prefix, phrase, reason in PROVIDER_CAUSES:
        if status.startswith(prefix) and phrase.search(text):
            return reason
    for reason, phrase in CAUSE_PHRASES:
        matches = list(phrase.finditer(text))
        found = [m.group(0) for m in matches]
        if not found or (by_code in HARD_CAUSES and reason not in HARD_CAUSES + OVERRIDE_GONE):
            continue  # "5.1.1 ... policy": the code says more
        if by_code == "rejected" and reason in HARD_CAUSES:
            continue  # "5.1.7 No such domain": our sender's domain, not the reader's
        specific = reason != "userunknown" or not all(_BROAD.fullmatch(f) for f in found)
        if by_code and by_code not in HARD_CAUSES and not specific:
            continue  # "5.7.1 ... address rejected": the policy code says more
        if by_code not in HARD_CAUSES and all(_heading(m, text) for m in matches):
            # Postfix's "Recipient address rejected: " heads every check's refusal
            # (greylisted, on hold, policy): with no code saying the address is gone,
            # it alone does not (Sisimai lists only its specific endings).
            continue
        return reason
    return by_code or "undefined"


def _heading(match: re.Match[str], text: str) -> bool:
    """Whether ``match`` is "Recipient address rejected" heading a reason after a colon."""
    return bool(_PREFIX_ONLY.fullmatch(match.group(0))) and text[match.end() :].lstrip()[:1] == ":"


def severity(status: str, text: str = "") -> str:
    """'hard' or 'soft' for a failure status code and the server's wording: the one
    rule for a bounce report (returns) and for a rejection during the send (send).

    Hard only when a permanent code or the wording says the address is gone."""
    return grade(cause(status, text), status)


def grade(reason: str, status: str) -> str:
    """'hard' or 'soft' for a cause and its code: a 4.x.x code is always soft (the
    server will try again). A 5.x.x that nothing explains ("undefined", 5.0.0 alone)
    is soft too, unlike Sisimai, which reads it by the code: on its own labelled
    samples most such failures were blocks, expiries and system errors, and one of
    those must not retire a focal point; three in a row still do."""
    return "hard" if status.startswith("5") and reason in HARD_CAUSES else "soft"


def plural(count: int, word: str) -> str:
    """``plural(1, "item")`` is "1 item"; ``plural(2, "item")`` is "2 items"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class SectionConfig:
    """A section as configured: a stable key, the title readers see, and what goes in it
    (for contributors: a call for contributions lists it; "" when the settings say nothing)."""

    key: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Problem:
    """One finding of `check`, printed as ``path:line: message``."""

    path: str
    line: int | None
    message: str
    severity: str = "error"  # "error" fails the check; "warning" does not
    # The field it concerns ("date", "summary" for an item's body), when one does:
    # the desk's item editor shows the problem beside that field. Not part of
    # equality: the same finding is the same whichever reader located it.
    key: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        loc = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{loc}: {prefix}{self.message}"


@dataclass(frozen=True)
class Item:
    """One news item, tool, event or spotlight, from a contributor's file."""

    slug: str
    title: str
    section: str
    summary_html: str  # sanitised HTML of the Markdown body
    path: str = ""
    link: str | None = None
    date: dt.date | None = None
    source: str | None = None
    contributor: str | None = None  # the person who sent it: kept for the editor, never shown
    organisation: str | None = None  # the contributor's organisation, for the credit line
    image: str | None = None
    image_alt: str | None = None
    tags: tuple[str, ...] = ()
    weight: int = 0
    embargo: dt.date | None = None
    # An event's start and end: a date (all day) or a datetime (dt.datetime is a dt.date).
    # A datetime carries its zone: a ZoneInfo when the item names a `timezone`, a
    # fixed offset when it wrote one, none for a floating local time.
    starts: dt.date | None = None
    ends: dt.date | None = None
    location: str | None = None  # where an event is: a place, or "Online"
    location_url: str | None = None  # the place's map or the meeting's link
    extra: tuple[tuple[str, str], ...] = ()  # feed provenance kept verbatim


@dataclass(frozen=True)
class Section:
    """A configured section with the items that go in it, in reading order."""

    key: str
    title: str
    items: tuple[Item, ...]


# The greeting the house settings start with; "{name}" is its one placeholder.
GREETING = "Dear {name},"


@dataclass(frozen=True)
class Issue:
    """An issue folder, loaded and validated."""

    id: str
    folder: Path
    number: int
    title: str
    date: dt.date
    subject: str
    preheader: str
    window_from: dt.date
    window_to: dt.date
    intro_html: str
    sections: tuple[Section, ...]
    held: tuple[Item, ...] = ()  # embargoed until a later date
    draft: bool = False
    section_order: tuple[str, ...] = field(default=())
    greeting: str = GREETING  # "" for none; "{name}" is the recipient's name


# Limits the settings and the command line share (one place for each number).
# What an issue ID may be: it becomes a folder, a URL path and part of every
# Message-ID, so letters, digits, dots, dashes and underscores, starting with a
# letter or digit (never "." or ".."). The issue folder and the unsubscribe
# journal (which reads it back from a file) both check it.
ISSUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# SQLite's largest row id: a larger number names no contact, proposal or organisation,
# and is refused before anything asks the database about it.
MAX_ROW_ID = 2**63 - 1
FEED_TIMEOUT = 20.0  # seconds for each feed, body included (newsletter collect --timeout)
MAX_CONCURRENCY = 64  # connections a send may open ([tool.newsletter.send], --concurrency)


@dataclass(frozen=True)
class Range:
    """The numbers a setting may hold, and its command-line option too: one rule for both.

    ``schema.ranged`` makes it the settings' kind; ``cli.env.InRange`` the option's
    click type, which calls that same kind, so the two can never drift apart.
    """

    minimum: float
    maximum: float
    whole: bool = False  # a whole number (connections, messages), else any finite number
    above: bool = False  # strictly above the minimum (a timeout of 0 means nothing)
    unit: str = ""  # "seconds", for messages


# Each bounded number in [tool.newsletter.send], `sources` and the command line, by the
# name of its setting. The ceilings are far above any real use and keep a slip of the
# finger (concurrency = 100000, rate = 1e400) from starting a run that cannot work.
LIMITS = {
    "concurrency": Range(1, MAX_CONCURRENCY, whole=True),  # --concurrency
    "rate": Range(0, 100_000),  # messages a second; 0 = no limit (--rate)
    "max_per_hour": Range(0, 100_000_000, whole=True),  # 0 = no cap (--max-per-hour)
    # A mail service's own caps, as sender options (e.g. Microsoft 365: 30 and 10,000).
    "max_per_minute": Range(0, 100_000, whole=True),  # 0 = no cap
    "max_per_day": Range(0, 100_000_000, whole=True),  # 0 = no cap; any 24 hours
    "max_attempts": Range(1, 100, whole=True),
    "retry_delay": Range(0, 3600, unit="seconds"),
    "retry_delay_max": Range(0, 86_400, unit="seconds"),
    "max_consecutive_failures": Range(1, 1_000_000, whole=True),
    "timeout": Range(0, 600, above=True, unit="seconds"),  # a source; collect --timeout
    "issues": Range(1, 100, whole=True),  # newsletter contributions --issues: 25 years of four
}

# A contact's status. Consent only moves away from "subscribed" by itself.
STATUSES = ("subscribed", "unsubscribed", "bounced", "left")


@dataclass(frozen=True)
class Contact:
    """A focal point as stored in contacts.db."""

    email: str
    name: str = ""
    organisation: str = ""
    job_title: str = ""
    country: str = ""
    city: str = ""
    phone: str = ""
    topics: str = ""
    listed: bool = True
    status: str = "subscribed"
    source: str = "manual"
    id: int | None = None  # None until stored
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class Message:
    """The envelope of one personalised email; a sender gets it with the exact bytes."""

    mail_from: str
    recipient: str
    message_id: str
    test: bool = False  # a --to test send, not recorded in the ledger


# Per-recipient values are left in the built email as these markers and
# spliced in by `send`. They are plain ASCII with no '=' so they survive
# quoted-printable encoding intact. Untrusted text has any "%%" broken up on
# the way in (sanitize.neutralise), so only the templates can place a marker.
PLACEHOLDERS = {
    "name": "%%NAME%%",
    "email": "%%EMAIL%%",
    "unsubscribe_url": "%%UNSUBSCRIBE_URL%%",
    # The personal page links (tokens.ENTRY, tokens.MEMBERS), under web_url.
    "entry_url": "%%ENTRY_URL%%",
    "members_url": "%%MEMBERS_URL%%",
    # A listed focal point's contribution form (tokens.SUBMIT), under web_url.
    "submit_url": "%%SUBMIT_URL%%",
    # The recipient's entry as it stands, for the directory's confirmation round.
    "job_title": "%%JOB_TITLE%%",
    "organisation": "%%ORGANISATION%%",
    "phone": "%%PHONE%%",
    "city": "%%CITY%%",
    # After each click link (readership = "aggregate"): "/" and the organisation part
    # (tokens.CLICK_ORG) for a recipient of an organisation of MIN_GROUP or more
    # recipients of the issue, else nothing. It names an organisation, never a person.
    "click_org": "%%CLICK_ORG%%",
}
# The smallest group a figure about people may describe: an organisation with fewer
# recipients of an issue gets no organisation part in its click links, and a report
# shows a click count under this as "fewer than 5", so no figure can single anyone out.
MIN_GROUP = 5
# The markers that stand for a link only some recipients get (the members'
# directory and the contribution form: listed focal points only). Where one is
# empty, `send` drops the link holding it: in HTML the <a> element (and a " · "
# after it), in text its line.
OPTIONAL_LINKS = ("members_url", "submit_url")
# The markers of personal links: the public web page drops whatever holds one.
LINK_MARKERS = ("unsubscribe_url", "entry_url", "members_url", "submit_url")
