"""Plain values passed between the stages. Frozen, so no stage edits another's."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

# An RFC 3463 enhanced status code in a reply or a report: "5.1.1", not "1.5.1.1".
ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
# 5.x.x is permanent, but these subjects say nothing about the address: a full
# mailbox empties (RFC 3463 calls X.2.2 a "persistent transient failure"), a
# too-big message or a policy/spam block is about our mail, not the reader.
# They count as soft, so only three issues in a row retire the address.
NOT_ABOUT_ADDRESS = ("2.2", "3.4", "6.", "7.")


def severity(status: str) -> str:
    """'hard' or 'soft' for a failure status code: the one rule for a bounce report
    (returns) and for a rejection during the send (send)."""
    klass, _, subject = status.partition(".")
    if klass == "5" and not subject.startswith(NOT_ABOUT_ADDRESS):
        return "hard"
    return "soft"


def plural(count: int, word: str) -> str:
    """``plural(1, "item")`` is "1 item"; ``plural(2, "item")`` is "2 items"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class SectionConfig:
    """A section as configured: a stable key and the title readers see."""

    key: str
    title: str


@dataclass(frozen=True)
class Problem:
    """One finding of `check`, printed as ``path:line: message``."""

    path: str
    line: int | None
    message: str
    severity: str = "error"  # "error" fails the check; "warning" does not

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
    contributor: str | None = None
    image: str | None = None
    image_alt: str | None = None
    tags: tuple[str, ...] = ()
    weight: int = 0
    embargo: dt.date | None = None
    # An event's start and end: a date (all day) or a datetime (dt.datetime is a dt.date).
    starts: dt.date | None = None
    ends: dt.date | None = None
    extra: tuple[tuple[str, str], ...] = ()  # feed provenance kept verbatim


@dataclass(frozen=True)
class Section:
    """A configured section with the items that go in it, in reading order."""

    key: str
    title: str
    items: tuple[Item, ...]


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


# Limits the settings and the command line share (one place for each number).
# What an issue ID may be: it becomes a folder, a URL path and part of every
# Message-ID, so letters, digits, dots, dashes and underscores, starting with a
# letter or digit (never "." or ".."). The issue folder and the unsubscribe
# journal (which reads it back from a file) both check it.
ISSUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
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
}
