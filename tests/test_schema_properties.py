"""newsletter.schema, by property: each Kind reads any value or refuses it with Invalid.

Front matter (YAML), issue.toml and pyproject.toml (TOML), sender options and
CSV cells (text) all reach a Kind's ``parse``; whatever they hold, the answer is
the declared type or ``Invalid`` (``Nested`` for a table's own errors), never
another exception. ``toml_lines`` and ``shown`` see the same untrusted text.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import sys
import zoneinfo

import pytest
from helpers import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsletter import schema
from newsletter.schema import Field, Invalid, Nested, Schema

# What YAML (safe_load), TOML and JSON can hand a field: scalars of every kind,
# bytes (YAML's !!binary), sets (!!set), and lists and tables of them.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.times(),
    st.binary(max_size=20),
    st.frozensets(st.integers(), max_size=3),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Text as people type it: digits, signs, dates, words that mean yes or no, line breaks.
TYPED = st.one_of(
    st.text(),
    st.from_regex(r"\s*[-+]?[0-9_]{0,30}(\.[0-9]*)?(e[-+]?[0-9]{1,4})?\s*", fullmatch=True),
    st.from_regex(
        r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?)?", fullmatch=True
    ),
    st.sampled_from(["yes", "No", "TRUE", "off", "1", "0", "nan", "inf", "-inf", "1e400"]),
    st.sampled_from(["https://example.org/a", "http://[::1", "https://x.org:99999/", "ftp://x"]),
)
FLOAT_MAX = sys.float_info.max

INNER = Schema(fields=(Field("key", schema.text(), required=True), Field("n", schema.whole())))
# Each kind the code base declares, and the type its parse returns.
KINDS = {
    "text": (schema.text(), str),
    "text, many lines": (schema.text(one_line=False), str),
    "text, scalars too": (schema.text(scalars=True), str),
    "text, 10 characters": (schema.text(max_chars=10), str),
    "line": (schema.line(), str),
    "whole": (schema.whole(), int),
    "whole, 1 to 65535": (schema.whole(1, 65535, example="25"), int),
    "number": (schema.number(), float),
    "number, 0 to 600": (schema.number(above=0, maximum=600, unit="seconds"), float),
    "boolean": (schema.boolean(), bool),
    "choice": (schema.choice(("news", "tools")), str),
    "choice, named": (schema.choice(("news", "tools"), what="section"), str),
    "date": (schema.date(), dt.date),
    "moment": (schema.moment(), dt.date),
    "web_url": (schema.web_url(), str),
    "list of text": (schema.list_of(schema.text(), "a list", "Write a list."), list),
    "list of text, or a string split at commas": (
        schema.list_of(schema.text(scalars=True), "a list", "Write a list.", split=","),
        list,
    ),
    "table": (schema.table(INNER, "a table", "Write a table."), dict),
    "time_zone": (schema.time_zone(), str),
    "greeting": (schema.greeting(), str),
}


def read(kind, value, *, typed: bool = False):
    """``kind``'s answer for ``value``: the clean value, or the Invalid (Nested) raised."""
    parse = kind.text_parse if typed and kind.text_parse else kind.parse
    try:
        return parse(value)
    except (Invalid, Nested) as refused:
        return refused


# Per kind, so fewer examples each: 18 kinds make 720 values in all.
@pytest.mark.parametrize("name", KINDS)
@settings(max_examples=examples(40))
@given(value=VALUES)
def test_a_kind_returns_its_type_or_raises_invalid(name, value):
    kind, declared = KINDS[name]
    got = read(kind, value)
    if isinstance(got, Nested):
        assert declared is dict and got.errors
    elif not isinstance(got, Invalid):
        assert isinstance(got, declared), (value, got)
        assert not (declared is int and isinstance(got, bool))
        if declared is str:
            assert schema._CONTROL.search(got) is None
        if name == "date":  # a calendar date, never a datetime, which compares otherwise
            assert type(got) is dt.date
        if name == "choice" or name == "choice, named":
            assert got in ("news", "tools")
        if declared is float:
            assert got == got and abs(got) != float("inf")


@pytest.mark.parametrize("name", [n for n in KINDS if KINDS[n][0].text_parse])
@settings(max_examples=examples(50))
@given(value=TYPED)
@example(value="1" * 5000)  # longer than int() reads by default
@example(value="١٢")  # Arabic-Indic digits, which int() and float() accept
def test_a_typed_value_is_read_or_refused(name, value):
    kind, declared = KINDS[name]
    got = read(kind, value, typed=True)
    assert isinstance(got, Invalid | declared), (value, got)


@given(value=TYPED)
def test_a_one_line_kind_never_returns_a_line_break(value):
    for kind in (schema.text(), schema.line(), schema.text(scalars=True)):
        got = read(kind, value)
        if isinstance(got, str):
            assert len(got.splitlines()) <= 1, got


def test_number_of_an_int_too_big_for_a_float():
    assert isinstance(read(schema.number(), 10**400), Invalid)


# TOML-ish text: table headers, keys, strings (multi-line too), comments, junk.
TOML_LINES = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"\s*\[\[?\s*[\w.\"' -]{0,20}\s*\]\]?\s*(#.*)?", fullmatch=True),
        st.from_regex(r"\s*[\w\"'.-]{1,15}\s*=\s*.{0,20}", fullmatch=True),
        st.sampled_from(['s = """', '"""', "t = '''", "'''", "x = 1 # c", "[a.b]", "[[c]]"]),
    ),
    max_size=15,
)


@given(lines=TOML_LINES, newline=st.sampled_from(["\n", "\r\n", "\r"]))
@example(lines=["a = 1", "b = '''", "c = 2"], newline="\n")
def test_toml_lines_places_each_key_on_a_line_of_the_document(lines, newline):
    source = newline.join(lines)
    found = schema.toml_lines(source)
    count = len(source.splitlines())
    for key, line in found.items():
        assert isinstance(key, str) and 1 <= line <= count, (key, line, count)


@given(text=st.text())
def test_toml_lines_never_raises_on_any_text(text):
    count = len(text.splitlines())
    assert all(1 <= line <= count for line in schema.toml_lines(text).values())


@given(value=VALUES, limit=st.integers(min_value=2, max_value=80))
@example(value="a\u2028b\x85c\x1cd\re\nf\x0bg\x0ch\u2029i", limit=40)
@example(value=10**5000, limit=40)  # str() of it raises: more than 4,300 digits
@example(value={"a", "b"}, limit=40)
def test_shown_is_one_line(value, limit):
    quoted = schema.shown(value, limit)
    assert len(quoted.splitlines()) == 1, quoted
    assert len(quoted) <= max(limit * 6 + 2, 30)  # each character at most one \\uXXXX
    assert quoted.startswith("'") and quoted.endswith("'") or quoted.startswith("(")


@given(text=st.text(alphabet=st.sampled_from("ab \u202e\u2066\u200f\u061c")))
@example(text="evil\u202etxt.exe")
def test_shown_escapes_bidi_controls(text):
    # A bidi override in a preview reorders the terminal line around it; only the
    # contacts' own copy of shown escaped them.
    preview = schema.shown(text, 200, quote=False)
    assert not set(preview) & set(schema.BIDI_CONTROLS)
    assert preview.encode().decode("unicode_escape") == text


TOML_PIECES = st.sampled_from(
    ["[", "]", "{", "}", '"', "'", '"""', "'''", "#", "\\", "\n", "a = ", "x", "=", ",", "1"]
)


@given(pieces=st.lists(TOML_PIECES, max_size=200))
@example(pieces=["a = "] + ["["] * 5000 + ["]"] * 5000)
@example(pieces=["a = "] + ["{ b = "] * 400 + ["1"] + [" }"] * 400)
@example(pieces=["a = ", "9" * 5000])
def test_read_toml_gives_a_table_or_one_unreadable_line(pieces):
    source = "".join(pieces)
    try:
        assert isinstance(schema.read_toml(source), dict)
    except schema.UnreadableToml as exc:
        assert exc.line is None or 1 <= exc.line <= source.count("\n") + 1
        assert "\n" not in exc.message and len(exc.message) < 200


HOST_LABELS = st.text(alphabet=st.sampled_from("ab-é0."), max_size=70)


@given(st.one_of(HOST_LABELS, st.builds(lambda a, b: a + "x" * 64 + b, HOST_LABELS, HOST_LABELS)))
@example("a..b")
@example("x" * 64 + ".org")
@example("x" * 64 + "é.org")
def test_host_problem_is_exactly_what_the_resolver_refuses_as_unicode(host):
    # The one rule the downloader, the SMTP sender, address domains and `serve
    # --host` share: getaddrinfo's UnicodeError (numeric-only: no DNS is asked).
    try:
        socket.getaddrinfo(host, 0, flags=socket.AI_NUMERICHOST)
        refused = False
    except UnicodeError:
        refused = True
    except OSError:  # not a numeric address: the name itself was accepted
        refused = False
    problem = schema.host_problem(host)
    assert (problem is not None) == refused
    if problem is not None:
        expected = "has an empty part" if host.isascii() else "is not a valid internationalised"
        assert problem.startswith(expected)


def _json_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_json_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_json_depth, value.values()), default=0)
    return 0


JSON_STRINGS = st.text(alphabet=st.sampled_from('ab"\\[]{}\n'), max_size=6)
JSON_VALUES = st.recursive(
    st.one_of(st.integers(), JSON_STRINGS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(JSON_STRINGS, inner, max_size=3)
    ),
    max_leaves=30,
)


@given(
    value=JSON_VALUES,
    limit=st.integers(min_value=0, max_value=6),
    indent=st.sampled_from([None, 1]),
)
@example(value=[["[[[[", {"]": "{{{"}]], limit=2, indent=None)
def test_nesting_line_measures_json_as_the_parser_nests_it(value, limit, indent):
    # The contacts' JSON reader had its own depth scanner beside the TOML one;
    # brackets inside strings, escaped quotes included, never count.
    source = json.dumps(value, indent=indent)
    line = schema.nesting_line(source, limit, schema.JSON_TOKENS)
    assert (line is not None) == (_json_depth(value) > limit)
    if line is not None:
        assert 1 <= line <= source.count("\n") + 1


ZONES = sorted(schema._zone_names())


@given(name=st.sampled_from(ZONES), pad=st.sampled_from(["", " ", "\t"]))
def test_every_zone_the_database_names_is_read(name, pad):
    got = schema.time_zone().parse(pad + name + pad)
    assert got == name and zoneinfo.ZoneInfo(got).key == name


@given(value=st.one_of(st.text(max_size=40), st.sampled_from(ZONES).map(str.swapcase)))
@example(value="localtime")
@example(value="/etc/localtime")
@example(value="../../../../etc/passwd")
@example(value="Europe/Geneva")
def test_a_time_zone_is_a_database_name_or_refused(value):
    got = read(schema.time_zone(), value)
    if isinstance(got, Invalid):
        assert got.fix.endswith("such as Europe/Geneva or America/New_York.")
        if got.fix.startswith("Did you mean "):  # the suggestion is a name that works
            suggested = got.fix.split("'")[1]
            assert suggested in schema._zone_names()
    else:
        assert got in ZONES or got in schema.DUTY_STATIONS
        assert got not in ("localtime", "Factory")
        # Whatever it accepts has a clock, and the label keeps the name written.
        assert schema.zone_of(got).utcoffset(dt.datetime(2027, 4, 20)) is not None
        assert getattr(schema.zone_of(got), "key", got) == got


BRACES = st.lists(
    st.one_of(st.text(max_size=10), st.sampled_from(["{name}", "{", "}", "{{", "{first}"])),
    max_size=6,
).map("".join)


@given(value=BRACES)
@example(value="Dear {name},")
@example(value="{name!r}")
def test_a_greeting_holds_no_placeholder_but_name(value):
    got = read(schema.greeting(), value)
    rest = value.replace("{name}", "")
    if "{" in rest or "}" in rest:
        assert isinstance(got, Invalid)  # for the braces, or an earlier reason (a control)
    elif not isinstance(got, Invalid):
        assert got == " ".join(value.split())
        assert got.count("{name}") == value.count("{name}")
