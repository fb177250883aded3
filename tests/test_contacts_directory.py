"""newsletter.contacts.directory: who an issue lists, badges, counts, vacancies, and its size."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil

import pytest
from helpers import REPO, cli, make_issue

from newsletter.config import load_settings
from newsletter.contacts.directory import EMAIL_CHANGES, Departure, build_directory
from newsletter.models import Contact
from newsletter.store import ledger, open_db
from newsletter.store.contacts import (
    change_contact,
    create_contact,
    get_contact,
    mark_bounced,
    mark_left,
    organisation_id,
    unsubscribe,
)
from newsletter.store.proposals import set_confirmed

SINCE, UNTIL = dt.date(2026, 9, 15), dt.date(2026, 12, 15)


OLD, NEW = "2026-06-01T09:00:00+00:00", "2026-10-10T09:00:00+00:00"


def person(db, email, org, at=OLD, **values):
    return create_contact(db, Contact(email=email, organisation=org, **values), "test", "t", at)


def store(project):
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(db, "old@unicef.example.org", "UNICEF", name="Olga Old", job_title="Officer")
        person(db, "moved@unicef.example.org", "UNICEF", name="Mo Moved", job_title="Officer")
        change_contact(
            db, get_contact(db, "moved@unicef.example.org"), {"job_title": "Head"}, "test", "t", NEW
        )
        person(db, "topic@unicef.example.org", "UNICEF", name="Ted Topic")
        change_contact(
            db, get_contact(db, "topic@unicef.example.org"), {"topics": "climate"}, "test", "t", NEW
        )
        person(db, "fresh@who.example.org", "WHO", NEW, name="Fay Fresh", phone="+41 22 555 0100")
        person(db, "edge@who.example.org", "WHO", "2026-09-15T00:00:00+00:00", name="Ed Edge")
        person(db, "late@who.example.org", "WHO", "2026-12-16T00:00:00+00:00", name="Lu Late")
        person(db, "hidden@who.example.org", "WHO", NEW, name="Hal Hidden", listed=False)
        person(db, "gone@wmo.example.org", "WMO", name="Gil Gone")
        mark_left(db, "gone@wmo.example.org", "test", "t", NEW)
        person(db, "bounce@ilo.example.org", "ILO", name="Bo Bounce")
        mark_bounced(db, "bounce@ilo.example.org", "send", "t", NEW)
        person(db, "quit@ilo.example.org", "ILO", name="Quinn Quit")
        unsubscribe(db, "quit@ilo.example.org", "link", "t", NEW)
        person(db, "early@ilo.example.org", "ILO", name="Eve Early")
        mark_left(db, "early@ilo.example.org", "test", "t", "2026-08-01T00:00:00+00:00")
        organisation_id(db, "International Trade Centre", "ITC")
    return db


def test_directory_groups_badges_counts_and_vacancies(project):
    db = store(project)
    d = build_directory(db, load_settings(project), SINCE, UNTIL)
    # WMO's focal point left: its seat stays, vacant, so WMO is shown with it.
    assert [g.name for g in d.groups] == ["ILO", "UNICEF", "WHO", "WMO"]
    assert [(e.name, e.label) for g in d.groups for e in g.entries] == [
        ("Quinn Quit", ""),  # unsubscribed from the mail, still the focal point: listed
        ("Mo Moved", "updated: new title"),
        ("Olga Old", ""),
        ("Ted Topic", ""),  # topics are not shown, so not "updated"
        ("Ed Edge", "new"),  # on the previous issue's date: counts
        ("Fay Fresh", "new"),
        ("Lu Late", ""),  # after this issue's date: not this issue's news
    ]
    assert (d.new, d.updated, d.left, d.total) == (2, 1, 2, 7)
    assert (d.organisations, d.total) == (3, 7)  # WMO has a seat but nobody listed
    assert [g.title for g in d.vacant] == ["International Trade Centre (ITC)"]
    assert [(p.name, p.organisation, p.status) for p in d.departures] == [
        ("Bo Bounce", "ILO", "bounced"),
        ("Gil Gone", "WMO", "left"),
    ]
    assert d.groups[2].entries[1].mailto == "mailto:fresh@who.example.org"
    first = build_directory(db, load_settings(project), None, UNTIL)
    assert (first.new, first.updated, first.left) == (0, 0, 0)
    assert not any(e.badge for g in first.groups for e in g.entries)


def two_issues(project):
    make_issue(project, "2026-Q4")
    q3 = make_issue(project, "2026-Q3", items={})
    (q3 / "issue.toml").write_text(
        (q3 / "issue.toml").read_text().replace("2026-12-15", "2026-09-15").replace("7", "6")
    )


def test_build_shows_the_directory_everywhere(project):
    two_issues(project)
    store(project).conn.close()
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    html, text, web = ((out / n).read_text() for n in ("email.html", "email.txt", "web.html"))
    summary = "Changes since 15 September 2026: 2 new, 1 updated, 2 left."
    assert summary in " ".join(text.split())  # wrapped at 78 columns
    for page in (html, web):
        assert "<strong>2 new</strong>, <strong>1 updated</strong>, <strong>2 left</strong>" in page
        assert 'href="mailto:fresh@who.example.org"' in page
        assert "Hal Hidden" not in page and "Eve Early" not in page
        assert "Quinn Quit" in page  # unsubscribing stops the mail, not the listing
        assert "International Trade Centre (ITC)" in page and "Gil Gone, WMO (left)" in page
        assert "Bo Bounce, ILO (email bounced)" in page
    assert "- Fay Fresh [new]\n  fresh@who.example.org · +41 22 555 0100\n" in text
    assert "- Mo Moved [updated: new title]\n  Head\n" in text
    assert json.loads((out / "report.json").read_text())["errors"] == []


def test_hostile_contact_fields_are_escaped(project):
    two_issues(project)
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(
            db,
            "o'brien+x@who.example.org",
            "<script>alert(1)</script>",
            NEW,
            job_title='"><img src=x onerror=alert(1)>',
            phone="%%EMAIL%%",
        )
        person(db, "a?b#c%d@who.example.org", "Query", NEW)
    db.conn.close()
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    for name in ("email.html", "web.html"):
        page = (out / name).read_text()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert 'href="mailto:a%3Fb%23c%25d@who.example.org"' in page
    for name in ("email.html", "email.txt", "web.html"):
        # The footer's own placeholder (HTML: "at %%EMAIL%%", text: on its own line)
        # is the only one: a contact's phone must not become someone's address.
        footer = "at %%EMAIL%%" if name.endswith("html") else "address:\n%%EMAIL%%\n"
        assert "%%EMAIL%%" not in (out / name).read_text().replace(footer, "", 1)


def test_a_large_directory_moves_to_the_web_page(project):
    two_issues(project)
    db = open_db(project / "contacts.db")
    with db.atomic():
        for n in range(1500):
            at = NEW if n % 100 == 0 else OLD
            person(
                db,
                f"person{n}@agency{n % 60}.example.org",
                f"Agency {n % 60}",
                at,
                name=f"Person Number {n}",
                job_title="Private Sector Partnerships Specialist",
                phone="+41 22 555 0100",
            )
    db.conn.close()
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    html, text, web = ((out / n).read_text() for n in ("email.html", "email.txt", "web.html"))
    report = json.loads((out / "report.json").read_text())
    assert report["size_kb"] < 100 and report["errors"] == []
    link = "https://focalpoint.example.org/2026-Q4/#directory"
    for part in (html, text):
        assert "1500 focal points in 60 organisations" in part
        assert "Person Number 100" in part  # a new one: listed with the changes
        assert "Person Number 101" not in part
        assert link in part
    assert "Person Number 101" in web and web.count("mailto:person") == 1500
    assert all('role="presentation"' in t for t in re.findall(r"<table[^>]*>", html))


def test_without_a_database_the_email_links_to_the_web_page(project):
    make_issue(project)
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert not (project / "contacts.db").exists()
    text = (project / "issues/2026-Q4/build/email.txt").read_text()
    assert "https://focalpoint.example.org/2026-Q4/#directory" in text


def test_the_sample_shows_new_updated_left_and_vacant(tmp_path):
    copy = tmp_path / "sample"
    for name in ("2026-Q3", "2026-Q4"):
        shutil.copytree(
            REPO / "issues" / name, copy / "issues" / name, ignore=shutil.ignore_patterns("build")
        )
    shutil.copytree(REPO / "templates", copy / "templates")
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    shutil.copy(REPO / "contacts.db", copy / "contacts.db")
    result = cli(copy, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    text = (copy / "issues/2026-Q4/build/email.txt").read_text()
    flat = " ".join(text.split())  # wrapped at 78 columns
    assert "Changes since 15 September 2026: 4 new, 5 updated, 3 left." in flat
    assert text.count("[new]") == 4 and text.count("[updated: ") == 5
    # WMO's only focal point left: its seat stays, vacant and aged; ITC never had one.
    assert "Vacant ------ No focal point is listed for: International Trade Centre (ITC)." in flat
    assert "Private-sector focal point: - Vacant since 20 October 2026 (56 days)" in flat
    assert "Maya Sato (email bounced: needs an update)" in flat
    assert "- Henrik Solberg, World Meteorological Organization (left)" in flat
    assert "- Maya Sato, United Nations Capital Development Fund (email bounced)" in flat
    # Unsubscribed from the mail, not from the role: listed, with no word about it.
    assert "- Erik Strand\n  Partnerships Analyst\n" in text
    db = open_db(copy / "contacts.db")
    addresses = [e for (e,) in db.execute("SELECT email FROM contacts")]
    assert len(addresses) >= 60 and all(a.endswith(".example.org") for a in addresses)
    assert db.execute("SELECT count(*) FROM organisations").fetchone()[0] >= 20


def test_a_bouncing_address_needs_an_update_even_without_a_previous_issue(project):
    db = store(project)
    first = build_directory(db, load_settings(project), None, UNTIL)
    assert first.left == 0  # nothing "changed" without a previous issue to compare with
    assert [(d.name, d.status, d.recent) for d in first.departures] == [
        ("Bo Bounce", "bounced", False)
    ]
    later = build_directory(db, load_settings(project), dt.date(2026, 11, 1), UNTIL)
    assert later.left == 0 and [d.name for d in later.departures] == ["Bo Bounce"]


def test_a_long_list_of_changes_is_cut_short_in_the_email(project):
    two_issues(project)
    store = open_db(project / "contacts.db")
    with store.atomic():
        for n in range(600):
            person(
                store,
                f"person{n}@agency{n % 30}.example.org",
                f"Agency {n % 30}",
                NEW if n < 500 else OLD,
                name=f"Person Number {n}",
                job_title="Private Sector Partnerships Specialist",
            )
        for n in range(500, 560):
            mark_left(store, f"person{n}@agency{n % 30}.example.org", "test", "t", NEW)
    store.conn.close()
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    text = " ".join((out / "email.txt").read_text().split())
    html = (out / "email.html").read_text()
    assert "Changes since 15 September 2026: 500 new, 0 updated, 60 left." in text
    assert text.count("[new]") == EMAIL_CHANGES
    assert f"And {500 - EMAIL_CHANGES} more new or updated focal points." in text
    assert f"And {60 - EMAIL_CHANGES} more, on the web edition." in text
    assert f"And {500 - EMAIL_CHANGES} more new or updated focal points." in html
    assert (out / "web.html").read_text().count("mailto:person") == 540


def test_a_nameless_departure_is_counted_without_its_address(project):
    store = open_db(project / "contacts.db")
    with store.atomic():
        person(store, "anon@wmo.example.org", "WMO")
        mark_left(store, "anon@wmo.example.org", "test", "t", NEW)
    directory = build_directory(store, load_settings(project), SINCE, UNTIL)
    store.conn.close()
    assert directory.departures == (Departure("A focal point", "WMO", "left"),)


# -- the period: since the previous issue's send, else its build, else its date ----------

SEND_DONE = "2026-09-12T09:12:40+00:00"  # 2026-Q3 (dated 2026-09-15) went out early


def early_changes(project):
    """Two changes after 2026-Q3 went out early, before its date: lost by a date rule."""
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(db, "keep@unicef.example.org", "UNICEF", OLD, name="Kim Keep", phone="+41 1")
        person(db, "early@who.example.org", "WHO", "2026-09-13T10:00:00+00:00", name="Eli Early")
        change_contact(
            db,
            get_contact(db, "keep@unicef.example.org"),
            {"phone": "+41 2"},
            "t",
            "t",
            "2026-09-14T08:00:00+00:00",
        )
    return db


def mark_sent(db, issue, sender, at):
    ledger.snapshot(db, issue, sender, issue, "example.org")
    db.execute(
        "UPDATE deliveries SET status = 'sent', sent_at = ? WHERE issue = ? AND sender = ?",
        [at, issue, sender],
    )


def set_built(project, issue, when):
    path = project / "issues" / issue / "build" / "report.json"
    data = json.loads(path.read_text())
    data["built"] = when
    path.write_text(json.dumps(data))


def build_lines(project):
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "irectory changes" in line]
    text = " ".join((project / "issues/2026-Q4/build/email.txt").read_text().split())
    counts = re.search(r"Changes since [^:]+: (\d+) new, (\d+) updated", text)
    return lines, (int(counts[1]), int(counts[2])) if counts else None


def test_changes_since_the_previous_issues_send_finished(project):
    two_issues(project)
    db = early_changes(project)
    mark_sent(db, "2026-Q3", "smtp", SEND_DONE)
    mark_sent(db, "2026-Q3", "outbox", "2026-09-14T23:00:00+00:00")  # a rehearsal: not a send
    db.conn.close()
    lines, counts = build_lines(project)
    assert lines == ["Directory changes since 2026-09-12 09:12 UTC, when 2026-Q3's send finished."]
    assert counts == (1, 1)  # Eli Early new, Kim Keep's new phone: both after the send


def test_a_send_after_its_date_counts_from_its_date(project):
    two_issues(project)
    db = early_changes(project)
    mark_sent(db, "2026-Q3", "smtp", "2026-09-20T10:00:00+00:00")
    db.conn.close()
    lines, counts = build_lines(project)
    assert lines == [
        "Directory changes since 2026-09-15, 2026-Q3's date (its send finished later, "
        "2026-09-20 10:00 UTC)."
    ]
    assert counts == (0, 0)  # before its date: 2026-Q3's own directory counted them


def test_never_sent_counts_since_its_build_with_a_warning(project):
    two_issues(project)
    early_changes(project).conn.close()
    assert cli(project, "build", "2026-Q3").exit_code == 0
    set_built(project, "2026-Q3", "2026-09-11T16:05:09+00:00")
    lines, counts = build_lines(project)
    assert lines == [
        "warning: 2026-Q3 was never sent: directory changes since 2026-09-11 16:05 UTC, "
        "when it was last built."
    ]
    assert counts == (1, 1)
    # Rebuilt after its date: from its date, and the warning says when it was built.
    set_built(project, "2026-Q3", "2026-11-30T10:00:00+00:00")
    lines, _ = build_lines(project)
    assert lines == [
        "warning: 2026-Q3 was never sent: directory changes since 2026-09-15, its date "
        "(it was last built later, 2026-11-30 10:00 UTC)."
    ]


def test_never_sent_nor_built_counts_since_its_date_with_a_warning(project):
    two_issues(project)
    early_changes(project).conn.close()
    lines, counts = build_lines(project)
    assert lines == [
        "warning: 2026-Q3 was never sent or built: directory changes since 2026-09-15, its date."
    ]
    assert counts == (0, 0)


def test_the_first_issue_prints_no_period(project):
    make_issue(project)
    early_changes(project).conn.close()
    assert build_lines(project) == ([], None)


def test_a_build_report_without_its_time_is_dated_by_its_file(project):
    from newsletter.build import built_at

    two_issues(project)
    assert built_at(project / "issues/2026-Q3") is None
    assert cli(project, "build", "2026-Q3").exit_code == 0
    report = project / "issues/2026-Q3/build/report.json"
    recorded = built_at(project / "issues/2026-Q3")
    assert recorded is not None and recorded.tzinfo == dt.UTC
    data = json.loads(report.read_text())
    del data["built"]
    report.write_text(json.dumps(data))
    os.utime(report, (1_757_000_000, 1_757_000_000))
    assert built_at(project / "issues/2026-Q3") == dt.datetime(
        2025, 9, 4, 15, 33, 20, tzinfo=dt.UTC
    )


# -- "updated" says what changed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("edits", "label"),
    [
        ([{"phone": "+41 2"}], "updated: new phone"),
        ([{"job_title": "Head"}], "updated: new title"),
        ([{"email": "kim.keep@unicef.example.org"}], "updated: new email"),
        ([{"name": "Kim K. Keep"}], "updated: new name"),
        ([{"organisation": "WHO"}], "updated: new organisation"),
        ([{"city": "Nairobi", "country": "Kenya"}], "updated: new location"),
        ([{"phone": "+41 2"}, {"job_title": "Head"}], "updated: new title, new phone"),
        ([{"phone": "+41 2"}, {"phone": "+41 1"}], ""),  # changed and changed back: nothing
        ([{"topics": "climate"}], ""),  # not shown, so not news
    ],
)
def test_updated_says_what_changed(project, edits, label):
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(
            db,
            "keep@unicef.example.org",
            "UNICEF",
            OLD,
            name="Kim Keep",
            phone="+41 1",
            job_title="Officer",
            city="Geneva",
            country="Switzerland",
        )
        for n, edit in enumerate(edits):
            contact = get_contact(db, "keep@unicef.example.org") or get_contact(db, edit["email"])
            change_contact(db, contact, edit, "t", "t", f"2026-10-1{n}T09:00:00+00:00")
    d = build_directory(db, load_settings(project), SINCE, UNTIL)
    [entry] = [e for g in d.groups for e in g.entries]
    assert (entry.label, d.updated) == (label, 1 if label else 0)


def test_what_changed_is_shown_in_every_part(project):
    two_issues(project)
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(db, "keep@unicef.example.org", "UNICEF", OLD, name="Kim Keep", phone="+41 1")
        change_contact(
            db, get_contact(db, "keep@unicef.example.org"), {"phone": "+41 2"}, "t", "t", NEW
        )
    db.conn.close()
    assert cli(project, "build", "2026-Q4").exit_code == 0
    out = project / "issues/2026-Q4/build"
    assert "- Kim Keep [updated: new phone]\n" in (out / "email.txt").read_text()
    assert (
        '<strong class="nl-badge">(updated: new phone)</strong>' in (out / "email.html").read_text()
    )
    assert '<span class="badge">updated: new phone</span>' in (out / "web.html").read_text()


# -- seats, vacancies and stale entries ---------------------------------------------


def seated(project):
    """UNDP: three seats (one vacant since 12 March); UNEP: its only seat vacant; ITC: none."""
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(db, "ana@undp.example.org", "UNDP", "2025-03-04T09:00:00+00:00", name="Ana Holder")
        person(db, "ben@undp.example.org", "UNDP", "2024-01-10T09:00:00+00:00", name="Ben Alt")
        set_confirmed(db, get_contact(db, "ben@undp.example.org").id, "2026-11-01T10:00:00+00:00")
        person(db, "cy@undp.example.org", "UNDP", OLD, name="Cy Left")
        mark_left(db, "cy@undp.example.org", "test", "t", "2026-03-12T08:00:00+00:00")
        person(db, "dee@unep.example.org", "UNEP", OLD, name="Dee Gone", job_title="Chief")
        mark_left(db, "dee@unep.example.org", "test", "t", "2026-12-14T08:00:00+00:00")
        organisation_id(db, "International Trade Centre", "ITC")
    return db


def test_each_organisation_shows_its_seats_in_role_order(project):
    d = build_directory(seated(project), load_settings(project), SINCE, UNTIL)
    assert [
        (
            g.name,
            [(s.role, s.entry.name if s.entry else None, s.vacant_since, s.age) for s in g.seats],
        )
        for g in d.groups
    ] == [
        (
            "UNDP",
            [
                ("Private-sector focal point", "Ana Holder", None, "0 days"),
                ("Alternate", "Ben Alt", None, "0 days"),
                ("Alternate 2", None, dt.date(2026, 3, 12), "9 months"),
            ],
        ),
        ("UNEP", [("Private-sector focal point", None, dt.date(2026, 12, 14), "1 day")]),
    ]
    assert [g.title for g in d.vacant] == ["International Trade Centre (ITC)"]  # no seat at all
    assert (d.total, d.organisations) == (2, 1)
    assert [(g.name, s.role, s.age_days) for g, s in d.vacant_seats] == [
        ("UNDP", "Alternate 2", 278),
        ("UNEP", "Private-sector focal point", 1),
    ]


@pytest.mark.parametrize(
    ("created", "confirmed", "today", "stale"),
    [
        ("2025-03-04T09:00:00+00:00", None, dt.date(2026, 12, 15), "2025-03"),  # never confirmed
        ("2024-01-10T09:00:00+00:00", "2026-11-01T10:00:00+00:00", dt.date(2026, 12, 15), ""),
        ("2025-12-15T09:00:00+00:00", None, dt.date(2026, 12, 15), ""),  # exactly 12 months
        ("2025-12-14T23:00:00+00:00", None, dt.date(2026, 12, 15), "2025-12"),
        ("2024-01-10T09:00:00+00:00", "2025-02-28T10:00:00+00:00", dt.date(2026, 2, 28), ""),
        ("2024-01-10T09:00:00+00:00", "2025-02-27T10:00:00+00:00", dt.date(2026, 2, 28), "2025-02"),
    ],
)
def test_an_entry_unconfirmed_for_over_a_year_is_marked(project, created, confirmed, today, stale):
    db = open_db(project / "contacts.db")
    with db.atomic():
        person(db, "p@undp.example.org", "UNDP", created, name="Pat")
        if confirmed:
            set_confirmed(db, get_contact(db, "p@undp.example.org").id, confirmed)
    d = build_directory(db, load_settings(project), None, today)
    (entry,) = d.groups[0].entries
    assert (entry.stale, entry.mark) == (stale, f"not confirmed since {stale}" if stale else "")


def test_seats_vacancies_and_marks_in_every_part(project):
    two_issues(project)
    seated(project).conn.close()
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    html, text, web = ((out / n).read_text() for n in ("email.html", "email.txt", "web.html"))
    assert (
        "UNDP\n----\nPrivate-sector focal point:\n- Ana Holder\n"
        "  ana@undp.example.org\n  (not confirmed since 2025-03)\n"
        "Alternate:\n- Ben Alt\n  ben@undp.example.org\n"
        "Alternate 2:\n- Vacant since 12 March 2026 (9 months)\n\n"
        "UNEP\n----\nPrivate-sector focal point:\n- Vacant since 14 December 2026 (1 day)\n"
    ) in text
    assert "No focal point is listed for: International Trade Centre (ITC)." in text
    assert "<em>Alternate 2</em><br />Vacant since 12 March 2026 (9 months)</p>" in html
    assert "<br /><em>(not confirmed since 2025-03)</em></p>" in html
    assert "<li><em>Alternate 2</em><br>Vacant since 12 March 2026 (9 months)</li>" in web
    assert "<li>UNDP: Alternate 2, vacant since 12 March 2026 (9 months)</li>" in web
    assert "2 focal points in 1 organisation." in html


def test_the_compact_email_keeps_its_limit_and_the_seats(project):
    db = seated(project)
    with db.atomic():  # a newcomer takes UNDP's longest-vacant seat
        person(db, "eli@undp.example.org", "UNDP", NEW, name="Eli New")
    d = build_directory(db, load_settings(project), SINCE, UNTIL)
    assert [(s.role, s.entry and s.entry.label) for s in d.groups[0].seats] == [
        ("Private-sector focal point", ""),
        ("Alternate", ""),
        ("Alternate 2", "new"),
    ]
    short = d.compact()
    assert (short.full_in_email, short.limit, d.full_in_email, d.limit) == (
        False,
        EMAIL_CHANGES,
        True,
        None,
    )
    assert [e.name for g in short.changed for e in g.entries] == ["Eli New"]
    assert short.groups == d.groups and short.vacant_seats == d.vacant_seats
