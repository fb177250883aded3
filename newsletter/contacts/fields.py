"""Contact field values: validate and normalise on the way in, neutralise on the way out.

Every path that writes a contact (import, sync, ``contacts add/edit``) cleans
its values here, so the rules are the same everywhere:

* Emails go through email-validator offline (no DNS) in strict mode and are
  stored lower-cased. Quoted local parts, domain literals and dotless domains
  are refused: they are legal in some RFC but no list provider delivers them.
  So is a local part outside ASCII (``jané@``): it needs SMTPUTF8, which most
  servers lack, so every send to it would fail. A Unicode domain is fine; it
  goes out as IDNA.
* Line breaks, tabs and other Unicode whitespace inside a text field are
  folded to one space (a spreadsheet cell with Alt+Enter is common and
  harmless). Any other control character, and the bidi override/isolate
  characters, make the value invalid: names go into email headers later, and
  silently dropping characters would store something the editor never typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from newsletter.models import STATUSES
from newsletter.schema import BIDI_CONTROLS, Field, Invalid, Kind, Schema, shown

MAX_TEXT = 300
PREVIEW = 60  # characters of a contact's value quoted in a message (schema.shown)
# Characters a spreadsheet would treat as the start of a formula (OWASP CSV
# injection), plus their full-width forms.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Unicode category Cc is exactly these two ranges.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f" + BIDI_CONTROLS + "]")
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
            allow_smtputf8=False,
        )
    except EmailNotValidError as exc:
        local = value.rpartition("@")[0]
        if not local.isascii():
            odd = shown("".join(dict.fromkeys(c for c in local if not c.isascii())), 12)
            raise ValueError(
                f"the part before the @ has characters outside ASCII ({odd}), "
                "which most mail servers cannot deliver to; ask for the plain ASCII address"
            ) from None
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


def _split(value: object) -> tuple[str, str | None]:
    """An address cell as (address, display name or None).

    "Jane Doe <jane@example.org>", as copied from a mail client: the address is
    checked as usual, and the name is used when the row has no name of its own.
    """
    text = unformula(value.strip(" ")) if isinstance(value, str) else ""
    display = _DISPLAY.fullmatch(text) if "<" in text else None
    return (display[2], display[1]) if display else (text, None)


def _email(value: object) -> str:
    text, _ = _split(value)
    try:
        return normalise_email(text)
    except ValueError as exc:
        given = unformula(value.strip(" ")) if isinstance(value, str) else ""
        what = f"{shown(given, PREVIEW)} is not" if given else "no address; it is not"
        raise Invalid(f"{what} a valid email address ({exc})", "Correct it.", alone=True) from None


def _text(value: object) -> str:
    if isinstance(value, str) and value[:1] == "'":
        value = unformula(value)
    try:
        return clean_text(value)
    except ValueError as exc:
        reason, _, fix = str(exc).partition("; ")
        raise Invalid(reason, fix.capitalize() + "." if fix else "") from None


def _choice(parse: Callable[[str], object], booleans: bool) -> Callable[[object], object]:
    """A yes/no or status cell; ``booleans``: JSON's true and false are answers too."""

    def read(value: object) -> object:
        if isinstance(value, bool) and booleans:
            return value
        try:
            return parse(str(value))
        except ValueError as exc:
            raise Invalid(str(exc)) from None

    return read


# One row of a contact list, or the options of `contacts add` and `edit`. An
# empty text cell is kept as "" (an edit may clear a field); an empty listed or
# status cell says nothing.
ROW = Schema(
    fields=(
        Field("email", Kind(_email, "an email address", "Correct it."), empty_is_missing=False),
        *(Field(n, Kind(_text, "text", ""), empty_is_missing=False) for n in TEXT_FIELDS),
        Field("listed", Kind(_choice(parse_listed, True), "yes or no", "")),
        Field("status", Kind(_choice(parse_status, False), "a status", "")),
    ),
    unknown="ignore",
)


def clean_row(raw: dict[str, object], labels: dict[str, str]) -> dict[str, object]:
    """Validated values of one row; RowError naming the column (``labels``) of a bad value."""
    checked = ROW.check(raw, names=labels)
    if checked.errors:
        raise RowError(checked.errors[0].message)
    values = {k: v for k, v in checked.values.items() if v is not None and k in raw}
    if not values.get("name"):
        # No name column: one made of first and last name, or the name written
        # beside the address ("Jane Doe <jane@...>"), held to the same rules.
        joined = f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()
        _, named = _split(raw.get("email"))
        made, label = (joined, "first and last name") if joined else (named, labels.get("email"))
        if made:
            try:
                values["name"] = clean_text(made)
            except ValueError as exc:
                reason, _, fix = str(exc).partition("; ")
                what = f"{label} {reason}" if label else f"the name {reason}"
                raise RowError(f"{what}. {fix.capitalize()}.") from None
    return values
