"""templates/: the HTML pages share one frame (head, style, footer written once); directory partials."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from helpers import REPO, cli, make_issue

from newsletter.build.render import environment
from newsletter.config import load_settings
from newsletter.contacts.directory import Entry

PAGES = sorted(p.name for p in (REPO / "templates").glob("*.html.j2") if not p.name.startswith("_"))
# The desk's pages extend desk.html.j2, its frame (the desk's nav and htmx), which
# extends the one frame; tests/test_desk_app.py checks each of them.
DESK = [name for name in PAGES if name.startswith("desk_")]
SITE = [name for name in PAGES if name not in DESK]


def test_the_pages():
    assert SITE == [
        "archive_directory.html.j2",
        "archive_index.html.j2",
        "desk.html.j2",
        "entry.html.j2",
        "limited.html.j2",
        "members.html.j2",
        "preview.html.j2",
        "report.html.j2",
        "review.html.j2",
        "submit.html.j2",
        "unsubscribe.html.j2",
        "web.html.j2",
    ]


@pytest.mark.parametrize("name", SITE)
def test_every_page_extends_the_one_frame(name):
    text = (REPO / "templates" / name).read_text(encoding="utf-8")
    code = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # comments may name anything
    assert code.lstrip().startswith('{% extends "_site.html.j2" %}')
    for tag in ("<!doctype", "<html", "<head", "<meta charset", "<style", "<footer", "<body"):
        assert tag not in code.lower(), f"{name} repeats {tag}: put it in _site.html.j2"


# One focal point with every field, and no name: the fallback is where an
# address could slip into the public page.
NAMELESS = Entry(
    name="",
    job_title="Officer <Private Sector>",
    email="x.y@unicef.example.org",
    phone="+41 22 555 0100",
    city="Geneva",
    country="Switzerland",
    badge="new",
    mailto="mailto:x.y@unicef.example.org",
)


def partial(name: str):
    """A directory partial as a module, so its entry macro can be called alone."""
    settings = load_settings(REPO)
    env = environment(settings, REPO / "issues" / "none")
    url = f"{settings.web_url}/2026-Q4/"
    return env.get_template(name).make_module(
        {"settings": settings, "directory": None, "issue_url": url}
    )


def test_html_entry_public_and_private():
    html = partial("_directory.html.j2")
    assert str(html.entry(NAMELESS, public=True)) == (
        '<li><strong>Name not given</strong> <span class="badge">new</span>'
        "<br>Officer &lt;Private Sector&gt;<br>Geneva, Switzerland</li>"
    )
    assert str(html.entry(NAMELESS)) == (
        '<li><strong>x.y@unicef.example.org</strong> <span class="badge">new</span>'
        '<br>Officer &lt;Private Sector&gt;<br><a href="mailto:x.y@unicef.example.org">'
        "x.y@unicef.example.org</a> · +41 22 555 0100<br>Geneva, Switzerland</li>"
    )
    listing = str(html.entries([NAMELESS, NAMELESS], public=True))
    assert listing.count("<li>") == 2
    assert "x.y@" not in listing and "555" not in listing and "mailto" not in listing


def test_mjml_entry_in_the_full_list_and_the_changes():
    mjml = partial("_directory.mjml.j2")
    tail = '<br><a href="mailto:x.y@unicef.example.org">x.y@unicef.example.org</a> · +41 22 555 0100</p>'
    head = '<p style="margin:0 0 10px;"><strong>x.y@unicef.example.org</strong> <strong class="nl-badge">(new)</strong>'
    assert str(mjml.entry(NAMELESS)) == head + "<br>Officer &lt;Private Sector&gt;" + tail
    assert str(mjml.entry(NAMELESS, "UNICEF & co")) == (
        head + "<br>UNICEF &amp; co, Officer &lt;Private Sector&gt;" + tail
    )


def test_text_entry_in_the_full_list_and_the_changes():
    text = partial("_directory.txt.j2")
    assert str(text.entry(NAMELESS)) == (
        "- x.y@unicef.example.org [new]\n  Officer <Private Sector>\n"
        "  x.y@unicef.example.org · +41 22 555 0100"
    )
    bare = Entry("Ann", "", "a@b.example", "", "", "")
    assert str(text.entry(bare)) == "- Ann\n  a@b.example"
    assert str(text.entry(bare, "UNICEF")) == "- Ann\n  UNICEF\n  a@b.example"


class Targets(HTMLParser):
    """The page's local links, and the elements that carry each name and id."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.names: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if (a.get("href") or "").startswith("#"):
            self.hrefs.append(a["href"])
        if a.get("name") and tag == "a":
            self.names[a["name"]] = tag
        if a.get("id"):
            self.ids[a["id"]] = tag


def test_every_contents_link_lands_on_a_name_and_an_id(project):
    """Found: the contents linked to ids only, which Gmail's web client and
    Outlook for Windows do not follow (see templates/_anchor.j2)."""
    make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    page = Targets()
    page.feed((project / "issues/2026-Q4/build/email.html").read_text())
    assert page.hrefs == ["#news", "#tools", "#events", "#spotlight", "#directory"]
    for href in page.hrefs:
        assert page.names.get(href[1:]) == "a" and href[1:] in page.ids, href


def latest_anchor_results(text: str) -> dict[str, str]:
    """caniemail's stats block: client/platform -> flags of its latest test (listed last)."""
    stats = text.split("stats:", 1)[1].split("notes_by_num:", 1)[0]
    path: list[str] = []
    latest: dict[str, str] = {}
    for line in stats.splitlines():
        if opened := re.match(r"\s*([\w-]+)\s*:\s*\{", line):
            path.append(opened[1])
        elif result := re.match(r'\s*"[^"]+"\s*:\s*"([^"]+)"', line):
            latest["/".join(path)] = result[1]
        elif line.strip().startswith("}") and path:
            path.pop()
    return latest


def test_the_anchor_figures_are_caniemails(corpus):
    """The figures in templates/_anchor.j2, recounted from the data they cite."""
    feature = corpus / "caniemail" / "_features" / "html-anchor-links.md"
    latest = latest_anchor_results(feature.read_text(encoding="utf-8"))
    by_id = [k for k, v in latest.items() if v.split()[0] == "y" and "#7" not in v.split()]
    by_name = [k for k, v in latest.items() if "#7" in v.split()]  # "only with a name anchor"
    neither = [k for k, v in latest.items() if v.split()[0] == "n"]
    assert (len(latest), len(by_id), len(by_name), len(neither)) == (41, 18, 7, 16)
    assert {"gmail/desktop-webmail", "outlook/windows", "yahoo/desktop-webmail"} <= set(by_name)
    worse = [k for k in neither if {"#2", "#4", "#5", "#8"} & set(latest[k].split())]
    assert len(worse) == 4
    comment = (REPO / "templates" / "_anchor.j2").read_text(encoding="utf-8")
    for figure in ("18 follow", "7 follow", "16 follow", "18 of 41", "25 of 41", "only 4 of"):
        assert figure in comment


def test_the_preheader_is_hidden_without_a_colour(project):
    """Found: MJML's preview hid it in white on the light page, which spam filters
    score as hidden text (SpamAssassin's HTML_FONT_LOW_CONTRAST)."""
    make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    html = (project / "issues/2026-Q4/build/email.html").read_text()
    body = html[html.index("<body") :]
    first = re.search(r'<div style="([^"]*)">([^<]+)</div>', body)
    assert first[2] == "News, tools and events for UN private-sector focal points."
    assert first[1].startswith("display:none;") and "mso-hide:all" in first[1]
    assert "color" not in first[1] and html.count("display:none") == 1
