"""newsletter.issue.items, by property: load_item reads any file without raising.

Contributors write item files by hand and feeds write them through `collect`, so
load_item meets any bytes at all. Whatever a file holds, it answers an Item or
the problems, each error with a line that is in the file; and `check` and `build`
on an issue holding it end cleanly (helpers.unharmed), a failed build keeping the
last build/ as it was.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from helpers import PROPERTY, examples, unharmed
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from newsletter.issue.items import item_schema, load_item

SECTIONS = ("news", "tools", "events", "spotlight")
WINDOW = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
TODAY = dt.date(2026, 11, 15)

# A front-matter line as people get them wrong: known and unknown keys, YAML of
# every shape (quotes, flows, anchors, tags, block scalars), bad indents.
KEYS = st.one_of(st.sampled_from(item_schema(("news",)).names), st.text(max_size=8))
VALUE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "news",
            "2026-10-05",
            "2026-10-05 14:00",
            "2026-13-45",
            "https://example.org/a",
            "javascript:alert(1)",
            "[a, b",
            "{x: 1}",
            "&a x",
            "*a",
            "!!binary aGk=",
            "!!python/object:os.system x",
            "|\n  block\n  text",
            "'unclosed",
            '"\\x00"',
            "- item",
            "1e400",
            "-5",
            "yes",
            "~",
        ]
    ),
)
FRONT = st.lists(
    st.builds(
        lambda k, v, indent: f"{indent}{k}: {v}", KEYS, VALUE, st.sampled_from(["", " ", "\t"])
    ),
    max_size=8,
)
BODY = st.one_of(st.text(max_size=200), st.sampled_from(["<script>x</script>", "# H\n\n*a*", ""]))
FENCE = st.sampled_from(["---", "---  ", "----", "...", "+++", "", "--- x"])
ITEM_TEXT = st.builds(
    lambda open_, lines, close, body: "\n".join([open_, *lines, close, body]),
    FENCE,
    FRONT,
    FENCE,
    BODY,
)
ENCODED = st.one_of(
    st.binary(max_size=300),
    ITEM_TEXT.map(lambda t: t.encode("utf-8")),
    st.builds(
        lambda t, newline, bom: bom + t.replace("\n", newline).encode("utf-8", "surrogatepass"),
        ITEM_TEXT,
        st.sampled_from(["\n", "\r\n", "\r"]),
        st.sampled_from([b"", b"\xef\xbb\xbf"]),
    ),
    st.builds(
        lambda t, junk: t.encode("utf-8") + junk, ITEM_TEXT, st.binary(min_size=1, max_size=4)
    ),
)


# A YAML timestamp anywhere in the text (the loader's own pattern, unanchored).
_TIMESTAMP = re.compile(yaml.constructor.SafeConstructor.timestamp_regexp.pattern.strip("^$"), re.X)


def lines_in(data: bytes) -> int:
    """How many lines the file has, however its lines end (the last may be empty)."""
    text = data.decode("utf-8", "replace")
    return max(data.count(b"\n"), len(text.splitlines())) + 1


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=ENCODED)
@example(data=b"")
@example(data=b"---\ntitle: x\nsection: news\n---\n")
@example(data=b"---\ntitle: [x\n---\n")
@example(data=b"---\ntitle: Caf\xe9\n---\n")
@example(data=b"---\n- a\n- b\n---\n")
@example(data=b"---\n!!binary aGk=\n---\n")
@example(
    data=b"---\ntitle: x\nsection: news\nstarts: 2027-01-01 10:00+02:00\nends: 2027-01-01\n---\n"
)
def test_any_file_loads_or_says_why_on_a_line_of_it(tmp_path, data):
    path = tmp_path / "item.md"
    path.write_bytes(data)
    item, problems = load_item(path, "items/item.md", SECTIONS, WINDOW, TODAY)
    errors = [p for p in problems if p.severity == "error"]
    assert (item is None) == bool(errors), problems
    count = lines_in(data)
    for problem in problems:
        assert problem.path == "items/item.md"
        assert problem.line is None or 1 <= problem.line <= count, (problem, count)
        assert problem.message and "\n" not in problem.message, problem
    if item is not None:
        assert item.section in SECTIONS and isinstance(item.title, str) and item.title
        assert isinstance(item.weight, int) and not isinstance(item.weight, bool)
        assert all(isinstance(tag, str) for tag in item.tags)


@pytest.mark.parametrize(
    "field,message",
    [
        ("date: 2026-02-30", "date '2026-02-30' is not a date. Write it as YYYY-MM-DD."),
        (
            "weight: " + "1" * 5000,
            "weight '" + "1" * 39 + "…' is not a whole number. "
            "Write a whole number, such as 10 or -5.",
        ),
        ("embargo: 2026-13-45", "embargo '2026-13-45' is not a date. Write it as YYYY-MM-DD."),
    ],
    ids=["date", "number", "month"],
)
def test_an_impossible_value_is_a_problem_not_a_traceback(tmp_path, field, message):
    path = tmp_path / "item.md"
    path.write_text(f"---\ntitle: T\nsection: news\n{field}\n---\nText.\n")
    item, problems = load_item(path, "items/item.md", SECTIONS, WINDOW, TODAY)
    assert item is None and [(p.line, p.message) for p in problems] == [(4, message)]


# -- through the command line: check and build on any item file ---------------------------

# A sound item with one generated line and body: most pass check, so build runs too.
NEAR_GOOD = st.builds(
    lambda line, body: (
        "---\ntitle: A generated item\nsection: news\ndate: 2026-10-05\n"
        f"link: https://example.org/generated\n{line}\n---\n{body}\n"
    ).encode("utf-8", "surrogatepass"),
    st.lists(
        st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(item_schema(("news",)).names), VALUE),
        max_size=2,
    ).map("\n".join),
    BODY,
)
GOOD_HEAD = st.builds(  # a sound front matter over any body (Markdown, HTML, bytes)
    lambda body: b"---\ntitle: T\nsection: news\ndate: 2026-10-05\n---\n" + body,
    st.one_of(BODY.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=100)),
)


@settings(max_examples=examples(200), **PROPERTY)
@given(data=st.one_of(ENCODED, NEAR_GOOD, GOOD_HEAD))
@example(data=b"---\ntitle: x\nsection: news\ndate: 2026-02-30\n---\n")
@example(data=b"---\ntitle: x\nsection: news\nweight: !!int abc\n---\n")
@example(data=b"---\ntitle: &a [*a]\n---\n")
def test_check_on_any_item_file_ends_cleanly(outbox_ready, data):
    (outbox_ready / "issues/2026-Q4/items/generated.md").write_bytes(data)
    result = unharmed(outbox_ready, "check", "2026-Q4")
    assert result.exit_code in (0, 1), result.output
    event(f"exit {result.exit_code}")


@settings(max_examples=examples(40), **PROPERTY)
@given(data=st.one_of(ENCODED, NEAR_GOOD, GOOD_HEAD))
@example(data=b"---\ntitle: x\nsection: news\nlink: https://example.org/x\n---\n<b>" * 3)
@example(data=b"---\ntitle: x\nsection: news\nimage: javascript:alert(1)\n---\nx")
def test_build_on_any_item_file_ends_cleanly_and_a_failed_build_keeps_the_last(outbox_ready, data):
    (outbox_ready / "issues/2026-Q4/items/generated.md").write_bytes(data)
    result = unharmed(outbox_ready, "build", "2026-Q4")
    assert result.exit_code in (0, 1), result.output
    event(f"exit {result.exit_code}")


# Tags whose constructor fails with something other than ValueError (KeyError,
# AttributeError, IndexError): each is one line naming the field.
@pytest.mark.parametrize("value", ["!!bool maybe", "!!timestamp garbage", "!!int", "!!float"])
def test_check_on_an_item_with_a_tag_yaml_cannot_make_ends_cleanly(outbox_ready, value):
    (outbox_ready / "issues/2026-Q4/items/generated.md").write_text(
        f"---\ntitle: {value}\nsection: news\n---\nx\n"
    )
    result = unharmed(outbox_ready, "check", "2026-Q4")
    assert result.exit_code in (0, 1), result.output


@settings(max_examples=examples(100), **PROPERTY)
@given(
    location=st.one_of(st.text(max_size=40), st.sampled_from(["Online", "%%EMAIL%%", "{{ x }}"])),
    url=st.one_of(
        st.none(),
        st.text(max_size=30),
        st.sampled_from(["https://example.org/j?a=1&b=%%NAME%%", "javascript:alert(1)"]),
    ),
    zone=st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["Europe/Zurich", "UTC"])),
)
@example(location="Palais des Nations\nGeneva", url="https://example.org/map", zone="Europe/Zurich")
def test_an_event_s_location_and_zone_are_read_or_refused_on_their_line(
    tmp_path, location, url, zone
):
    fields = {"title": "E", "section": "events", "starts": "2027-04-20 09:30"}
    fields |= {"location": location, "location_url": url, "timezone": zone}
    head = yaml.safe_dump({k: v for k, v in fields.items() if v is not None}, sort_keys=False)
    path = tmp_path / "e.md"
    path.write_text(f"---\n{head}---\nX.\n", encoding="utf-8")
    got, problems = load_item(path, "e.md", SECTIONS)
    count = len(path.read_text(encoding="utf-8").splitlines())
    if got is None:
        assert problems and all(p.line and 1 <= p.line <= count for p in problems), problems
        return
    for value in (got.location, got.location_url):
        assert value is None or (len(value.splitlines()) <= 1 and "%%" not in value)
    assert got.location_url is None or got.location_url.startswith(("http://", "https://"))
    assert bool(got.location) == bool(location.strip())
    if zone:
        assert got.starts.tzinfo.key == zone.strip()
        assert got.starts.utcoffset() is not None
