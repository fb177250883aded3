"""An issue's built web page, made fit for the public archive.

``build`` writes ``web.html`` for "view in browser" with the full directory in
it. The archive copy, ``public_page``, differs in four ways:

* the directory section (the element with ``id="directory"``) becomes a link to
  the archive's directory page, which lists no addresses or phone numbers;
* per-recipient markers go: a paragraph holding a personal link (unsubscribe,
  "Check your entry", the members' directory) is dropped, the name becomes
  "colleague" and every other marker nothing;
* absolute links into ``web_url`` become relative, so the site can move;
* a short archive navigation (unless the page has one: the house template's
  frame carries it), and "add to calendar" links for the events.

The archive adds a dated note for each published correction of the issue
(``with_corrections``). It works on the HTML text rather than the template, so it archives exactly
what was built, and an issue's own template overrides keep working.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import quote

from newsletter.build.render import event_when, longdate
from newsletter.config import Settings
from newsletter.models import LINK_MARKERS, PLACEHOLDERS, Issue, Item

_UNSUB = "(?:" + "|".join(re.escape(PLACEHOLDERS[key]) for key in LINK_MARKERS) + ")"
_UNSUB_PARAGRAPH = re.compile(rf"<p\b[^>]*>(?:(?!</p>).)*?{_UNSUB}.*?</p>\s*", re.S | re.I)
_UNSUB_LINK = re.compile(rf"<a\b[^>]*{_UNSUB}[^>]*>.*?</a>", re.S | re.I)
_H3 = re.compile(r"<h3\b[^>]*>(.*?)</h3>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")
_ARCHIVE_NAV = re.compile(r"""<nav\b[^>]*\baria-label=["']Archive["']""", re.I)

DIRECTORY_NOTE = (
    '<section class="card" id="directory">\n  <h2>Focal-point directory</h2>\n'
    '  <p>The current directory of focal points is on <a href="../directory.html">'
    "its own page</a>.</p>\n</section>"
)
NAV = (
    '<nav aria-label="Archive" style="max-width:760px;margin:0 auto;padding:10px 20px;'
    'font-size:15px"><a href="../index.html">All issues</a> · '
    '<a href="../directory.html">Focal-point directory</a> · '
    '<a href="../feed.xml">Atom feed</a></nav>'
)


def public_page(
    page: str, settings: Settings, issue: Issue, events: tuple[Item, ...], links: dict[str, str]
) -> str:
    """The archive's copy of a built web page; ``links`` maps event slugs to their .ics."""
    page = replace_element(page, "directory", DIRECTORY_NOTE)
    page = _UNSUB_PARAGRAPH.sub("", page)
    page = _UNSUB_LINK.sub("", page).replace(PLACEHOLDERS["name"], "colleague")
    for marker in PLACEHOLDERS.values():  # a token, an address: nothing personal stays
        page = page.replace(marker, "")
    page = relative_links(page, settings.web_url, depth=1)
    if events:
        page = _calendar_links(page, events, links)
        card = _calendar_card(events, links)
        after = end_of_element(page, next(i.section for i in events))
        fallback = ('<section class="card" id="directory"', "</main>", "</body>")
        at = after if after is not None else _before(page, fallback)
        page = page[:at] + card + page[at:]
    body = re.search(r"<body\b[^>]*>", page, re.I)
    # Pages built from templates/_site.html.j2 link to the archive already; older
    # builds and an issue's own web.html.j2 may not.
    if body and not _ARCHIVE_NAV.search(page):
        page = page[: body.end()] + "\n" + NAV + page[body.end() :]
    return page


_MAIN = re.compile(r"<main\b[^>]*>", re.I)
_BODY = re.compile(r"<body\b[^>]*>", re.I)


def with_corrections(page: str, notes: list[tuple[dt.date, str]]) -> str:
    """The archive page of a corrected issue, with a dated note for each correction
    ("Correction, 1 December 2026: ...") at the start of its content."""
    if not notes:
        return page
    lines = "".join(
        f"\n  <p><strong>Correction, {longdate(day)}:</strong> {html.escape(text)}</p>"
        for day, text in notes
    )
    aside = f'\n<aside class="card" id="corrections-notes" role="note">{lines}\n</aside>'
    found = _MAIN.search(page) or _BODY.search(page)
    at = found.end() if found else 0
    return page[:at] + aside + page[at:]


def relative_links(page: str, web_url: str, depth: int) -> str:
    """href/src values under ``web_url`` made relative to a page ``depth`` folders down."""
    prefix = re.escape(web_url.rstrip("/"))

    def rel(match: re.Match[str]) -> str:
        path = match.group(3).lstrip("/")
        if path == "" or path.endswith("/"):
            path += "index.html"
        return f"{match.group(1)}={match.group(2)}{'../' * depth}{path}{match.group(2)}"

    return re.sub(rf"""\b(href|src)=(["']){prefix}(/[^"']*)?\2""", rel, page)


def _element_span(page: str, element_id: str) -> tuple[int, int] | None:
    """Where the element with this id starts and ends (after its closing tag)."""
    start = re.search(rf"""<(\w+)\b[^>]*\bid=["']{re.escape(element_id)}["'][^>]*>""", page)
    if not start:
        return None
    tag = start.group(1)
    depth = 0
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", page[start.start() :], re.I):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return start.start(), start.start() + match.end()
    return None


def replace_element(page: str, element_id: str, replacement: str) -> str:
    span = _element_span(page, element_id)
    return page if span is None else page[: span[0]] + replacement + page[span[1] :]


def end_of_element(page: str, element_id: str) -> int | None:
    span = _element_span(page, element_id)
    return None if span is None else span[1]


def _before(page: str, markers: tuple[str, ...]) -> int:
    return next((page.index(m) for m in markers if m in page), len(page))


def _calendar_links(page: str, events: tuple[Item, ...], links: dict[str, str]) -> str:
    """After each event's heading, an "add to calendar" line (when the heading is found).

    Headings are looked for only inside the event's own section, and each event
    is used once, so a news item that shares an event's title gets no link.
    """
    for section in dict.fromkeys(item.section for item in events):
        # A house template without section ids: look in the whole page instead.
        span = _element_span(page, section) or (0, len(page))
        # A page that already links an event to its .ics (the house template does,
        # under its "When" line) needs no second line for it.
        waiting = [
            item
            for item in events
            if item.section == section and f"/{links[item.slug]}" not in page[span[0] : span[1]]
        ]

        def add(match: re.Match[str], waiting: list[Item] = waiting) -> str:
            title = html.unescape(_TAGS.sub("", match.group(1))).strip()
            item = next((i for i in waiting if i.title == title), None)
            if item is None:
                return match.group(0)
            waiting.remove(item)
            href = quote(links[item.slug])
            return (
                f'{match.group(0)}\n<p class="meta">{html.escape(event_when(item))} · '
                f'<a href="{href}" type="text/calendar">Add to calendar</a></p>'
            )

        start, end = span
        page = page[:start] + _H3.sub(add, page[start:end]) + page[end:]
    return page


def _calendar_card(events: tuple[Item, ...], links: dict[str, str]) -> str:
    rows = "".join(
        f"\n    <li>{html.escape(event_when(item))}: {html.escape(item.title)} "
        f'(<a href="{quote(links[item.slug])}" type="text/calendar">add to calendar</a>)</li>'
        for item in events
    )
    return (
        '\n<section class="card" id="calendar">\n  <h2>Calendar</h2>\n'
        f"  <ul>{rows}\n  </ul>\n"
        '  <p><a href="events.ics" type="text/calendar">All events of this issue</a> '
        "(an .ics file for Outlook, Apple Calendar or Google Calendar).</p>\n</section>\n"
    )
