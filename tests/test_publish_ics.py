"""newsletter.publish.ics: iCalendar text is escaped and folded as RFC 5545 says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import cli, make_issue

from newsletter.config import load_settings
from newsletter.models import Issue, Item, Section
from newsletter.publish.ics import calendar
from newsletter.schema import LINE_BREAK

ISSUE = Issue(
    id="2026-Q4",
    folder=Path("issues/2026-Q4"),
    number=7,
    title="Test issue",
    date=dt.date(2026, 12, 15),
    subject="s",
    preheader="p",
    window_from=dt.date(2026, 10, 1),
    window_to=dt.date(2026, 12, 31),
    intro_html="",
    sections=(Section("events", "Events", ()),),
)


def event(slug: str = "meeting", title: str = "Meeting", summary: str = "") -> Item:
    return Item(slug, title, "events", summary, starts=dt.date(2026, 11, 3))


def unfold(ics: bytes) -> list[str]:
    """The content lines of an iCalendar file, checked for RFC 5545 3.1 on the way."""
    assert ics.endswith(b"\r\n") and b"\n" not in ics.replace(b"\r\n", b"")
    for line in ics.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # folding never splits a character
    return ics.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def test_calendar_text_is_escaped_and_folded(project):
    title = 'Réunion; "Genève, salle 3" \\ Zürich — ' + "ünïcödé " * 8
    item = (
        f"---\ntitle: '{title.strip()}'\nsection: events\nlink: https://example.org/r?a=1,2\n"
        "starts: 2027-04-10 14:00:00+02:00\n---\nFirst, second; third.\n"
    )
    make_issue(project, items={"reunion.md": item})
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert cli(project, "archive").exit_code == 0
    lines = unfold((project / "site" / "2026-Q4" / "event-reunion.ics").read_bytes())
    escaped = title.strip().replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    assert f"SUMMARY:{escaped}" in lines
    assert "DESCRIPTION:First\\, second\\; third." in lines
    assert "URL:https://example.org/r?a=1,2" in lines  # a URI value is not TEXT-escaped
    assert "DTSTART:20270410T120000Z" in lines and "DTSTAMP:20261215T000000Z" in lines
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"


def test_a_file_name_with_line_breaks_writes_no_calendar_line(project):
    """Found: an item file named evil\\nBEGIN:VEVENT\\nSUMMARY:injected.md wrote raw lines."""
    slug = "evil\nBEGIN:VEVENT\r\nSUMMARY:injected\rEND:VEVENT"
    lines = unfold(calendar(load_settings(project), ISSUE, (event(slug=slug),)))
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    uid = "UID:2026-Q4-evil\\nBEGIN:VEVENT\\nSUMMARY:injectedEND:VEVENT@example.org"
    assert uid in lines
    assert not any(line.startswith("SUMMARY:injected") for line in lines)


@pytest.mark.parametrize(
    "char", [c for c in map(chr, range(0x3000)) if LINE_BREAK.match(c) and c != "\r"]
)
def test_what_a_header_refuses_as_a_line_break_ends_a_calendar_text_line(project, char):
    # One set of line breaks: ics had its own copy of the mail-header one.
    lines = unfold(calendar(load_settings(project), ISSUE, (event(title=f"a{char}b"),)))
    assert "SUMMARY:a\\nb" in lines


@pytest.mark.parametrize(
    "title,summary",
    [
        ("a\rb", "ab"),  # a lone CR is dropped: only a newline becomes \\n
        ("a\r\nb", "a\\nb"),
        ("a\u2028b\x85c\x0bd\x0ce", "a\\nb\\nc\\nd\\ne"),
        ("a\x00b\x1bc\x7fd\te", "abcd\te"),
        ("x\\n;y,z", "x\\\\n\\;y\\,z"),
    ],
    ids=["lone-cr", "crlf", "other-breaks", "controls", "specials"],
)
def test_calendar_text_never_holds_a_raw_break_or_control(project, title, summary):
    lines = unfold(calendar(load_settings(project), ISSUE, (event(title=title),)))
    assert f"SUMMARY:{summary}" in lines


@pytest.mark.parametrize(
    "starts,ends,written",
    [
        # A named zone is written in UTC, summer time applied: Europe/Zurich is
        # UTC+01:00 until 28 March 2027 and UTC+02:00 from then on.
        (
            dt.datetime(2027, 3, 26, 9, 30, tzinfo=ZoneInfo("Europe/Zurich")),
            dt.datetime(2027, 3, 26, 12, 0, tzinfo=ZoneInfo("Europe/Zurich")),
            ["DTSTART:20270326T083000Z", "DTEND:20270326T110000Z"],
        ),
        (
            dt.datetime(2027, 3, 29, 9, 30, tzinfo=ZoneInfo("Europe/Zurich")),
            dt.datetime(2027, 3, 29, 12, 0, tzinfo=ZoneInfo("Europe/Zurich")),
            ["DTSTART:20270329T073000Z", "DTEND:20270329T100000Z"],
        ),
        # Across the switch itself: 01:30 is UTC+01:00, 03:30 UTC+02:00.
        (
            dt.datetime(2027, 3, 28, 1, 30, tzinfo=ZoneInfo("Europe/Zurich")),
            dt.datetime(2027, 3, 28, 3, 30, tzinfo=ZoneInfo("Europe/Zurich")),
            ["DTSTART:20270328T003000Z", "DTEND:20270328T013000Z"],
        ),
        # New York's switch is two weeks earlier (14 March 2027).
        (
            dt.datetime(2027, 3, 20, 9, 0, tzinfo=ZoneInfo("America/New_York")),
            None,
            ["DTSTART:20270320T130000Z"],
        ),
        # An offset as written; a floating time as it is.
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            None,
            ["DTSTART:20270420T073000Z"],
        ),
        (dt.datetime(2027, 4, 20, 9, 30), None, ["DTSTART:20270420T093000"]),
    ],
    ids=["before-dst", "after-dst", "across-the-switch", "new-york", "offset", "floating"],
)
def test_a_time_zone_is_written_in_utc(project, starts, ends, written):
    item = Item("e", "E", "events", "", starts=starts, ends=ends)
    lines = unfold(calendar(load_settings(project), ISSUE, (item,)))
    assert [line for line in lines if line.startswith(("DTSTART", "DTEND"))] == written
    assert not any("TZID" in line for line in lines)  # UTC needs no VTIMEZONE


@pytest.mark.parametrize(
    "location,url,line",
    [
        ("Palais des Nations, Geneva", None, "LOCATION:Palais des Nations\\, Geneva"),
        (
            "Online",
            "https://example.org/j?a=1;b=2",
            "LOCATION:Online (https://example.org/j?a=1\\;b=2)",
        ),
        ("Room 3\r\nBEGIN:VEVENT", None, "LOCATION:Room 3\\nBEGIN:VEVENT"),
    ],
)
def test_the_location_is_one_text_line(project, location, url, line):
    item = Item(
        "e", "E", "events", "", starts=dt.date(2027, 4, 20), location=location, location_url=url
    )
    lines = unfold(calendar(load_settings(project), ISSUE, (item,)))
    assert [x for x in lines if x.startswith("LOCATION")] == [line]
    assert lines.count("BEGIN:VEVENT") == 1
