"""newsletter.issue.meta: issue.toml, the collection window, the issues around one."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import GOOD_ITEM, Route, add_feed, cli, item, make_issue, rss

from newsletter.issue.meta import previous_issue_date, quarter_window


@pytest.mark.parametrize(
    "toml,expected",
    [
        ("number = 7\n", "issues/2026-Q4/issue.toml: 'title' is missing or empty."),
        (
            'number = 7\ntitle = "T"\ndate = 2026-12-15\nsubject = "S"\npreheader = "short"\ncolour = 1\n',
            "issues/2026-Q4/issue.toml:6: unknown key 'colour'.",
        ),
        (
            'number = 7\ntitle = "T"\ndate = 2026-12-15\nsubject = "S"\npreheader = "short"\n',
            "issues/2026-Q4/issue.toml:5: preheader has 5 characters; make it 40 to 130",
        ),
        ("number = [\n", "issues/2026-Q4/issue.toml:2: invalid TOML"),
        (
            'number = 7\ntitle = "T"\ndate = 9999-12-31\nsubject = "S"\n',
            "issues/2026-Q4/issue.toml:3: date '9999-12-31' is out of range. "
            "Use a date from 0001-01-02 to 9999-12-30.",
        ),
        (
            'number = 7\ntitle = "Test \\u001b[31m issue"\n',
            "issues/2026-Q4/issue.toml:2: title 'Test \\u001b[31m issue' contains control "
            "characters. Remove them.",
        ),
        (
            'number = 7\ntitle = "Test \\uffff issue"\n',
            "issues/2026-Q4/issue.toml:2: title 'Test \uffff issue' contains control "
            "characters. Remove them.",
        ),
        (
            'number = 7\nsections = ["news", "tools",\n  "news"]\n',
            "issues/2026-Q4/issue.toml:2: 'sections' lists 'news' twice. "
            "List each section key once.",
        ),
    ],
    ids=[
        "missing-fields",
        "unknown-key",
        "short-preheader",
        "invalid-toml",
        "last-day",
        "escape",
        "noncharacter",
        "sections-twice",
    ],
)
def test_bad_issue_toml(project, toml, expected):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "issue.toml").write_text(toml, encoding="utf-8")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert any(line.startswith(expected) for line in result.output.splitlines()), result.output


@pytest.mark.parametrize(
    ("issue_id", "window"),
    [
        ("9999-Q4", (dt.date(9999, 10, 1), dt.date(9999, 12, 31))),
        ("0001-Q1", (dt.date(1, 1, 1), dt.date(1, 3, 31))),
        ("2024-Q1", (dt.date(2024, 1, 1), dt.date(2024, 3, 31))),
        ("0000-Q1", None),
    ],
)
def test_quarter_window_at_the_ends_of_the_calendar(issue_id, window):
    assert quarter_window(issue_id) == window


def test_lower_case_quarter_id_gets_its_window(project):
    make_issue(project, "2027-q2", items={"a.md": item("Spring", date="2027-05-01")})
    result = cli(project, "check", "2027-q2")
    assert result.exit_code == 0, result.output
    assert "outside the issue window" not in result.output


SINCE = dt.date(2026, 9, 15)


def test_previous_issue_date(project):
    make_issue(project, "2026-Q4")
    for name, date in (
        ("2026-Q2", "2026-06-15"),
        ("2026-Q3", "2026-09-15"),
        ("2027-Q1", "2027-03-15"),
    ):
        (project / "issues" / name).mkdir()
        (project / "issues" / name / "issue.toml").write_text(f"date = {date}\n")
    (project / "issues" / "broken").mkdir()
    (project / "issues" / "broken" / "issue.toml").write_text("date = [")
    assert previous_issue_date(project, "2026-Q4", dt.date(2026, 12, 15)) == SINCE
    assert previous_issue_date(project, "2026-Q2", dt.date(2026, 6, 15)) is None


WINDOWS = {
    "reversed": (
        "2026-Q4",
        "window = { from = 2026-12-01, to = 2026-10-01 }\n",
        "issues/2026-Q4/issue.toml:6: 'window' ends before it starts. Put 'from' before 'to'.",
    ),
    "not dates": (
        "2026-Q4",
        'window = { from = "soon", to = 2026-10-01 }\n',
        "issues/2026-Q4/issue.toml:6: 'window' is not { from = YYYY-MM-DD, to = YYYY-MM-DD }. "
        "Write it as window = { from = 2026-10-01, to = 2026-12-31 }.",
    ),
    "none": (
        "special",
        "",
        "issues/special/issue.toml: no window, and the ID is not a quarter such as 2026-Q4. "
        "Add window = { from = 2026-10-01, to = 2026-12-31 } to issue.toml.",
    ),
}


@pytest.mark.parametrize("issue_id,extra,message", WINDOWS.values(), ids=WINDOWS)
def test_check_and_collect_give_the_one_window_message(
    project, feed_server, issue_id, extra, message
):
    folder = make_issue(project, issue_id, items={})
    (folder / "issue.toml").write_text((folder / "issue.toml").read_text() + extra)
    add_feed(project, feed_server, "A", "news", Route(rss([])))
    collected = cli(project, "collect", issue_id)
    assert (collected.exit_code, collected.output) == (1, f"Error: {message}\n")
    checked = cli(project, "check", issue_id)
    assert checked.exit_code == 1
    assert checked.output.splitlines() == [
        message,
        f"Error: 1 error in issues/{issue_id}; fix them before building. "
        "Fix the lines above and run again.",
    ]


GOOD_TOML = (
    'number = 7\ntitle = "Test issue"\ndate = 2026-12-15\n'
    'subject = "The UN-Business Focal Point: test issue"\n'
    'preheader = "News, tools and events for UN private-sector focal points."\n'
)
TOML_MISTAKES = {
    "nested-array": (
        "extra = " + "[" * 5000 + "]" * 5000 + "\n",
        6,
        "arrays or tables are nested more than 64 deep. Flatten them.",
    ),
    "nested-table": (
        "extra = " + "{ a = " * 70 + "1" + " }" * 70 + "\n",
        6,
        "arrays or tables are nested more than 64 deep. Flatten them.",
    ),
    "long-number": ("extra = " + "9" * 5000 + "\n", 6, "a number has more than 4,300 digits."),
    "window-a-number": (
        "window = 3\n",
        6,
        "window '3' is not { from = YYYY-MM-DD, to = YYYY-MM-DD }. "
        "Write it as window = { from = 2026-10-01, to = 2026-12-31 }.",
    ),
    "window-a-list": (
        "window = [1, 2]\n",
        6,
        "'window' is not { from = YYYY-MM-DD, to = YYYY-MM-DD }. "
        "Write it as window = { from = 2026-10-01, to = 2026-12-31 }.",
    ),
    "window-with-numbers": (
        "window = { from = 1, to = 2 }\n",
        6,
        "'window' is not { from = YYYY-MM-DD, to = YYYY-MM-DD }. "
        "Write it as window = { from = 2026-10-01, to = 2026-12-31 }.",
    ),
    "sections-text": (
        'sections = "news"\n',
        6,
        "sections 'news' is not a list of section keys. "
        "List section keys from: news, tools, events, spotlight.",
    ),
    "sections-nested": (
        "sections = [[1]]\n",
        6,
        "'sections' is not a list of section keys. "
        "List section keys from: news, tools, events, spotlight.",
    ),
    "draft-text": ('draft = "yes"\n', 6, "draft 'yes' is not true or false. Write true or false."),
    "greeting-other-placeholder": (
        'greeting = "Dear {first_name},"\n',
        6,
        "greeting 'Dear {first_name},' may hold only the {name} placeholder. "
        'Write it as "Dear {name}," (or "" for no greeting).',
    ),
    "greeting-two-lines": (
        'greeting = "Dear {name},\\nwelcome"\n',
        6,
        "greeting 'Dear {name},\\u000awelcome' is more than one line. Remove the line breaks.",
    ),
    "greeting-a-number": (
        "greeting = 3\n",
        6,
        "greeting '3' is not text. Write it as \"Dear {name},\".",
    ),
}


@pytest.mark.parametrize("extra,line,message", TOML_MISTAKES.values(), ids=TOML_MISTAKES)
def test_a_wrong_value_in_issue_toml_is_one_line(project, extra, line, message):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "issue.toml").write_text(GOOD_TOML + extra, encoding="utf-8")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith(f"issues/2026-Q4/issue.toml:{line}: {message}"), first
    assert len(first) < 300


def test_a_subject_that_could_add_a_header_is_refused_by_check(project):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    toml = GOOD_TOML.replace('subject = "', 'subject = "=?utf-8?b?DQpCY2M6IHhAeS56?= ')
    (folder / "issue.toml").write_text(toml, encoding="utf-8")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "issues/2026-Q4/issue.toml:4: subject '=?utf-8?b?DQpCY2M6IHhAeS56?= The UN-Bus…' "
        "contains an RFC 2047 encoded word (=?...?=), which could add a mail header. "
        "Remove it from the value."
    )
