"""newsletter.publish.ics, by property: no text in an item adds a line to a calendar.

A title, a summary, a link or a file name (the UID) can hold anything a file or
a feed gives; whatever it holds, the calendar has exactly the lines the code
writes, each within 75 octets, and every value comes back intact when the
escaping is undone.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from helpers import new_project
from hypothesis import example, given
from hypothesis import strategies as st
from test_publish_ics import ISSUE, unfold

from newsletter.config import load_settings
from newsletter.models import Item
from newsletter.publish.ics import calendar

BREAKS = st.sampled_from(["\r\n", "\n", "\r", "\u2028", "\x85", "\x0b", "\\n", ";", ",", "\\"])
HOSTILE = st.lists(
    st.one_of(
        st.text(max_size=30),
        BREAKS,
        st.just("\r\nBEGIN:VEVENT\r\nSUMMARY:injected\r\nEND:VEVENT\r\n"),
    ),
    max_size=6,
).map("".join)
NAMES = {"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME", "UID"}
NAMES |= {"DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "URL", "LOCATION"}
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def expected(text: str) -> str:
    """What a TEXT value should read as: breaks as newlines, other controls gone."""
    text = re.sub("\r?\n|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", "\n", text)
    return re.sub("[\x00-\x08\r\x0e-\x1b\x1f\x7f]", "", text)


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    return load_settings(new_project(tmp_path_factory.mktemp("ics") / "p"))


@given(title=HOSTILE, slug=HOSTILE)
@example(title="x", slug="evil\nBEGIN:VEVENT\nSUMMARY:injected")
@example(title="a\rb\r\nc", slug="s;,\\")
def test_no_text_adds_a_line(house, title, slug):
    item = Item(slug, title, "events", "<p>x</p>", starts=dt.date(2026, 11, 3))
    lines = unfold(calendar(house, ISSUE, (item,)))
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in lines]
    assert set(names) <= NAMES
    assert names.count("BEGIN") == names.count("END") == 2  # VCALENDAR and one VEVENT
    assert names.count("SUMMARY") == names.count("UID") == 1
    assert not any(_CONTROLS.search(line) for line in lines)
    (summary,) = (line for line in lines if line.startswith("SUMMARY:"))
    assert unescape(summary[len("SUMMARY:") :]) == expected(title)
    (uid,) = (line for line in lines if line.startswith("UID:"))
    assert unescape(uid[len("UID:") :]) == expected(f"2026-Q4-{slug}@example.org")


@given(location=HOSTILE.filter(bool), url=st.one_of(st.none(), HOSTILE.filter(bool)))
@example(location="Online\r\nBEGIN:VEVENT", url="https://x.org/a;b,c\r\nEND:VEVENT")
def test_no_location_adds_a_line(house, location, url):
    item = Item(
        "e", "E", "events", "", starts=dt.date(2026, 11, 3), location=location, location_url=url
    )
    lines = unfold(calendar(house, ISSUE, (item,)))
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in lines]
    assert set(names) <= NAMES and names.count("BEGIN") == 2
    (found,) = (line for line in lines if line.startswith("LOCATION:"))
    shown = f"{location} ({url})" if url else location
    assert unescape(found[len("LOCATION:") :]) == expected(shown)
