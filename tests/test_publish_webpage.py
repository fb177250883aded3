"""newsletter.publish.webpage: an issue's web page made public: no markers, one nav, calendar links."""

from __future__ import annotations

import re

from helpers import cli, make_issue


def test_unsubscribe_markers_are_removed(project):
    folder = make_issue(project)
    # An issue's web page may carry per-recipient markers in its own footer.
    web = project / "templates" / "web.html.j2"
    web.write_text(
        web.read_text() + "{% block footer %}<footer><p>Not for you, {{ placeholders.name }}? "
        '<a href="{{ placeholders.unsubscribe_url }}">Unsubscribe</a>.</p>\n'
        '<p><a href="{{ issue_url }}">This issue online</a></p></footer>{% endblock %}\n'
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert "%%UNSUBSCRIBE_URL%%" in (folder / "build" / "web.html").read_text()
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "2026-Q4" / "index.html").read_text()
    assert "%%" not in page and "Unsubscribe" not in page
    assert '<a href="../2026-Q4/index.html">This issue online</a>' in page


def test_the_archive_page_carries_no_personal_link(project):
    folder = make_issue(project)
    web = project / "templates" / "web.html.j2"
    web.write_text(
        web.read_text() + "{% block footer %}<footer><p>"
        '<a href="{{ placeholders.entry_url }}">Check your entry</a> · '
        '<a href="{{ placeholders.members_url }}">Focal points\' directory</a></p>\n'
        "<p>You hold {{ placeholders.job_title }} in {{ placeholders.city }}.</p>\n"
        '<p><a href="{{ issue_url }}">This issue online</a></p></footer>{% endblock %}\n'
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert "%%ENTRY_URL%%" in (folder / "build" / "web.html").read_text()
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "2026-Q4" / "index.html").read_text()
    assert "%%" not in page and "/entry/" not in page and "/members/" not in page
    assert "Check your entry" not in page and "You hold  in ." in page


ARCHIVE_NAV = re.compile(r"<nav\b[^>]*\baria-label=.Archive.")


def test_a_page_without_the_house_frame_still_gets_the_archive_nav(project):
    folder = make_issue(project)
    (folder / "templates").mkdir()
    (folder / "templates" / "web.html.j2").write_text(
        "<!doctype html>\n<html><body>\n<main><h1>{{ issue.title }}</h1></main>\n</body></html>\n"
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "2026-Q4" / "index.html").read_text()
    assert len(ARCHIVE_NAV.findall(page)) == 1
    assert page.index("<body>") < page.index('<a href="../index.html">All issues</a>')


def test_a_news_item_that_shares_an_events_title_gets_no_calendar_link(project):
    same = "---\ntitle: Partnering skills\nsection: {section}\nlink: https://example.org/{n}\n"
    make_issue(
        project,
        items={
            "news.md": same.format(section="news", n=1) + "date: 2026-11-02\n---\nA report.\n",
            "course.md": same.format(section="events", n=2)
            + "starts: 2027-02-01\n---\nA course.\n",
        },
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "2026-Q4" / "index.html").read_text()
    news = page.split('id="news"')[1].split("</section>")[0]
    events = page.split('id="events"')[1].split("</section>")[0]
    assert "Add to calendar" not in news
    assert events.count("Add to calendar</a>") == 1
