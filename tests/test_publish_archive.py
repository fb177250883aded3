"""newsletter.publish.archive: `newsletter archive`: a deterministic, self-contained, private site."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
from helpers import cli, make_issue

from newsletter.models import Contact
from newsletter.publish.sitecheck import broken_links, links_of
from newsletter.store import open_db
from newsletter.store.contacts import create_contact, mark_bounced, mark_left

EVENT = """\
---
title: Annual meeting of focal points
section: events
link: https://example.org/meeting
date: 2026-11-02
starts: 2027-03-23
ends: 2027-03-24
---
Geneva and online; the agenda covers due diligence.
"""
WEBINAR = """\
---
title: "Webinar: screening, step by step"
section: events
link: https://example.org/webinar
starts: 2027-02-10T14:00:00+01:00
ends: 2027-02-10T15:00:00+01:00
---
One hour, online.
"""
NO_START = (
    "---\ntitle: Courses in 2027\nsection: events\nlink: https://example.org/c\n---\nDates.\n"
)

PEOPLE = [
    ("jane.doe@unicef.example", "Jane Doe", "UNICEF", "+41 22 000 00 00"),
    ("omar@undp.example", "Omar Haddad", "UNDP", "+1 212 000 0000"),
    ("left.soon@wfp.example", "Lea Soon", "WFP", ""),
]


@pytest.fixture
def site(project):
    """Three issues (one a draft, one never built) and a directory; the archive built."""
    db = open_db(project / "contacts.db")
    for email, name, org, phone in PEOPLE:
        when = "2026-06-01T09:00:00+00:00"
        create_contact(
            db, Contact(email=email, name=name, organisation=org, phone=phone), "t", "t", when
        )
    make_issue(project, "2026-Q3")
    q4 = make_issue(project, "2026-Q4")
    for name, text in (("meeting.md", EVENT), ("webinar.md", WEBINAR), ("courses.md", NO_START)):
        (q4 / "items" / name).write_text(text)
    draft = make_issue(project, "2027-Q1")
    (draft / "issue.toml").write_text(
        (draft / "issue.toml").read_text().replace("2026-12-15", "2027-03-15") + "draft = true\n"
    )
    make_issue(project, "2027-Q2")  # never built
    # The Q3 date must come first for the "newest first" check.
    q3 = project / "issues" / "2026-Q3" / "issue.toml"
    q3.write_text(q3.read_text().replace("2026-12-15", "2026-09-15").replace("= 7", "= 6"))
    for issue in ("2026-Q3", "2026-Q4", "2027-Q1"):
        result = cli(project, "build", issue)
        assert result.exit_code == 0, result.output
    mark_bounced(db, "left.soon@wfp.example", at="2026-11-20T09:00:00+00:00")
    result = cli(project, "archive")
    assert result.exit_code == 0, result.output
    return project / "site", result.output


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_output_and_layout(site):
    out, output = site
    assert output.splitlines()[:2] == [
        "skipped 2027-Q1: a draft, never sent (publish it with: newsletter publish 2027-Q1)",
        "skipped 2027-Q2: not built (build it with: newsletter build 2027-Q2)",
    ]
    assert output.splitlines()[-1] == (
        "Published site/: 2 issues (2026-Q4, 2026-Q3), 9 files; open site/index.html"
    )
    assert sorted(files(out)) == [
        ".newsletter-archive",
        "2026-Q3/index.html",
        "2026-Q4/event-meeting.ics",
        "2026-Q4/event-webinar.ics",
        "2026-Q4/events.ics",
        "2026-Q4/index.html",
        "directory.html",
        "feed.xml",
        "index.html",
    ]
    index = (out / "index.html").read_text()
    assert index.index("2026-Q4/index.html") < index.index("2026-Q3/index.html")  # newest first
    assert "2027-Q1" not in index


def test_deterministic(site, project):
    out, _ = site
    before = files(out)
    assert cli(project, "archive").exit_code == 0
    assert files(out) == before
    assert cli(project, "archive", "--out", str(project / "copy")).exit_code == 0
    assert files(project / "copy") == before


def test_every_internal_link_resolves_and_is_relative(site):
    out, _ = site
    assert broken_links(out) == []
    internal = [
        (page.relative_to(out).as_posix(), link)
        for page in sorted(out.rglob("*"))
        if page.suffix in (".html", ".xml")
        for link in links_of(page)
        if not link.startswith(("http://", "https://", "mailto:"))
    ]
    assert ("2026-Q4/index.html", "../directory.html") in internal
    assert ("2026-Q4/index.html", "event-webinar.ics") in internal
    assert ("feed.xml", "2026-Q4/index.html") in internal
    assert all(not link.startswith("/") for _, link in internal)
    assert not [
        link
        for page in out.rglob("*.html")
        for link in links_of(page)
        if link.startswith("https://focalpoint.example.org")
    ]


def test_no_personal_data_anywhere(site, project):
    out, _ = site
    db = open_db(project / "contacts.db")
    addresses = [row[0] for row in db.execute("SELECT email FROM contacts")]
    assert len(addresses) == 3
    # The built web page does carry the directory with addresses: the archive must not.
    assert "jane.doe@unicef.example" in (project / "issues/2026-Q4/build/web.html").read_text()
    blob = b"\n".join(files(out).values()).decode("utf-8").lower()
    for address in addresses:
        assert address.lower() not in blob
    for _, _, _, phone in PEOPLE:
        assert not phone or phone not in blob
    assert "%%" not in blob


def test_directory_page_lists_people_and_seats_to_fill(site):
    out, _ = site
    page = (out / "directory.html").read_text()
    assert "Jane Doe" in page and "Omar Haddad" in page
    assert "World Food Programme" not in page  # only what is in the database
    needs = page.split('id="needs-update"')[1]
    # Its only focal point bounced: the seat is still theirs, to be replaced.
    assert "WFP" in needs and "Vacant" not in needs
    assert "Lea Soon, WFP (email bounced)" in needs


def test_atom_feed_is_valid(site):
    out, _ = site
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "The UN-Business Focal Point"
    assert [e.id for e in feed.entries] == [
        "https://focalpoint.example.org/2026-Q4/",
        "https://focalpoint.example.org/2026-Q3/",
    ]
    assert [e.link for e in feed.entries] == ["2026-Q4/index.html", "2026-Q3/index.html"]
    assert feed.entries[0].updated == "2026-12-15T00:00:00Z"
    assert feed.entries[0].summary.startswith("News, tools and events")


def test_atom_feed_has_what_rfc_4287_requires(site):
    out, _ = site
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.parse(out / "feed.xml").getroot()
    assert feed.tag == f"{atom}feed"
    for element in (feed, *feed.iter(f"{atom}entry")):
        for child in ("id", "title", "updated"):
            assert len(element.findall(f"{atom}{child}")) == 1, (element.tag, child)
        stamp = element.find(f"{atom}updated").text
        assert dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
    assert feed.find(f"{atom}author/{atom}name").text  # so entries need none of their own
    assert feed.find(f"{atom}link[@rel='self']").get("href") == "feed.xml"
    entries = feed.findall(f"{atom}entry")
    assert [e.find(f"{atom}link[@rel='alternate']").get("href") for e in entries] == [
        "2026-Q4/index.html",
        "2026-Q3/index.html",
    ]
    assert len({e.find(f"{atom}id").text for e in entries}) == len(entries)


def test_calendar_files(site):
    out, _ = site
    text = (out / "2026-Q4" / "events.ics").read_bytes().decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith(
        "END:VCALENDAR\r\n"
    )
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert text.count("BEGIN:VEVENT") == 2  # the item without a start date is not an event
    assert "DTSTART;VALUE=DATE:20270323\r\nDTEND;VALUE=DATE:20270325" in text
    assert "DTSTART:20270210T130000Z\r\nDTEND:20270210T140000Z" in text
    assert "SUMMARY:Webinar: screening\\, step by step" in text
    assert "UID:2026-Q4-meeting@example.org" in text
    one = (out / "2026-Q4" / "event-meeting.ics").read_text()
    assert one.count("BEGIN:VEVENT") == 1
    page = (out / "2026-Q4" / "index.html").read_text()
    # Each event's own "When" line links its .ics (relative in the archive); the
    # archive adds no second one, and its calendar card uses the same dates.
    assert page.count("Add to calendar</a>") == 2
    assert page.count('href="../2026-Q4/event-meeting.ics"') == 1
    assert "<strong>When:</strong> 23–24 March 2027<br" in page
    assert "<li>23–24 March 2027: Annual meeting of focal points" in page
    assert "<li>Wednesday 10 February 2027, 14:00–15:00 (UTC+01:00): Webinar" in page
    assert not (out / "2026-Q3" / "events.ics").exists()


def test_refuses_to_replace_a_folder_it_did_not_make(project):
    make_issue(project)
    (project / "site").mkdir()
    (project / "site" / "notes.txt").write_text("mine")
    result = cli(project, "archive")
    assert result.exit_code == 1
    assert "exists and was not made by newsletter archive" in result.output
    assert (project / "site" / "notes.txt").read_text() == "mine"
    assert cli(project, "archive", "--out", str(project)).exit_code == 1


def test_no_database_no_issues(project):
    result = cli(project, "archive")
    assert result.exit_code == 0, result.output
    assert "0 issues (none yet)" in result.output
    assert "being updated" in (project / "site" / "directory.html").read_text()
    assert not feedparser.parse((project / "site" / "feed.xml").read_bytes()).bozo


def test_seats_to_fill_with_a_single_issue(project):
    """With no earlier issue there is no "since", yet a bounced focal point still needs
    replacing, whenever they bounced: the standing page lists them."""
    db = open_db(project / "contacts.db")
    for email, name in (("ann@unicef.example", "Ann Stay"), ("bob@unicef.example", "Bob Gone")):
        create_contact(db, Contact(email=email, name=name, organisation="UNICEF"), "t", "t")
    mark_bounced(db, "bob@unicef.example", at="2025-01-10T09:00:00+00:00")
    make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "directory.html").read_text()
    needs = page.split('id="needs-update"')[1]
    assert "Bob Gone, UNICEF (email bounced)" in needs
    assert "Vacant" not in needs  # Ann is still there


def test_user_mistakes_are_one_line_not_a_traceback(project):
    make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    (project / "blocker").write_text("a file, not a folder")
    result = cli(project, "archive", "--out", str(project / "blocker" / "site"))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {project / 'blocker' / 'site'}: cannot write the site")
    (project / "issues/2026-Q4/build/web.html").write_bytes(b"\xff\xfe not UTF-8")
    result = cli(project, "archive")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "skipped 2026-Q4: issues/2026-Q4/build/web.html cannot be read: not UTF-8 text"
        " (build it again with: newsletter build 2026-Q4)"
    )


ARCHIVE_NAV = re.compile(r"<nav\b[^>]*\baria-label=.Archive.")


def test_every_page_has_one_archive_nav(site):
    """The house frame carries the nav; public_page must not add a second one."""
    out, _ = site
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 4
    for page in pages:
        assert len(ARCHIVE_NAV.findall(page.read_text())) == 1, page


def test_a_focal_point_without_a_name_is_not_listed_by_address(project):
    """The web edition falls back to the address; the public page must not."""
    db = open_db(project / "contacts.db")
    nameless = Contact(
        email="no.name@unicef.example",
        organisation="UNICEF",
        job_title="Partnerships Officer",
        phone="+41 22 111 11 11",
        city="Geneva",
    )
    create_contact(db, nameless, "t", "t")
    make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    web = (project / "issues/2026-Q4/build/web.html").read_text()
    assert "<strong>no.name@unicef.example</strong>" in web and "+41 22 111 11 11" in web
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "directory.html").read_text()
    assert "<strong>Name not given</strong><br>Partnerships Officer<br>Geneva</li>" in page
    blob = b"\n".join(files(project / "site").values()).decode("utf-8")
    assert "no.name@" not in blob and "111 11 11" not in blob


@pytest.mark.parametrize(
    ("fields", "lines"),
    [
        ("starts: 2026-12-01\nends: 9999-12-30", ["DTEND;VALUE=DATE:99991231"]),
        ("starts: 0001-01-02 00:30+14:00", ["DTSTART:00010101T103000Z"]),
        ("starts: 9999-12-30 23:59-12:00", ["DTSTART:99991231T115900Z"]),
    ],
)
def test_events_at_the_ends_of_the_calendar_publish(project, fields, lines):
    event = (
        "---\ntitle: Far event\nsection: events\nlink: https://example.org/far\n"
        f"date: 2026-10-05\n{fields}\n---\nX.\n"
    )
    make_issue(project, items={"far.md": event})
    assert cli(project, "build", "2026-Q4").exit_code == 0
    result = cli(project, "archive")
    assert result.exit_code == 0, result.output
    ics = (project / "site" / "2026-Q4" / "events.ics").read_bytes().decode("utf-8")
    for line in lines:
        assert f"\r\n{line}\r\n" in ics


def test_no_address_or_phone_of_any_contact_anywhere_under_the_site(site, project):
    """Seats, vacancies and stale entries on the public page: names, titles, organisations."""
    out, _ = site
    db = open_db(project / "contacts.db")
    with db.atomic():
        for email, name, phone, at in (
            ("kim@unep.example", "Kim Stale", "+254 20 762 1234", "2025-01-05T09:00:00+00:00"),
            ("zed@unep.example", "Zed Left", "+254 20 762 5678", "2026-06-01T09:00:00+00:00"),
        ):
            contact = Contact(email=email, name=name, organisation="UNEP", phone=phone)
            create_contact(db, contact, "t", "t", at)
        mark_left(db, "zed@unep.example", "t", "t", "2026-10-01T09:00:00+00:00")
    result = cli(project, "archive")
    assert result.exit_code == 0, result.output
    blob = b"\n".join(files(out).values()).decode("utf-8").lower()
    rows = db.execute("SELECT email, coalesce(phone, '') FROM contacts").fetchall()
    assert len(rows) == 5
    for email, phone in rows:
        assert email.lower() not in blob
        digits = re.sub(r"\D", "", phone)
        assert not phone or (phone not in blob and digits not in re.sub(r"\D", "", blob))
    page = (out / "directory.html").read_text()
    assert "<li><em>Alternate</em><br>Vacant since 1 October 2026</li>" in page
    assert "<em>Private-sector focal point</em><br><strong>Kim Stale</strong>" in page
    assert "not confirmed" not in blob  # an editor's worry, not the public's


def test_the_archive_page_carries_the_credit_of_a_contribution(project):
    """attribution = true: the public page of the issue says who contributed an item
    (the organisation), never the contributor."""
    with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("attribution = true\n")
    make_issue(
        project,
        items={
            "c.md": "---\ntitle: Contributed\nsection: news\nlink: https://example.org/c\n"
            "date: 2026-10-05\nsource: A UN focal point\ncontributor: Jane Contributor\n"
            "organisation: UNICEF\n---\nA summary.\n"
        },
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "2026-Q4" / "index.html").read_text(encoding="utf-8")
    assert "A UN focal point · Contributed by UNICEF · 5 October 2026" in page
    assert "Jane Contributor" not in page
