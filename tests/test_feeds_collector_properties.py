"""newsletter.feeds.collector, by property: `collect` on any feed document ends cleanly.

Feeds are written by other people's software. Whatever a feed served from 127.0.0.1
holds (RSS or Atom with any titles, links, dates and summaries, broken XML, any
bytes, any status), `collect` ends without a traceback; when every feed failed
(exit 1) it changes nothing but the feed's own health record, and never build/.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import PROPERTY, FeedServer, Route, cli, examples, no_traceback, rss, state
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

# The option `feeds add` needs for a feed on 127.0.0.1: private addresses are refused
# unless registered on purpose, and this test's server is on loopback.
ALLOW_PRIVATE: tuple[str, ...] = ("--allow-private",)
# What collect records about a feed's health even when it fails: its row and stats.
HEALTH_TABLES = ("feeds", "feed_stats")

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "&amp;",
            "&nosuch;",
            "<b>bold</b>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;img src=//tracker.example/p.gif&gt;",
            "<![CDATA[<a href='javascript:x'>x</a>]]>",
            "x" * 3000,
        ]
    ),
).map(lambda t: t.replace("\x00", ""))
LINKS = st.one_of(
    st.sampled_from(
        [
            "https://example.org/story",
            "http://example.org/a?utm_source=x",
            "javascript:alert(1)",
            "//example.org/x",
            "",
            "https://[::1",
            "https://exämple.org/ü",
        ]
    ),
    st.text(max_size=30),
)
DATES = st.one_of(
    st.sampled_from(
        [
            "Mon, 05 Oct 2026 10:00:00 GMT",
            "2026-11-15T10:00:00Z",
            "2026-02-30T10:00:00Z",
            "Tue, 31 Dec 9999 23:59:59 GMT",
            "0000-01-01",
            "",
        ]
    ),
    st.text(max_size=20),
)
ITEMS = st.lists(
    st.fixed_dictionaries(
        {"title": TEXT, "link": LINKS, "pubDate": DATES, "description": TEXT},
        optional={"guid": TEXT, "category": TEXT},
    ),
    max_size=4,
)
ATOM = st.builds(
    lambda title, link, date, summary: (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        f'<entry><title>{title}</title><link href="{link}"/><updated>{date}</updated>'
        f"<summary type='html'>{summary}</summary></entry></feed>"
    ).encode("utf-8", "surrogatepass"),
    TEXT,
    LINKS.map(lambda s: s.replace('"', "")),
    DATES,
    TEXT,
)
BODIES = st.one_of(
    ITEMS.map(lambda items: rss(items)),
    ATOM,
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"<rss><channel><item>",
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>',
            b"\xef\xbb\xbf<rss version='2.0'><channel></channel></rss>",
        ]
    ),
)
ROUTES = st.builds(
    lambda body, status, ctype: Route(body, status, {"Content-Type": ctype}),
    BODIES,
    st.sampled_from([200, 200, 200, 301, 404, 500, 304]),
    st.sampled_from(["application/rss+xml", "text/html", "application/octet-stream", ""]),
)


def others(db: Path) -> list[str]:
    """The database as SQL, without the feed health rows that collect keeps on failure."""
    conn = sqlite3.connect(db)
    try:
        skip = tuple(f'INSERT INTO "{t}"' for t in HEALTH_TABLES)
        return [line for line in conn.iterdump() if not line.startswith(skip)]
    finally:
        conn.close()


@pytest.fixture
def feed(outbox_ready):
    """The built project with one feed, served from 127.0.0.1: (project, server)."""
    with FeedServer() as server:
        server.routes["/feed"] = Route(rss([]))
        url = server.url("/feed")
        added = cli(outbox_ready, "feeds", "add", url, "--section", "news", *ALLOW_PRIVATE)
        assert added.exit_code == 0, added.output
        yield outbox_ready, server


@settings(max_examples=examples(100), **PROPERTY)
@given(route=ROUTES)
@example(route=Route(rss([{"title": "<b>" * 200, "link": "https://example.org/deep"}])))
@example(
    route=Route(rss([{"title": "x", "link": "https://example.org/x", "pubDate": "2026-02-30"}]))
)
def test_collect_on_any_feed_ends_cleanly(feed, route):
    project, server = feed
    server.routes["/feed"] = route
    # helpers.unharmed's promise, but for the health record collect keeps of a failed feed.
    builds, db = builds_of(project), others(project / "contacts.db")
    result = cli(project, "collect", "2026-Q4", "--timeout", "5")
    no_traceback(result)
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert others(project / "contacts.db") == db
        assert builds_of(project) == builds
    event(f"exit {result.exit_code}")


def builds_of(project: Path) -> dict[str, bytes]:
    return {k: v for k, v in state(project).items() if not k.startswith("contacts.db")}
