"""One validation layer for every structured input: declared fields, not hand-written checks.

Item front matter, issue.toml, ``[tool.newsletter]`` and its subtables, sender
options and contact rows each declare a ``Schema``: a table of ``Field``s, each
with a ``Kind`` (how a value is read and what it must be), whether it is
required, its default, and the fix to suggest. ``Schema.check`` reads a whole
mapping and reports every problem at once, each with its key and the line the
key is on, so callers can print ``path:line: what is wrong. How to fix it.``

Why our own table rather than pydantic, msgspec or cattrs: every message here
is written for an editor, not a programmer, and names the file's own syntax
(YAML or TOML); front matter has warnings as well as errors; and a check must
report problems across fields at once. With pydantic each of those is a
custom validator and an error-type remap, and its import alone (measured:
about 90 ms with one model) would double the start-up of ``newsletter check``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from newsletter.models import Range

# C0 and C1 controls other than tab and line breaks: never meaningful in a field.
# U+FFFE and U+FFFF are not characters at all: XML, so MJML, refuses them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
TEXT_CHARS = 2000  # a title, a subject or a name is never longer
PREVIEW_CHARS = 40  # of a value quoted in a message (see shown)
# Bidi embedding, override, isolate and mark characters: on a terminal or in a
# page they reorder the text around them, so a preview shows them escaped.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


class Invalid(ValueError):
    """A value that does not fit its field.

    The reason reads after the key and value ("is not a date"); the field adds
    them and the fix. ``fix`` replaces the field's fix for this reason;
    ``alone``: the reason names the key and value itself ("unknown section 'x'").
    """

    def __init__(self, reason: str = "", fix: str = "", alone: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.fix, self.alone = reason, fix, alone


def shown(value: object, limit: int = PREVIEW_CHARS, quote: bool = True) -> str:
    """A value as a message quotes it: one line, controls and bidi controls escaped, long text cut.

    Every value a user gave that goes into a message goes through here, so no
    message is longer than a line whatever the value (a table, a set or a
    100,000-digit number is never formatted in full). ``quote=False``: the
    text is not in quotes (a parser's reason, which may hold the value).
    """
    if isinstance(value, Mapping):
        return "(a table)"
    if isinstance(value, list | tuple | set | frozenset):
        return "(a list)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**limit:
        return "(a number too long to show)"  # str() of a 4,300-digit int raises
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = "".join(
        f"\\u{ord(c):04x}"
        if c in BIDI_CONTROLS or unicodedata.category(c) in ("Cc", "Zl", "Zp")
        else c
        for c in text
    )
    return f"'{out}'" if quote else out


@dataclass(frozen=True)
class Kind:
    """How a field's value is read: ``parse`` returns the clean value or raises Invalid.

    ``text_parse`` reads the same kind from a string typed on the command line
    or found in a CSV cell (``-o port=2525``); by default strings go to ``parse``.
    """

    parse: Callable[[Any], Any]
    expected: str  # "a date", for "date '5 Oct' is not a date"
    fix: str  # the default fix, a sentence: "Write it as YYYY-MM-DD."
    text_parse: Callable[[str], Any] | None = None
    options: tuple[str, ...] = ()  # a choice's values, for a form's <select>


@dataclass(frozen=True)
class Field:
    """One key of a structured input."""

    name: str
    kind: Kind
    required: bool = False
    default: Any = None
    fix: str = ""  # overrides the kind's fix for this field
    empty_is_missing: bool = True  # "" and None count as not given


@dataclass(frozen=True)
class Error:
    """One problem, located by key (a dotted path for nested tables) and line."""

    key: str
    line: int | None
    message: str


@dataclass(frozen=True)
class Checked:
    """What ``Schema.check`` read: clean values for the good keys, and every error."""

    values: dict[str, Any]
    errors: tuple[Error, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Schema:
    """A structured input: its fields, how a missing key is written, unknown-key policy."""

    fields: tuple[Field, ...]
    # How to write "key with a value" in this input's syntax, for "Add ..." fixes.
    assign: Callable[[str], str] = lambda key: f"{key} = ..."
    unknown: str = "error"  # "error" or "ignore"
    unknown_word: str = "key"  # "unknown key 'x'" / "unknown field 'x'" / "unknown option"
    suggest: bool = False  # "Did you mean ...?" for an unknown key close to a known one
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def check(
        self,
        data: Mapping[str, Any],
        lines: Mapping[str, int] | None = None,
        *,
        text: bool = False,
        prefix: str = "",
        names: Mapping[str, str] | None = None,
    ) -> Checked:
        """Read every field of ``data``.

        ``text``: values are strings typed by a person (``-o port=2525``);
        ``names``: what to call a key in messages ("column 'E-mail'").
        """
        lines = lines or {}
        values: dict[str, Any] = {}
        errors: list[Error] = []

        def error(key: str, message: str, fallback: int | None = None) -> None:
            path = prefix + key
            errors.append(Error(path, lines.get(path) or fallback, message))

        misspelt = self._unknown(data, error)
        for f in self.fields:
            raw = data.get(f.name)
            if raw is None or (f.empty_is_missing and raw == ""):
                # A misspelt key was already reported with its fix; "missing" would repeat it.
                if f.required and f.name not in misspelt:
                    fix = f.fix or f"Add {self.assign(f.name)}."
                    error(f.name, f"'{f.name}' is missing or empty. {fix}")
                elif not f.required:
                    values[f.name] = f.default
                continue
            try:
                parse = f.kind.text_parse if text and f.kind.text_parse else f.kind.parse
                values[f.name] = parse(raw)
            except Invalid as exc:
                error(f.name, _message(f, raw, exc, (names or {}).get(f.name, f.name)))
            except Nested as exc:
                for inner in exc.errors:
                    error(f"{f.name}.{inner.key}", inner.message, lines.get(prefix + f.name))
        return Checked(values, tuple(errors))

    def _unknown(self, data: Mapping[str, Any], error: Callable[[str, str], None]) -> set[str]:
        """Report each key the schema does not declare; the known keys suggested for them."""
        suggested: set[str] = set()
        for key in data:
            if str(key) in self.by_name or self.unknown == "ignore":
                continue
            close = difflib.get_close_matches(str(key), self.names, n=1) if self.suggest else []
            hint = (
                f"Did you mean '{close[0]}'?" if close else f"Use one of: {', '.join(self.names)}."
            )
            error(str(key), f"unknown {self.unknown_word} {shown(key)}. {hint}")
            suggested.update(close)
        return suggested


def _message(f: Field, raw: object, exc: Invalid, name: str) -> str:
    """``name 'value' is not a date. Write it as YYYY-MM-DD.``"""
    reason = exc.reason or f"is not {f.kind.expected}"
    fix = exc.fix or f.fix or f.kind.fix
    if exc.alone:
        what = reason
    elif isinstance(raw, Mapping | list | tuple):  # too big to quote
        what = f"'{f.name}' {reason}"
    else:
        what = f"{name} {shown(raw)} {reason}"
    return f"{what}. {fix}".strip()


class Nested(Exception):
    """A table inside a table failed its own schema; carries the inner errors."""

    def __init__(self, errors: Iterable[Error]) -> None:
        super().__init__("nested")
        self.errors = tuple(errors)


# -- mail headers -------------------------------------------------------------------

# CR, LF and the characters that some software also treats as a line end (a mail
# header must hold none; a calendar TEXT value writes each as \n).
LINE_BREAK = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_HEADER_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # category Cc, less the above and tab
_ENCODED_BREAK = re.compile(r"%0[ad]|=0[ad]|\\[rn]|&#(?:x0*[ad]|0*1[03]);", re.I)
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bq]\?", re.I)


def header_problem(value: str) -> str | None:
    """Why ``value`` may not go in a mail header, or None when it is safe.

    The one header check: names from imports, subjects from issue.toml and every
    setting that reaches a header ([tool.newsletter] name, from_name, list_id...)
    pass it, at load time for the settings and again as each message is made.
    """
    if LINE_BREAK.search(value):
        return "contains a line break"
    if _HEADER_CONTROL.search(value):
        return "contains a control character"
    if _ENCODED_BREAK.search(value):
        return "contains an encoded line break"
    if _ENCODED_WORD.search(value):
        return "contains an RFC 2047 encoded word (=?...?=)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode"
    return None


def host_problem(host: str) -> str | None:
    """Why the resolver cannot be asked for ``host`` at all, or None.

    IDNA refuses an empty label ("a..b") and one over 63 characters, and
    getaddrinfo raises that as a UnicodeError, not an OSError: every layer that
    names a host (a download, an SMTP server, an address's domain, ``serve
    --host``) asks here first, so none of them meets it as a traceback.
    """
    try:
        host.encode("idna")
    except UnicodeError:
        if host.isascii():
            return "has an empty part or a part over 63 characters"
        return "is not a valid internationalised name"
    return None


def header_text(kind: Kind) -> Kind:
    """``kind``, refused when it could add a mail header (see header_problem)."""

    def parse(value: Any) -> Any:
        out = kind.parse(value)
        if isinstance(out, str) and (problem := header_problem(out)):
            raise Invalid(f"{problem}, which could add a mail header", "Remove it from the value.")
        return out

    return Kind(parse, kind.expected, kind.fix, kind.text_parse)


# -- kinds ---------------------------------------------------------------------------


_SCALARS = (int, float, dt.date)  # bool is an int, datetime a date


def text(one_line: bool = True, max_chars: int = TEXT_CHARS, scalars: bool = False) -> Kind:
    """Text. ``one_line`` folds runs of whitespace (a cell with Alt+Enter, a wrapped YAML
    value); ``scalars``: a number or date written where text was meant is taken as its
    text (YAML reads ``title: 2026`` as a number)."""

    def parse(value: Any) -> str:
        if isinstance(value, Mapping | list | tuple):
            raise Invalid("must be text, not a list or table")
        # Only what a plain value can be: YAML's !!binary (bytes) or !!set would be
        # shown as "b'...'" or "{'a'}" in the email.
        if not isinstance(value, str) and not (scalars and isinstance(value, _SCALARS)):
            raise Invalid("is not text")
        out = " ".join(str(value).split()) if one_line else str(value)
        if _CONTROL.search(out):
            raise Invalid("contains control characters", "Remove them.")
        if len(out) > max_chars:
            raise Invalid(f"is {len(out):,} characters long; the most is {max_chars:,}")
        return out

    return Kind(parse, "text", 'Write it as text in quotes: "...".')


def line() -> Kind:
    """Text that must already be one line (a subject, a title): line breaks are refused."""
    plain = text()

    def parse(value: Any) -> str:
        if isinstance(value, str) and any(c in value for c in "\r\n"):
            raise Invalid("is more than one line", "Remove the line breaks.")
        return plain.parse(value)

    return Kind(parse, "one line of text", 'Write it as text in quotes: "...".')


def _quoted_number(value: Any, expected: str) -> None:
    """Refuse a number written in quotes with the fix that works: "3" is text, 3 a number."""
    # Short ones only: YAML hands a number too long for Python over as text, unquoted.
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,30}(\.\d{1,30})?\s*", value):
        raise Invalid(f"is text in quotes, not {expected}", "Write the number without quotes.")


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("")
    return value


def whole(minimum: int | None = None, maximum: int | None = None, example: str = "") -> Kind:
    """A whole number within [minimum, maximum]; booleans are not numbers here."""
    bounds = _bounds(minimum, maximum)
    expected = "a whole number" + bounds

    def parse(value: Any) -> int:
        _quoted_number(value, expected)
        number = _int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise Invalid(f"is not {expected}")
        return number

    def from_text(value: str) -> int:
        try:
            return parse(int(value.strip()))
        except ValueError:
            raise Invalid(f"is not {expected}") from None

    fix = f"Write a whole number{bounds}, such as {example}." if example else f"Write {expected}."
    return Kind(parse, expected, fix, from_text)


def number(
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    unit: str = "",
) -> Kind:
    """A finite number within bounds (``above``: strictly greater than)."""
    bounds = _bounds(minimum, maximum)
    if above is not None:
        bounds = f" above {figure(above)}" + (
            f" and at most {figure(maximum)}" if maximum is not None else ""
        )
    expected = f"a number{' of ' + unit if unit else ''}{bounds}"

    def parse(value: Any) -> float:
        _quoted_number(value, expected)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid("")
        try:
            out = float(value)
        except OverflowError:  # an int too big for any float is out of every range
            raise Invalid(f"is not {expected}") from None
        if (
            not math.isfinite(out)
            or (minimum is not None and out < minimum)
            or (maximum is not None and out > maximum)
            or (above is not None and out <= above)
        ):
            raise Invalid(f"is not {expected}")
        return out

    def from_text(value: str) -> float:
        try:
            return parse(float(value.strip()))
        except ValueError:
            raise Invalid(f"is not {expected}") from None

    return Kind(parse, expected, f"Write {expected}.", from_text)


def figure(value: float) -> str:
    """A bound as a message, --help and the README write it: 64, 0.5, 3600, 100,000,000
    (never 1e+08). The one format, so an option's help and its error agree."""
    return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {figure(minimum)} to {figure(maximum)}"
    if minimum is not None:
        return f" of at least {figure(minimum)}"
    if maximum is not None:
        return f" of at most {figure(maximum)}"
    return ""


def ranged(limit: Range) -> Kind:
    """The kind of a number declared in ``models.LIMITS``: settings and options share it."""
    if limit.whole:
        return whole(int(limit.minimum), int(limit.maximum))
    if limit.above:
        return number(maximum=limit.maximum, above=limit.minimum, unit=limit.unit)
    return number(limit.minimum, limit.maximum, unit=limit.unit)


TRUE_WORDS = {"true", "yes", "1", "on"}
FALSE_WORDS = {"false", "no", "0", "off"}


def boolean() -> Kind:
    def parse(value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("")
        return value

    def from_text(value: str) -> bool:
        word = value.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise Invalid("")
        return word in TRUE_WORDS

    return Kind(parse, "true or false", "Write true or false.", from_text)


def choice(options: Iterable[str], what: str = "") -> Kind:
    """One of ``options`` (compared exactly); ``what`` names them: "unknown section 'x'"."""
    allowed = tuple(options)
    listed = ", ".join(allowed)

    def parse(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            if what:
                raise Invalid(f"unknown {what} {shown(value)}", alone=True)
            raise Invalid("is not allowed")
        return value

    return Kind(parse, f"one of: {listed}", f"Use one of: {listed}.", options=allowed)


# Every date a user gives keeps a day's room inside Python's calendar: the day after
# an event's last day (iCalendar's DTEND), a time moved to UTC across any offset, a
# window's next day. So 9999-12-31 and 0001-01-01 are refused here with their line,
# never an OverflowError in whatever command meets them later.
FIRST_DAY, LAST_DAY = dt.date(1, 1, 2), dt.date(9999, 12, 30)


def _in_range(found: dt.date) -> dt.date:
    day = found.date() if isinstance(found, dt.datetime) else found
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid("is out of range", f"Use a date from {FIRST_DAY} to {LAST_DAY}.")
    return found


def date() -> Kind:
    """A calendar date: YAML and TOML give one already; a string must be ISO 8601."""

    def parse(value: Any) -> dt.date:
        found = parse_date(value)
        if found is None:
            raise Invalid("")
        return _in_range(found)

    return Kind(parse, "a date", "Write it as YYYY-MM-DD.")


def moment() -> Kind:
    """An event's start or end: a date (all day) or a date and time, with an optional offset."""

    def parse(value: Any) -> dt.date:
        found = parse_moment(value)
        if found is None:
            raise Invalid("")
        return _in_range(found)

    return Kind(parse, "a date", "Use YYYY-MM-DD or YYYY-MM-DD HH:MM.")


# UN duty stations the zone database names by another city of the same clock:
# an event in Geneva reads "(Geneva time)", not "(Zurich time)".
DUTY_STATIONS = {
    "Europe/Geneva": "Europe/Zurich",
    "Europe/Bonn": "Europe/Berlin",
    "Europe/The_Hague": "Europe/Amsterdam",
}


class StationZone(dt.tzinfo):
    """A duty station's clock: another city's zone under the station's own name (``key``)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.zone = zoneinfo.ZoneInfo(DUTY_STATIONS[key])

    def utcoffset(self, moment: dt.datetime | None) -> dt.timedelta | None:
        return self.zone.utcoffset(moment)

    def dst(self, moment: dt.datetime | None) -> dt.timedelta | None:
        return self.zone.dst(moment)

    def tzname(self, moment: dt.datetime | None) -> str | None:
        return self.zone.tzname(moment)

    def fromutc(self, moment: dt.datetime) -> dt.datetime:
        local = self.zone.fromutc(moment.replace(tzinfo=self.zone))
        return local.replace(tzinfo=self)

    def __repr__(self) -> str:
        return f"StationZone({self.key!r})"


def zone_of(name: str) -> dt.tzinfo:
    """The clock of a name ``time_zone`` accepted."""
    return StationZone(name) if name in DUTY_STATIONS else zoneinfo.ZoneInfo(name)


def time_zone() -> Kind:
    """An IANA time zone name such as Europe/Zurich, one the zone database knows, or
    a duty station it names by another city (``DUTY_STATIONS``: Europe/Geneva).

    Checked against the database's list, not by opening a file: ``ZoneInfo``
    would also take a path, "localtime" or "posixrules", which name no place.
    """

    def parse(value: Any) -> str:
        name = value.strip() if isinstance(value, str) else ""
        if name not in _zone_names() and name not in DUTY_STATIONS:
            same = [z for z in _zone_names() if z.lower() == name.lower()]
            close = same or difflib.get_close_matches(name, sorted(_zone_names()), 1, 0.85)
            hint = f"Did you mean {shown(close[0])}? " if close and name else ""
            # The database names one city per zone: Geneva keeps Zurich's clock.
            raise Invalid(
                "is not a time zone name",
                f"{hint}Write a name from the IANA zone database, such as Europe/Geneva "
                "or America/New_York.",
            )
        return name

    return Kind(parse, "a time zone name", "Write a name such as Europe/Geneva.")


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # "localtime" is this machine's zone and "Factory" a placeholder: neither is a place.
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "Factory"}


# The one placeholder a greeting may hold: the recipient's name, filled in at send time.
GREETING_FIELD = "{name}"


def greeting() -> Kind:
    """A greeting line such as "Dear {name},": one line, "{name}" its only placeholder;
    "" for none."""
    plain = line()

    def parse(value: Any) -> str:
        found = plain.parse(value)
        if "{" in found.replace(GREETING_FIELD, "") or "}" in found.replace(GREETING_FIELD, ""):
            raise Invalid(
                "may hold only the {name} placeholder",
                'Write it as "Dear {name}," (or "" for no greeting).',
            )
        return found

    return Kind(parse, "a greeting", 'Write it as "Dear {name},".')


def web_url() -> Kind:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not is_web_url(value.strip()):
            raise Invalid("is not an http(s) URL")
        return value.strip()

    return Kind(parse, "an http(s) URL", "Use https://...")


# What an item's picture may be: JPEG, PNG and GIF show in every email client
# caniemail.com tested; SVG and WebP do not (see Pictures in the README).
PICTURE_TYPES = (".jpg", ".jpeg", ".png", ".gif")


def picture_url() -> Kind:
    """An https:// address of a JPEG, PNG or GIF picture (judged by the path's ending)."""
    listed = ", ".join(PICTURE_TYPES)

    def parse(value: Any) -> str:
        url = value.strip() if isinstance(value, str) else ""
        if not is_web_url(url) or urlsplit(url).scheme != "https":
            raise Invalid("is not an https:// address")
        if not urlsplit(url).path.lower().endswith(PICTURE_TYPES):
            raise Invalid(
                f"is not a JPEG, PNG or GIF picture (its address must end in {listed})",
                "Save the picture as JPEG or PNG; many email clients show no SVG or WebP.",
            )
        return url

    return Kind(parse, "a picture's https:// address", "Give the picture's https://... address.")


def list_of(item: Kind, expected: str, fix: str, split: str | None = None) -> Kind:
    """A list whose items are each ``item``; ``split``: a plain string is split on it."""

    def parse(value: Any) -> list[Any]:
        if isinstance(value, str) and split is not None:
            value = value.split(split)
        if not isinstance(value, list):
            raise Invalid("")
        try:
            return [item.parse(v) for v in value]
        except Invalid:
            raise Invalid("") from None

    return Kind(parse, expected, fix)


def table(schema: Schema, expected: str, fix: str) -> Kind:
    """A nested table checked by its own schema; its errors keep their own keys."""

    def parse(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise Invalid("")
        checked = schema.check(value)
        if checked.errors:
            raise Nested(checked.errors)
        return checked.values

    return Kind(parse, expected, fix)


def anything() -> Kind:
    """Any value, checked later by code that knows more (a plugin's own options)."""
    return Kind(lambda value: value, "a value", "")


# -- shared readers ----------------------------------------------------------------


def parse_date(value: Any) -> dt.date | None:
    """A YAML/TOML date or an ISO string; None when it is not a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
        except ValueError:
            return None
    return None


def parse_moment(value: Any) -> dt.date | None:
    """An event's start or end: a date (all day) or a date and time; None otherwise."""
    if isinstance(value, dt.date):  # YAML and TOML give dates and datetimes already parsed
        return value
    if isinstance(value, str):
        stamp = value.strip().replace("Z", "+00:00")
        try:
            if len(stamp) == 10:
                return dt.date.fromisoformat(stamp)
            return dt.datetime.fromisoformat(stamp)
        except ValueError:
            return None
    return None


def is_web_url(value: str) -> bool:
    """An http(s) URL with a host, no whitespace or control characters, a valid port."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "http://[bad/x"
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not any(c.isspace() for c in value)
        and not _CONTROL.search(value)
    )


# -- TOML ------------------------------------------------------------------------------

# Arrays and inline tables nested deeper than this are refused before tomllib
# reads them: it recurses once per level and raised RecursionError at a few
# hundred levels. issue.toml and the settings need three or four.
MAX_NESTING = 64
MAX_DIGITS = 4300  # Python reads no integer longer than this (sys.int_info)
_TOML_TOKEN = re.compile(r"\"\"\"|'''|[\"'#\[\]{}\n\\]")
JSON_TOKENS = re.compile(r'["\[\]{}\n\\]')  # JSON has only "strings", and no comments


class UnreadableToml(ValueError):
    """A TOML document that cannot be read, with the line to look at (None: unknown)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def read_toml(source: str) -> dict[str, Any]:
    """``tomllib.loads``, with every way it can fail one UnreadableToml with its line."""
    deep = nesting_line(source)
    if deep:
        raise UnreadableToml(
            deep, f"arrays or tables are nested more than {MAX_NESTING} deep. Flatten them."
        )
    try:
        return tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        reason = shown(re.sub(r"\s*\(at line.*\)$", "", str(exc)), 100, quote=False)
        at = int(match[1]) if match else source.count("\n") + 1  # "at end of document"
        raise UnreadableToml(at, f"invalid TOML ({reason}). Fix the syntax.") from None
    except ValueError:  # an integer of more than MAX_DIGITS digits
        long = re.search(rf"\d{{{MAX_DIGITS + 1},}}", source)
        line = source.count("\n", 0, long.start()) + 1 if long else None
        raise UnreadableToml(
            line, f"a number has more than {MAX_DIGITS:,} digits. Shorten it."
        ) from None
    except RecursionError:  # pragma: no cover  (nesting_line refuses it first)
        raise UnreadableToml(None, "values are nested too deep. Flatten them.") from None


def nesting_line(
    source: str, limit: int = MAX_NESTING, tokens: re.Pattern[str] = _TOML_TOKEN
) -> int | None:
    """The line where brackets outside strings (and comments) nest past ``limit``, or None.

    The one depth scanner, for TOML (the default ``tokens``) and JSON
    (``JSON_TOKENS``): both parsers recurse once a level, so a document is
    measured before either reads it. A string or comment ends at a line's end,
    as a TOML one-line string does (a JSON string cannot hold a raw newline).
    """
    depth, line, inside, skip = 0, 1, "", -1
    for match in tokens.finditer(source):
        token = match.group(0)
        if match.start() <= skip:  # the character after a backslash
            continue
        if token == "\n":
            line += 1
            if inside in ('"', "'", "#"):
                inside = ""
        elif inside == "#":
            continue
        elif inside:
            if token == "\\" and inside in ('"', '"""'):
                skip = match.start() + 1
            elif token == inside or (len(inside) == 1 and token[0] == inside):
                inside = ""
        elif token in ('"', "'", '"""', "'''", "#"):
            inside = token
        elif token in "[{":
            depth += 1
            if depth > limit:
                return line
        elif token in "]}":
            depth = max(depth - 1, 0)
    return None


# -- where keys are ----------------------------------------------------------------

_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _toml_path(text: str) -> list[str]:
    return [
        part.strip().strip("\"'")
        for part in re.split(r"\.(?=(?:[^\"']*[\"'][^\"']*[\"'])*[^\"']*$)", text)
    ]


def toml_lines(source: str) -> dict[str, int]:
    """The line of each key in a TOML document, by dotted path ("tool.newsletter.name").

    tomllib gives values, not positions; this scan finds table headers and
    ``key =`` lines (skipping multi-line strings), which is where a person
    looks. Keys inside inline tables take the line of the key that holds them.
    """
    lines: dict[str, int] = {}
    prefix: list[str] = []
    in_string = ""
    for number, raw in enumerate(source.splitlines(), 1):
        if in_string:
            if raw.count(in_string) % 2:
                in_string = ""
            continue
        header = _TOML_HEADER.match(raw)
        if header:
            prefix = _toml_path(header[1])
            lines.setdefault(".".join(prefix), number)
            continue
        key = _TOML_KEY.match(raw)
        if key:
            path = ".".join([*prefix, *_toml_path(key[1])])
            lines.setdefault(path, number)
            rest = raw[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2:
                    in_string = quote
    return lines


def lines_under(lines: Mapping[str, int], table: str) -> dict[str, int]:
    """The keys of one table, relative to it: ``lines_under(l, "tool.newsletter")``."""
    start = table + "."
    return {k[len(start) :]: n for k, n in lines.items() if k.startswith(start)}
