"""newsletter.intake.call, by property: ``--deadline`` is read or refused in one line.

Whatever the text, ``deadline_of`` returns a day no earlier than today or raises a
BadUsage whose message is one line naming ``--deadline``; a day written as ISO or as
"15 January 2027" reads back as that day; and ``call`` on any deadline ends cleanly,
writing nothing when it refuses.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import examples, make_issue, unharmed
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.build.render import longdate
from newsletter.errors import BadUsage
from newsletter.intake import deadline_of
from newsletter.schema import LAST_DAY

TODAY = dt.date(2026, 12, 2)
# A day an item may hold (schema.LAST_DAY): plain_date reads no later one.
DAYS = st.dates(min_value=dt.date(1900, 1, 1), max_value=LAST_DAY)
TEXT = st.one_of(
    st.text(max_size=60),
    DAYS.map(lambda d: d.isoformat()),
    DAYS.map(longdate),
    DAYS.map(lambda d: f"{d:%B} {d.day}, {d.year}"),
    st.sampled_from(
        ["2027-02-30", "31 February 2027", "tomorrow", "2027-1-5", "\n2027-01-15", "9999-12-31"]
    ),
)


@given(text=TEXT)
@settings(max_examples=examples(300))
def test_any_text_is_a_day_from_today_or_one_line_naming_the_option(text):
    try:
        found = deadline_of(text, TODAY)
    except BadUsage as exc:
        assert exc.message.startswith("--deadline ")
        assert "\n" not in exc.message and "\r" not in exc.message
        return
    assert found >= TODAY


@given(day=DAYS, shape=st.sampled_from(["iso", "long", "us"]))
def test_a_day_written_plainly_reads_back(day, shape):
    written = {
        "iso": day.isoformat(),
        "long": longdate(day),
        "us": f"{day:%B} {day.day}, {day.year}",
    }
    if day < TODAY:
        with pytest.raises(BadUsage, match="that day has passed"):
            deadline_of(written[shape], TODAY)
    else:
        assert deadline_of(written[shape], TODAY) == day


@pytest.fixture(scope="module")
def issue_project(tmp_path_factory):
    from helpers import new_project

    project = new_project(tmp_path_factory.mktemp("call") / "project")
    make_issue(project, "2027-Q1")
    return project


@given(text=TEXT)
@settings(max_examples=examples(20), deadline=None)
def test_call_with_any_deadline_ends_cleanly(issue_project, text):
    result = unharmed(issue_project, "call", "2027-Q1", "--deadline", text, "--dry-run")
    assert result.exit_code in (0, 2), result.output
