"""newsletter.build.render: the text part, house and issue templates, template and MJML errors."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from helpers import cli, item, make_issue

from newsletter.build.render import byline, dayname, event_when
from newsletter.models import Item
from newsletter.schema import zone_of


def test_text_part_holds_every_title_and_link_unbroken(project):
    long_url = "https://example.org/" + "a-very-long-path-segment/" * 5 + "end"
    make_issue(
        project,
        items={
            "one.md": item(
                "First item with a rather long title that will need wrapping at "
                "seventy-eight columns for sure"
            ),
            "two.md": item("Second", link=long_url),
            "three.md": item("Third", section="events"),
        },
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    text = (project / "issues/2026-Q4/build/email.txt").read_text()
    flat = " ".join(text.split())
    for title in ("First item with a rather long title", "Second", "Third"):
        assert title in flat
    assert f"] {long_url}\n" in text  # listed whole, never split
    assert "https://example.org/Third" in text
    for line in text.splitlines():
        assert len(line) <= 78 or line.split()[-1].startswith("https://"), line
    assert "Events & training" in text and "&amp;" not in text


def test_issue_template_overrides_house_template(project):
    folder = make_issue(project)
    (folder / "templates").mkdir()
    house = (project / "templates/_footer.mjml.j2").read_text()
    (folder / "templates/_footer.mjml.j2").write_text(
        house.replace(
            "<p>{{ settings.from_name }},", "<p>Special edition footer. {{ settings.from_name }},"
        )
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert "Special edition footer." in (folder / "build/email.html").read_text()
    other = make_issue(project, "2027-Q1")
    assert cli(project, "build", "2027-Q1").exit_code == 0
    assert "Special edition footer." not in (other / "build/email.html").read_text()


def test_template_error_names_template_and_line(project):
    make_issue(project)
    path = project / "templates/_toc.mjml.j2"
    lines = path.read_text().splitlines()
    lines[3] = "      <h2>{{ no_such_variable }}</h2>"
    path.write_text("\n".join(lines) + "\n")
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 1
    assert result.output == (
        "Error: templates/_toc.mjml.j2:4: 'no_such_variable' is undefined. Fix the template.\n"
    )


def test_template_syntax_error(project):
    make_issue(project)
    (project / "templates/_toc.mjml.j2").write_text("line one\n{% if %}\n")
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.startswith("Error: templates/_toc.mjml.j2:2: ")


def test_mjml_error_points_at_template_line(project):
    make_issue(project)
    path = project / "templates/_intro.mjml.j2"
    path.write_text(path.read_text().replace("  </mj-column>\n", "", 1))
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.startswith("Error: templates/_intro.mjml.j2:"), result.output
    assert "MJML error" in result.output
    assert not (project / "issues/2026-Q4/build/email.html").exists()
    assert (project / "issues/2026-Q4/build/email.mjml").exists()  # kept for debugging


@pytest.mark.parametrize(
    ("language", "direction"), [("en", "ltr"), ("ar-EG", "rtl"), ("fa", "rtl")]
)
def test_the_email_and_web_page_state_the_direction_of_the_language(project, language, direction):
    """Found: dir="auto" lets a client guess from the first letters (a name, a number)."""
    path = project / "pyproject.toml"
    text = re.sub(r'(?m)^language = ".*"\n', "", path.read_text())
    path.write_text(
        text.replace("[tool.newsletter]\n", f'[tool.newsletter]\nlanguage = "{language}"\n', 1)
    )
    make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    build = project / "issues/2026-Q4/build"
    for name in ("email.html", "web.html"):
        head = re.search(r"<html[^>]*>", (build / name).read_text())[0]
        assert f'lang="{language}"' in head and f'dir="{direction}"' in head, (name, head)


URL = "https://example.org/" + "segment/" * 10  # 100 characters
ADDRESS = "x" * 40 + "@" + "d" * 60 + ".org"


@pytest.mark.parametrize(
    ("line", "lines"),
    [
        ("Dear Jane Doe,", ["Dear Jane Doe,"]),  # fits: as it is, spacing kept
        ("Dear  Jane,", ["Dear  Jane,"]),
        ("Dear " + "Ann " * 20 + "Lee,", ["Dear" + " Ann" * 18, "Ann Ann Lee,"]),
        ("Dear " + "A" * 100 + ",", ["Dear", "A" * 78, "A" * 22 + ","]),  # cut: no line fits it
        ("Unsubscribe: " + URL, ["Unsubscribe:", URL]),  # a URL is never cut
        (ADDRESS, [ADDRESS]),  # nor an address
        ("  " + "word " * 20, ["  " + "word " * 14 + "word", "  " + "word " * 4 + "word"]),
    ],
)
def test_a_line_is_wrapped_only_when_it_does_not_fit(line, lines):
    """Issue 11: `send` puts a long name into the greeting; the line is laid out again."""
    from newsletter.build.render import fit

    assert fit(line).split("\n") == lines


def test_a_long_word_in_the_text_part_is_cut_and_a_url_is_not(project):
    word = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
    make_issue(project, items={"one.md": item(f"The {word} report", link=URL * 2)})
    assert cli(project, "build", "2026-Q4").exit_code == 0
    lines = (project / "issues/2026-Q4/build/email.txt").read_text().splitlines()
    assert max(len(line) for line in lines if "https://" not in line) <= 78
    assert "The" in lines and word[:78] in lines and f"[1] {URL * 2}" in lines


# -- events: when and where, in all three outputs ------------------------------------

ZURICH = ZoneInfo("Europe/Zurich")
PLUS2 = dt.timezone(dt.timedelta(hours=2))


def event(starts, ends=None, **fields) -> Item:
    return Item("ev", "Event", "events", "", starts=starts, ends=ends, **fields)


@pytest.mark.parametrize(
    ("starts", "ends", "shown"),
    [
        # one day, a start and an end, a named zone: its city
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=ZURICH),
            dt.datetime(2027, 4, 20, 12, 0, tzinfo=ZURICH),
            "Tuesday 20 April 2027, 09:30–12:00 (Zurich time)",
        ),
        # a duty station the zone database names by another city: the station's name
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=zone_of("Europe/Geneva")),
            dt.datetime(2027, 4, 20, 12, 0, tzinfo=zone_of("Europe/Geneva")),
            "Tuesday 20 April 2027, 09:30–12:00 (Geneva time)",
        ),
        # only an offset: the offset
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=PLUS2),
            dt.datetime(2027, 4, 20, 12, 0, tzinfo=PLUS2),
            "Tuesday 20 April 2027, 09:30–12:00 (UTC+02:00)",
        ),
        # an end in another offset is shown in the start's
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=PLUS2),
            dt.datetime(2027, 4, 20, 10, 0, tzinfo=dt.UTC),
            "Tuesday 20 April 2027, 09:30–12:00 (UTC+02:00)",
        ),
        (
            dt.datetime(
                2027, 4, 20, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))
            ),
            None,
            "Tuesday 20 April 2027, 09:30 (UTC-05:30)",
        ),
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=dt.UTC),
            None,
            "Tuesday 20 April 2027, 09:30 (UTC)",
        ),
        # zones that name no city
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=ZoneInfo("UTC")),
            None,
            "Tuesday 20 April 2027, 09:30 (UTC)",
        ),
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=ZoneInfo("Etc/GMT+5")),
            None,
            "Tuesday 20 April 2027, 09:30 (UTC-05:00)",
        ),
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=ZoneInfo("America/New_York")),
            None,
            "Tuesday 20 April 2027, 09:30 (New York time)",
        ),
        # floating: no zone, no label
        (dt.datetime(2027, 4, 20, 9, 30), None, "Tuesday 20 April 2027, 09:30"),
        # no end: only the start
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=ZURICH),
            None,
            "Tuesday 20 April 2027, 09:30 (Zurich time)",
        ),
        # timed over several days
        (
            dt.datetime(2027, 4, 20, 9, 30, tzinfo=ZURICH),
            dt.datetime(2027, 4, 22, 17, 0, tzinfo=ZURICH),
            "20 April 2027, 09:30 – 22 April 2027, 17:00 (Zurich time)",
        ),
        # all day: no time
        (dt.date(2027, 4, 20), None, "Tuesday 20 April 2027"),
        (dt.date(2027, 4, 20), dt.date(2027, 4, 20), "Tuesday 20 April 2027"),
        (dt.date(2027, 4, 20), dt.date(2027, 4, 22), "20–22 April 2027"),
        (dt.date(2027, 4, 30), dt.date(2027, 5, 2), "30 April – 2 May 2027"),
        (dt.date(2027, 12, 30), dt.date(2028, 1, 2), "30 December 2027 – 2 January 2028"),
        # a start with a time and an end without one: the days, as the .ics has them
        (dt.datetime(2027, 4, 20, 9, 30, tzinfo=ZURICH), dt.date(2027, 4, 21), "20–21 April 2027"),
    ],
)
def test_when_an_event_happens(starts, ends, shown):
    assert event_when(event(starts, ends)) == shown


def test_an_item_that_is_no_event_has_no_when():
    assert event_when(Item("a", "A", "news", "")) == ""


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"source": "OHCHR", "date": dt.date(2027, 3, 1)}, "OHCHR · 1 March 2027"),
        ({"date": dt.date(2027, 3, 1)}, "1 March 2027"),
        ({"source": "OHCHR"}, "OHCHR"),
        # An event's filing date would read as the day it happens (finding 2).
        ({"source": "OHCHR", "date": dt.date(2027, 3, 1), "starts": dt.date(2027, 4, 20)}, "OHCHR"),
        ({"date": dt.date(2027, 3, 1), "starts": dt.date(2027, 4, 20)}, ""),
    ],
)
def test_byline(fields, shown):
    assert byline(Item("a", "A", "news", "", **fields)) == shown


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        (
            {"source": "OHCHR", "organisation": "UNICEF", "date": dt.date(2027, 3, 1)},
            "OHCHR · Contributed by UNICEF · 1 March 2027",
        ),
        # The source that names the organisation again is not repeated.
        ({"source": "unicef", "organisation": "UNICEF"}, "Contributed by UNICEF"),
        ({"organisation": "UNICEF", "starts": dt.date(2027, 4, 20)}, "Contributed by UNICEF"),
        ({"source": "OHCHR", "contributor": "Jane Doe"}, "OHCHR"),  # never a person
        # Untrusted: one line, no marker, bounded.
        ({"organisation": "A\nB\u202e %%NAME%%"}, "Contributed by A B %\u200d%NAME%\u200d%"),
        ({"organisation": "%\u200d%NAME%%"}, "Contributed by %\u200d%NAME%\u200d%"),
        ({"organisation": "x" * 500}, "Contributed by " + "x" * 80),
        ({"organisation": " \n "}, ""),
    ],
)
def test_byline_credits_the_organisation_with_attribution(fields, shown):
    item = Item("a", "A", "news", "", **fields)
    assert byline(item, attribution=True) == shown
    assert "Contributed" not in byline(item)  # off by default


EVENT = """\
---
title: Human rights due diligence & business
section: events
link: https://example.org/hrdd
date: 2026-11-01
source: OHCHR
starts: 2027-04-20 09:30
ends: 2027-04-20 12:00
timezone: Europe/Zurich
location: Online
location_url: https://example.org/join?id=1&pw=2
---
A morning of cases.
"""
ALL_DAY = """\
---
title: Annual meeting
section: events
link: https://example.org/meeting
date: 2026-11-02
starts: 2027-04-20
ends: 2027-04-22
location: Palais des Nations, Geneva
---
Three days.
"""


class Paragraphs(HTMLParser):
    """The text of each <p>, and the href of each link in it, as a reader sees them."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[str]]] = []
        self.depth = 0
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            self.depth += 1
            self.found.append(("", []))
        elif tag == "br" and self.depth:
            self._add(" | ")
        elif tag == "a" and self.depth:
            self.found[-1][1].append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self._add(data)

    def _add(self, text: str) -> None:
        words, links = self.found[-1]
        self.found[-1] = (words + text, links)

    def about(self, needle: str) -> list[tuple[str, list[str]]]:
        return [(" ".join(t.split()), links) for t, links in self.found if needle in t]


@pytest.fixture
def events(project):
    make_issue(project, items={"hrdd.md": EVENT, "meeting.md": ALL_DAY, "one.md": item("News")})
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    return project / "issues/2026-Q4/build"


def test_events_in_the_text_part(events):
    text = (events / "email.txt").read_text()
    urls = dict(re.findall(r"^\[(\d+)\] (\S+)$", text, re.M))
    start = text.index("Human rights due diligence & business [")
    lines = text[start:].splitlines()[:6]
    refs = [re.search(r"\[(\d+)\]$", line) for line in lines]
    assert [re.sub(r"\[\d+\]$", "[n]", line) for line in lines] == [
        "Human rights due diligence & business [n]",
        "OHCHR",
        "When: Tuesday 20 April 2027, 09:30–12:00 (Zurich time)",
        "Where: Online [n]",
        "Add to calendar: [n]",
        "A morning of cases.",
    ]
    assert [urls[r[1]] for r in refs if r] == [
        "https://example.org/hrdd",
        "https://example.org/join?id=1&pw=2",
        "https://focalpoint.example.org/2026-Q4/event-hrdd.ics",
    ]
    start = text.index("Annual meeting [")
    when, where, calendar = text[start:].splitlines()[1:4]
    assert (when, where) == ("When: 20–22 April 2027", "Where: Palais des Nations, Geneva")
    number = re.fullmatch(r"Add to calendar: \[(\d+)\]", calendar)
    assert number and urls[number[1]] == "https://focalpoint.example.org/2026-Q4/event-meeting.ics"
    assert "1 November 2026" not in text and "2 November 2026" not in text


@pytest.mark.parametrize("page", ["email.html", "web.html"])
def test_events_in_the_html_pages(events, page):
    found = Paragraphs((events / page).read_text())
    assert sorted(found.about("When:"), reverse=True) == [
        (
            "When: Tuesday 20 April 2027, 09:30–12:00 (Zurich time) | Where: Online | "
            "Add to calendar",
            [
                "https://example.org/join?id=1&pw=2",
                "https://focalpoint.example.org/2026-Q4/event-hrdd.ics",
            ],
        ),
        (
            "When: 20–22 April 2027 | Where: Palais des Nations, Geneva | Add to calendar",
            ["https://focalpoint.example.org/2026-Q4/event-meeting.ics"],
        ),
    ]
    assert found.about("OHCHR") == [("OHCHR", [])]  # no filing date beside the event
    assert not found.about("November 2026")


# -- one greeting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("house", "issue", "text", "html"),
    [
        ("", "", ["Dear %%NAME%%,"], ["Dear %%NAME%%,"]),  # the default
        ('greeting = "Hello {name} & co!"', "", ["Hello %%NAME%% & co!"], ["Hello %%NAME%% & co!"]),
        # issue.toml overrides the house settings, and "" means none
        ("", 'greeting = "Hi {name},"\n', ["Hi %%NAME%%,"], ["Hi %%NAME%%,"]),
        ('greeting = "Hi {name},"', 'greeting = ""\n', [], []),
        ('greeting = ""', "", [], []),
        # The editor's text cannot make a second marker: only {name} becomes one.
        ('greeting = "Dear %%EMAIL%% {name},"', "", ["Dear %\u200d%EMAIL%\u200d% %%NAME%%,"], None),
    ],
)
def test_one_greeting(project, house, issue, text, html):
    path = project / "pyproject.toml"
    path.write_text(
        path.read_text().replace("[tool.newsletter]\n", f"[tool.newsletter]\n{house}\n")
    )
    folder = make_issue(project)
    (folder / "intro.md").write_text("Welcome to this issue.\n")
    (folder / "issue.toml").write_text((folder / "issue.toml").read_text() + issue)
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    lines = (folder / "build/email.txt").read_text().splitlines()
    note = lines.index("EDITOR'S NOTE")
    assert lines[note + 1 : lines.index("Welcome to this issue.")] == [
        "",
        *(text + [""] if text else []),
    ]
    if html is not None:
        found = Paragraphs((folder / "build/email.html").read_text())
        paragraphs = [t for t, _ in found.about("")]
        welcome = paragraphs.index("Welcome to this issue.")
        assert paragraphs[welcome - len(html) : welcome] == html
        assert paragraphs[welcome - len(html) - 1] != "Dear %%NAME%%,"
    # The web page greets no one: it has no recipient.
    assert "%%NAME%%" not in (folder / "build/web.html").read_text()


def test_an_event_shows_its_own_date_not_its_filing_date(project):
    """Finding 2: "OHCHR · 1 December 2026" (the filing date) was shown, and the
    event's day appeared nowhere in email.html, email.txt or web.html."""
    found = (
        "---\ntitle: A webinar\nsection: events\nlink: https://example.org/w\n"
        "date: 2026-12-01\nsource: OHCHR\nstarts: 2027-04-20 09:30 +02:00\n---\nX.\n"
    )
    make_issue(project, items={"webinar.md": found})
    assert cli(project, "build", "2026-Q4").exit_code == 0
    for name in ("email.txt", "email.html", "web.html"):
        page = (project / "issues/2026-Q4/build" / name).read_text()
        assert "Tuesday 20 April 2027, 09:30 (UTC+02:00)" in page, name
        assert "1 December 2026" not in page, name


@pytest.mark.parametrize(
    "day,written",
    [
        (dt.date(2027, 1, 15), "Friday 15 January 2027"),
        (dt.date(2030, 1, 1), "Tuesday 1 January 2030"),
    ],
)
def test_a_deadline_is_written_with_its_weekday(day, written):
    assert dayname(day) == written


def test_the_environment_is_made_once_and_still_sees_templates_edited_added_or_removed(project):
    from newsletter.build.render import environment
    from newsletter.config import load_settings

    settings = load_settings(project)
    folder = make_issue(project)
    env = environment(settings, folder)
    assert environment(settings, folder) is env  # compiled templates are reused
    own = folder / "templates"
    own.mkdir()
    assert environment(settings, folder) is not env  # a new folder: looked at again
    (own / "intake_ack.txt.j2").write_text("Override one\n", encoding="utf-8")
    env = environment(settings, folder)
    assert env.get_template("intake_ack.txt.j2").render() == "Override one\n"

    (own / "intake_ack.txt.j2").write_text("Override two, longer\n", encoding="utf-8")
    assert environment(settings, folder) is env  # an edit: Jinja sees the file's time
    assert environment(settings, folder).get_template("intake_ack.txt.j2").render() == (
        "Override two, longer\n"
    )

    (own / "intake_ack.txt.j2").unlink()  # removed: the house's again
    found = environment(settings, folder).get_template("intake_ack.txt.j2").filename
    assert found == str(project / "templates" / "intake_ack.txt.j2")
