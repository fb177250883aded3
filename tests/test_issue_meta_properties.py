"""newsletter.issue.meta, by property: read_meta reads any issue.toml without raising.

Editors write issue.toml by hand; whatever it holds, read_meta answers a Meta or
every problem, each with a line in the file, and a window only when one is sound;
and `check` on a folder holding it ends cleanly (helpers.unharmed).
"""

from __future__ import annotations

import datetime as dt

from helpers import PROPERTY, examples, make_issue, unharmed
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from newsletter.issue.meta import read_meta

SECTIONS = ("news", "tools", "events", "spotlight")
GOOD = (
    'number = 7\ntitle = "Test issue"\ndate = 2026-12-15\n'
    'subject = "The UN-Business Focal Point: test issue"\n'
    'preheader = "News, tools and events for UN private-sector focal points."\n'
)
KEYS = st.sampled_from(
    ["number", "title", "date", "subject", "preheader", "window", "sections", "draft", "colour"]
)
# TOML values of every type, right and wrong for each key.
VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(f), repr(f))
    ),
    st.text(max_size=40).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(
        [
            "true",
            "2026-12-15",
            "2026-02-30",
            "2026-12-15T10:00:00+02:00",
            "10:00:00",
            '"2026-12-15"',
            "{ from = 2026-10-01, to = 2026-12-31 }",
            "{ from = 2026-12-31, to = 2026-10-01 }",
            '{ from = "soon", to = 2026-10-01 }',
            "{ from = 2026-10-01 }",
            '["news", "tools"]',
            '["gossip"]',
            "[[1], {a = 1}]",
            '"""multi\nline"""',
            "'''x'''",
            '"a\\u2028b"',
            '"\\u0000"',
            "[",
            "",
        ]
    ),
)
TOML = st.one_of(
    st.text(max_size=200),
    st.lists(st.builds(lambda k, v: f"{k} = {v}", KEYS, VALUES), max_size=10).map("\n".join),
    st.builds(
        lambda extra: GOOD + extra,
        st.lists(st.builds(lambda k, v: f"{k} = {v}", KEYS, VALUES), max_size=3).map("\n".join),
    ),
    st.builds(lambda t: GOOD + t, st.text(max_size=30)),
)
ENCODED = st.one_of(
    TOML.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=100),
    st.builds(lambda t, junk: t.encode("utf-8") + junk, TOML, st.binary(min_size=1, max_size=3)),
)


def lines_in(data: bytes) -> int:
    text = data.decode("utf-8", "replace")
    return max(data.count(b"\n"), len(text.splitlines())) + 1


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=ENCODED, issue_id=st.sampled_from(["2026-Q4", "2027-q1", "special", "9999-Q4"]))
@example(data=GOOD.encode(), issue_id="2026-Q4")
@example(data=GOOD.encode() + b"window = { from = 2026-12-31, to = 2026-10-01 }\n", issue_id="x")
@example(data=b"number = [\n", issue_id="2026-Q4")
@example(data=b'title = "Caf\xe9"\n', issue_id="2026-Q4")
def test_any_issue_toml_is_read_or_each_problem_named_on_a_line(tmp_path, data, issue_id):
    folder = tmp_path / "issues" / issue_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "issue.toml").write_bytes(data)
    result = read_meta(folder, SECTIONS)
    errors = [p for p in result.problems if p.severity == "error"]
    assert (result.meta is None) == bool(errors), result.problems
    count = lines_in(data)
    for problem in result.problems:
        assert problem.path == f"issues/{issue_id}/issue.toml"
        assert problem.line is None or 1 <= problem.line <= count, (problem, count)
        assert problem.message and "\n" not in problem.message, problem
    if result.window is not None:
        start, end = result.window
        assert type(start) is dt.date and type(end) is dt.date and start <= end
    if result.meta is not None:
        meta = result.meta
        assert isinstance(meta.number, int) and meta.number >= 1
        assert type(meta.date) is dt.date and meta.window == result.window
        assert all(isinstance(v, str) for v in (meta.title, meta.subject, meta.preheader))
        assert set(meta.sections) <= set(SECTIONS) and isinstance(meta.draft, bool)


class Crashed(Exception):
    """read_meta raised instead of answering."""


def test_an_empty_window_is_a_problem_not_a_traceback(tmp_path):
    folder = tmp_path / "issues" / "2026-Q4"
    folder.mkdir(parents=True)
    (folder / "issue.toml").write_text(GOOD + 'window = ""\n')
    try:
        result = read_meta(folder, SECTIONS)
    except AssertionError as exc:
        raise Crashed(exc) from exc
    assert result.meta is None and [p.line for p in result.problems] == [6]


def test_a_number_too_long_to_read_is_a_problem_not_a_traceback(tmp_path):
    folder = tmp_path / "issues" / "2026-Q4"
    folder.mkdir(parents=True)
    (folder / "issue.toml").write_text(GOOD.replace("number = 7", "number = " + "7" * 5000))
    result = read_meta(folder, SECTIONS)
    assert result.meta is None and [p.line for p in result.problems] == [1]


# -- through the command line: check on any issue.toml -----------------------------------


@settings(max_examples=examples(200), **PROPERTY)
@given(
    data=ENCODED, issue_id=st.sampled_from(["2026-Q4", "2027-q1", "special", "0001-Q1", "9999-Q4"])
)
@example(data=GOOD.encode() + b"date = 2026-02-30\n", issue_id="2026-Q4")
@example(data=b"[" * 5000, issue_id="2026-Q4")
def test_check_on_any_issue_toml_ends_cleanly(outbox_ready, data, issue_id):
    folder = outbox_ready / "issues" / issue_id
    if not folder.is_dir():
        make_issue(outbox_ready, issue_id)
    (folder / "issue.toml").write_bytes(data)
    result = unharmed(outbox_ready, "check", issue_id)
    assert result.exit_code in (0, 1), result.output


DEEP = "x = " + "[" * 5000 + "]" * 5000 + "\n"


def test_check_on_a_deeply_nested_issue_toml_ends_cleanly(outbox_ready):
    (outbox_ready / "issues/2026-Q4/issue.toml").write_text(GOOD + DEEP)
    result = unharmed(outbox_ready, "check", "2026-Q4")
    assert result.exit_code == 1, result.output
