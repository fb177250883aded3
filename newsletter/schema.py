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
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from newsletter.models import Range

# C0 and C1 controls other than tab and line breaks: never meaningful in a field.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TEXT_CHARS = 2000  # a title, a subject or a name is never longer


class Invalid(ValueError):
    """A value that does not fit its field.

    The reason reads after the key and value ("is not a date"); the field adds
    them and the fix. ``fix`` replaces the field's fix for this reason;
    ``alone``: the reason names the key and value itself ("unknown section 'x'").
    """

    def __init__(self, reason: str = "", fix: str = "", alone: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.fix, self.alone = reason, fix, alone


def shown(value: object, limit: int = 40) -> str:
    """A value as a message quotes it: one line, controls escaped, long text cut."""
    if isinstance(value, Mapping):
        return "(a table)"
    if isinstance(value, list | tuple):
        return "(a list)"
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
    )
    return f"'{out}'"


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


# -- kinds ---------------------------------------------------------------------------


def text(one_line: bool = True, max_chars: int = TEXT_CHARS, scalars: bool = False) -> Kind:
    """Text. ``one_line`` folds runs of whitespace (a cell with Alt+Enter, a wrapped YAML
    value); ``scalars``: a number or date written where text was meant is taken as its
    text (YAML reads ``title: 2026`` as a number)."""

    def parse(value: Any) -> str:
        if isinstance(value, Mapping | list | tuple):
            raise Invalid("must be text, not a list or table")
        if not isinstance(value, str) and not scalars:
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


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid("")
    return value


def whole(minimum: int | None = None, maximum: int | None = None, example: str = "") -> Kind:
    """A whole number within [minimum, maximum]; booleans are not numbers here."""
    bounds = _bounds(minimum, maximum)
    expected = "a whole number" + bounds

    def parse(value: Any) -> int:
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
        bounds = f" above {_num(above)}" + (
            f" and at most {_num(maximum)}" if maximum is not None else ""
        )
    expected = f"a number{' of ' + unit if unit else ''}{bounds}"

    def parse(value: Any) -> float:
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


def _num(value: float) -> str:
    """A bound as a message writes it: 64, 0.5, 100,000,000 (never 1e+08)."""
    return f"{value:g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {_num(minimum)} to {_num(maximum)}"
    if minimum is not None:
        return f" of at least {_num(minimum)}"
    if maximum is not None:
        return f" of at most {_num(maximum)}"
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

    return Kind(parse, f"one of: {listed}", f"Use one of: {listed}.")


def date() -> Kind:
    """A calendar date: YAML and TOML give one already; a string must be ISO 8601."""

    def parse(value: Any) -> dt.date:
        found = parse_date(value)
        if found is None:
            raise Invalid("")
        return found

    return Kind(parse, "a date", "Write it as YYYY-MM-DD.")


def moment() -> Kind:
    """An event's start or end: a date (all day) or a date and time, with an optional offset."""

    def parse(value: Any) -> dt.date:
        found = parse_moment(value)
        if found is None:
            raise Invalid("")
        return found

    return Kind(parse, "a date", "Use YYYY-MM-DD or YYYY-MM-DD HH:MM.")


def web_url() -> Kind:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not is_web_url(value.strip()):
            raise Invalid("is not an http(s) URL")
        return value.strip()

    return Kind(parse, "an http(s) URL", "Use https://...")


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
