"""newsletter.publish.ics: iCalendar text is escaped and folded as RFC 5545 says."""

from __future__ import annotations

from helpers import cli, make_issue


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
