"""Contact field values: validate and normalise on the way in, neutralise on the way out.

Every path that writes a contact (import, sync, ``contacts add/edit``) cleans
its values here, so the rules are the same everywhere:

* Emails go through email-validator offline (no DNS) in strict mode and are
  stored lower-cased. Quoted local parts, domain literals and dotless domains
  are refused: they are legal in some RFC but no list provider delivers them.
* Line breaks, tabs and other Unicode whitespace inside a text field are
  folded to one space (a spreadsheet cell with Alt+Enter is common and
  harmless). Any other control character, and the bidi override/isolate
  characters, make the value invalid: names go into email headers later, and
  silently dropping characters would store something the editor never typed.
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from newsletter.store.contacts import STATUSES

MAX_TEXT = 300
# Characters a spreadsheet would treat as the start of a formula (OWASP CSV
# injection), plus their full-width forms.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Unicode category Cc is exactly these two ranges.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(sorted(_BIDI)) + "]")
_LOCAL = r"[a-z0-9_!#$%&'*+/=?^`{|}~-]+(?:\.[a-z0-9_!#$%&'*+/=?^`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A plain ASCII address that email-validator always accepts unchanged except
# for case. Checking it here first keeps a 100,000-row import fast; anything
# else (Unicode, IDNA, odd lengths) takes the full validator.
_SPECIAL_TLDS = {d for d in SPECIAL_USE_DOMAIN_NAMES if "." not in d}
_SPECIAL_OTHER = tuple(d for d in SPECIAL_USE_DOMAIN_NAMES if "." in d)
_SIMPLE = re.compile(rf"({_LOCAL})@((?:{_LABEL}\.)+[a-z]{{2,63}})", re.I)
_DISPLAY = re.compile(r'"?([^"<>]*?)"?\s*<([^<>\s]+)>')
TRUE = {"1", "yes", "y", "true", "x", "listed", "oui", "si", "sí"}
FALSE = {"0", "no", "n", "false", "unlisted", "non"}


def normalise_email(raw: str) -> str:
    """The stored form of an address; ValueError with the reason when it is not valid."""
    # Spaces around a cell are a spreadsheet habit; a line break or any other
    # control character is not, and makes the address invalid (isemail ERR).
    value = raw.strip(" ")
    if not value:
        raise ValueError("no email address")
    match = _SIMPLE.fullmatch(value)
    if (
        match
        and len(value) <= 254
        and len(match[1]) <= 64
        and "--" not in match[2]
        and not _special_use(match[2].lower())
    ):
        return value.lower()
    try:
        info = validate_email(
            value,
            check_deliverability=False,
            strict=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
        )
    except EmailNotValidError as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    return info.normalized.lower()


def _special_use(domain: str) -> bool:
    if domain.rpartition(".")[2] in _SPECIAL_TLDS:
        return True
    return any(domain == d or domain.endswith("." + d) for d in _SPECIAL_OTHER)


def clean_text(raw: object) -> str:
    """One line of text, NFC, whitespace folded; ValueError naming a bad character."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"must be text, not {type(raw).__name__}")
        raw = str(raw)
    # Most cells are plain ASCII text already in shape: skip the work.
    if raw.isascii() and raw.isprintable() and len(raw) <= MAX_TEXT and "  " not in raw:
        if raw[:1] != " " and raw[-1:] != " ":
            return raw
    if not raw.isascii():
        raw = unicodedata.normalize("NFC", raw)
    value = " ".join(raw.split())
    bad = _FORBIDDEN.search(value)
    if bad:
        raise ValueError(f"contains the control character U+{ord(bad[0]):04X}; remove it")
    if len(value) > MAX_TEXT:
        raise ValueError(f"is {len(value)} characters long; shorten it to {MAX_TEXT}")
    return value


def unformula(value: str) -> str:
    """Undo ``neutralise``: a re-imported export gets its original text back."""
    if value[:1] == "'" and value[1:2] and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def parse_listed(raw: str) -> bool:
    key = raw.strip().casefold()
    if key in TRUE:
        return True
    if key in FALSE:
        return False
    raise ValueError("must be yes or no")


def parse_status(raw: str) -> str:
    key = raw.strip().casefold()
    if key not in STATUSES:
        raise ValueError(f"must be one of {', '.join(STATUSES)}")
    return key


def show(value: object, limit: int = 60) -> str:
    """A value safe to print on a terminal: controls escaped, long text cut."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for char in text:
        if char in _BIDI or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


# Columns an import may carry; the first/last name and the organisation's
# acronym and website only help to build a contact's own fields.
TEXT_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "organisation",
    "acronym",
    "website",
    "job_title",
    "country",
    "city",
    "phone",
    "topics",
)
CONTACT_TEXT = ("name", "organisation", "job_title", "country", "city", "phone", "topics")
_TEXT = frozenset(TEXT_FIELDS)


class RowError(ValueError):
    """One row (or one command's options) has a bad value; the message says which."""


def clean_row(raw: dict[str, object], labels: dict[str, str]) -> dict[str, object]:
    """Validated values of one row; RowError naming the column (``labels``) of a bad value."""
    email_raw = raw.get("email")
    email_text = unformula(email_raw.strip(" ")) if isinstance(email_raw, str) else ""
    # "Jane Doe <jane@example.org>", as copied from a mail client: the address
    # is checked as usual and the name is used when there is no name column.
    display = _DISPLAY.fullmatch(email_text) if "<" in email_text else None
    try:
        address = normalise_email(display[2] if display else email_text)
        values: dict[str, object] = {"email": address}
        named = clean_text(display[1]) if display else ""
    except ValueError as exc:
        shown = f"{show(email_text)} is not" if email_text else "no address; it is not"
        raise RowError(f"{shown} a valid email address ({exc}). Correct it.") from None
    for name, value in raw.items():
        if name not in _TEXT or value is None:
            continue
        if isinstance(value, str) and value[:1] == "'":
            value = unformula(value)
        try:
            values[name] = clean_text(value)
        except ValueError as exc:
            raise RowError(f"{labels[name]} {exc}.") from None
    if not values.get("name") and (values.get("first_name") or values.get("last_name")):
        values["name"] = f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()
    if not values.get("name") and named:
        values["name"] = named
    for name, parse in _CHOICES:
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) and name == "listed":
            values[name] = value
        elif str(value).strip():
            try:
                values[name] = parse(str(value))
            except ValueError as exc:
                raise RowError(f"{labels[name]} {show(value)} {exc}.") from None
    return values


_CHOICES = (("listed", parse_listed), ("status", parse_status))
