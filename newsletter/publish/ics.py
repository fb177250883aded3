"""iCalendar (RFC 5545) files for the events of an issue.

An event is an item with a ``starts`` date in its front matter: a date for an
all-day event, or a date and time (with an offset or a named ``timezone``, it
is written in UTC, so no VTIMEZONE is needed and summer time is already
applied; without either, as floating local time). The output depends only on the issue, so
the archive stays byte-for-byte reproducible: DTSTAMP is the issue's date.
"""

from __future__ import annotations

import datetime as dt
import re

from newsletter.config import Settings
from newsletter.models import Issue, Item
from newsletter.sanitize import html_to_text
from newsletter.schema import LINE_BREAK

LINE_OCTETS = 75
# The controls TEXT may not hold (RFC 5545 3.3.11) that are not line breaks
# (schema.LINE_BREAK), and a lone CR: dropped. CRLF is one line end.
_CONTROL = re.compile("[\x00-\x08\x0d\x0e-\x1b\x1f\x7f]")


def events(issue: Issue) -> tuple[Item, ...]:
    """The issue's items that have a start date, in reading order."""
    return tuple(item for s in issue.sections for item in s.items if item.starts)


def calendar(settings: Settings, issue: Issue, items: tuple[Item, ...]) -> bytes:
    """A VCALENDAR with one VEVENT per item, as CRLF-terminated UTF-8."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{_text(settings.from_name)}//{_text(settings.name)}//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(f'{settings.name}: {issue.title}')}",
    ]
    for item in items:
        lines += _event(settings, issue, item)
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines).encode("utf-8")


def _event(settings: Settings, issue: Issue, item: Item) -> list[str]:
    assert item.starts is not None
    start, end = item.starts, item.ends
    timed = isinstance(start, dt.datetime) and (end is None or isinstance(end, dt.datetime))
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_text(f'{issue.id}-{item.slug}@{settings.domain}')}",
        f"DTSTAMP:{_basic(issue.date)}T000000Z",
    ]
    if timed:
        lines.append(f"DTSTART{_when(start)}")
        if end is not None:
            lines.append(f"DTEND{_when(end)}")
    else:
        # All-day: DTEND is the day after the last day (RFC 5545 3.6.1).
        first = _day(start)
        last = _day(end) if end is not None else first
        lines.append(f"DTSTART;VALUE=DATE:{_basic(first)}")
        lines.append(f"DTEND;VALUE=DATE:{_basic(last + dt.timedelta(days=1))}")
    lines.append(f"SUMMARY:{_text(item.title)}")
    summary = " ".join(html_to_text(item.summary_html).split())
    if summary:
        lines.append(f"DESCRIPTION:{_text(summary)}")
    if item.location:
        # One TEXT value, escaped like the rest: the link, if any, goes after the name.
        where = f"{item.location} ({item.location_url})" if item.location_url else item.location
        lines.append(f"LOCATION:{_text(where)}")
    if item.link:
        lines.append(f"URL:{_CONTROL.sub('', LINE_BREAK.sub('', item.link))}")
    lines.append("END:VEVENT")
    return lines


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _when(value: dt.date) -> str:
    assert isinstance(value, dt.datetime)
    if value.tzinfo is not None:
        return f":{_basic(value.astimezone(dt.UTC))}Z"
    return f":{_basic(value)}"  # floating: the same clock time wherever you are


def _basic(value: dt.date) -> str:
    """RFC 5545's basic format, 20261005 or 20261005T143000, with four-digit years.

    strftime's %Y writes year 1 as "1" on glibc; isoformat always writes "0001".
    """
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=None, microsecond=0)
    return value.isoformat().replace("-", "").replace(":", "")


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 3.3.11): whatever it holds, it stays on its line."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return LINE_BREAK.sub("\\\\n", _CONTROL.sub("", value.replace("\r\n", "\n")))


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character (RFC 5545 3.1)."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = LINE_OCTETS if not out else LINE_OCTETS - 1  # continuation lines start " "
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)
