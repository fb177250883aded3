"""vCards (RFC 6350, version 4.0) of the members' directory: one per person, or an
organisation's in one file.

Every value comes from a contact, so none is trusted: a backslash, comma,
semicolon or line break in it is escaped (RFC 6350 3.4), any other control
character becomes a space, and each line is folded at 75 octets (3.2) without
splitting a UTF-8 character. A value can therefore never end its line and start
a property of its own. Lines end with CRLF.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.contacts.checks import e164

# The namespace of every contact's UID: stable, so a phone's address book updates
# the card it imported before instead of adding a second one.
NAMESPACE = uuid.UUID("6f1d3c2e-5a7b-4e8f-9c0d-1b2a3c4d5e6f")
MAX_OCTETS = 75  # RFC 6350 3.2: a line is folded after 75 octets, not counting CRLF
MEDIA_TYPE = "text/vcard; charset=utf-8"
_CONTROLS = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Card:
    """What a vCard says about one focal point."""

    contact_id: int
    name: str
    email: str
    organisation: str = ""
    job_title: str = ""
    role: str = ""  # the seat they hold
    phone: str = ""
    city: str = ""
    country: str = ""
    updated_at: str = ""  # ISO 8601, as the store writes it


def uid(contact_id: int) -> str:
    """The card's UID: the same for a contact every time, never another contact's."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'contact:{contact_id}')}"


def escape(value: str) -> str:
    """A text value (or one component of N, ORG or ADR) as RFC 6350 writes it."""
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _CONTROLS.sub(" ", value)


def fold(line: str) -> str:
    """``line`` folded into pieces of at most 75 octets, each but the last ending CRLF
    and each but the first starting with a space; never inside a UTF-8 character."""
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = MAX_OCTETS if not pieces else MAX_OCTETS - 1  # the space counts
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces) + "\r\n"


def _rev(updated_at: str) -> str:
    """REV as a UTC timestamp (20261201T093000Z), or "" when the store has none."""
    digits = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\+00:00|Z)?", updated_at)
    return "{}{}{}T{}{}{}Z".format(*digits.groups()) if digits else ""


def _n(name: str) -> str:
    """N: the last word as the family name, the rest as given names. A guess (names are
    not always family-last), which is why FN, the name as written, comes first."""
    words = name.split()
    family, given = (words[-1], " ".join(words[:-1])) if words else ("", "")
    return f"{escape(family)};{escape(given)};;;"


def vcard(card: Card) -> str:
    """One vCard 4.0, CRLF line ends, folded."""
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"UID:{uid(card.contact_id)}",
        f"FN:{escape(card.name or card.email)}",
        f"N:{_n(card.name)}",
    ]
    if card.organisation:
        lines.append(f"ORG:{escape(card.organisation)}")
    if card.job_title:
        lines.append(f"TITLE:{escape(card.job_title)}")
    if card.role:
        lines.append(f"ROLE:{escape(card.role)}")
    lines.append(f"EMAIL;TYPE=work:{escape(card.email)}")
    if card.phone:
        number = e164(card.phone, card.country)
        if number:
            lines.append(f"TEL;VALUE=uri;TYPE=work,voice:tel:{number}")
        else:  # kept as written: the data check flags it for the editor
            lines.append(f"TEL;VALUE=text;TYPE=work,voice:{escape(card.phone)}")
    if card.city or card.country:
        lines.append(f"ADR;TYPE=work:;;;{escape(card.city)};;;{escape(card.country)}")
    if rev := _rev(card.updated_at):
        lines.append(f"REV:{rev}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def vcards(cards: Iterable[Card]) -> str:
    """Several vCards in one file, one after the other (RFC 6350 3.1)."""
    return "".join(vcard(card) for card in cards)
