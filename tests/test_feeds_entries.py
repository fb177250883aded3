"""newsletter.feeds.entries: feed bytes into clean entries (titles, links, dates, summaries)."""

from __future__ import annotations

import pytest
from helpers import rss

from newsletter.feeds.entries import parse_feed, summarise
from newsletter.sanitize import MAX_DEPTH


def words(n: int, stop_at: int | None = None) -> str:
    return " ".join(f"w{i}{'.' if i == stop_at else ''}" for i in range(n))


@pytest.mark.parametrize(
    "html,expected",
    [
        ("<p>short <b>text</b></p>", "<p>short <b>text</b></p>"),
        (
            "loose <i>inline</i> text<ul><li>one</li></ul>tail",
            "<p>loose <i>inline</i> text</p>\n<ul><li>one</li></ul>\n<p>tail</p>",
        ),
        (f"<p>{words(100)}</p>", f"<p>{words(80)}\u2026</p>"),
        (f"<p>{words(100, stop_at=60)}</p>", f"<p>{words(61, stop_at=60)}</p>"),
        (
            f'<p>x <a href="https://e.org/">{words(100)}</a> y</p>',
            f'<p>x <a href="https://e.org/">{words(79)}\u2026</a></p>',
        ),
        ("<p>a</p>\n\n\n<p>b</p>", "<p>a</p>\n<p>b</p>"),
    ],
    ids=["short", "blocks", "cut-at-word", "cut-at-sentence", "cut-inside-link", "blank-lines"],
)
def test_summarise(html, expected):
    assert summarise(html) == expected


def test_parse_feed_cleans_entries():
    body = rss(
        [
            {
                "title": "Tools &amp; &lt;b&gt;resources&lt;/b&gt;",
                "link": "/news/1?utm_source=rss",
                "description": '&lt;p onclick="x()"&gt;See &lt;a href="../more"&gt;more&lt;/a&gt;'
                '&lt;img src="/a.png"&gt;&lt;img src="/b.png" alt="Chart"&gt;'
                "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;",
                "guid": "tag:1",
                "pubDate": "Mon, 05 Oct 2026 10:00:00 GMT",
            }
        ]
    )
    parsed = parse_feed(body, (("content-type", "application/rss+xml"),), "https://e.org/feeds/rss")
    assert parsed.error is None and parsed.warning is None
    (entry,) = parsed.entries
    assert entry.title == "Tools & resources"  # markup in a title is dropped, text kept
    assert entry.link == "https://e.org/news/1"
    assert entry.guid == "tag:1" and str(entry.date) == "2026-10-05"
    # Pictures go: each would be fetched from the feed's server when opened.
    assert entry.summary == (
        '<p>See <a href="https://e.org/more" rel="noopener noreferrer">more</a></p>'
    )


def test_parse_feed_escapes_text_plain():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:1</id>'
        b'<title>x</title><summary type="text">&lt;script&gt;alert(1)&lt;/script&gt; &amp; more'
        b"</summary></entry></feed>"
    )
    (entry,) = parse_feed(body, (), "https://e.org/atom").entries
    assert entry.summary == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</p>"
    assert entry.date is None


def feed_with(description: str = "", title: str = "x", **fields: str) -> bytes:
    from html import escape

    item = {"title": title, **fields}
    if description:
        item["description"] = escape(description)
    return rss([item])


@pytest.mark.parametrize(
    "html",
    [
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="jav&#x0A;ascript:alert(1)">x</a>',
        '<a href="javascript&colon;alert(1)">x</a>',
        '<img src="&#100;ata:image/png;base64,AAAA" alt="x">',
    ],
    ids=["decimal-entity", "tab-entity", "newline-entity", "named-colon", "data-entity"],
)
def test_entity_obfuscated_scripts_are_not_kept_as_paths(html):
    """feedparser's resolver took these for relative paths ("https://e.org/javascript:...")."""
    (entry,) = parse_feed(feed_with(html), (), "https://e.org/f").entries
    assert entry.summary == "<p>x</p>" or entry.summary == ""
    assert "script" not in entry.summary and "data" not in entry.summary


def test_relative_links_resolve_against_the_document_and_xml_base():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://e.org/blog/">'
        b"<title>t</title><entry xml:base='posts/'><id>urn:1</id><title>a</title>"
        b'<link href="one.html"/><summary type="html">&lt;a href="../two.html"&gt;two&lt;/a&gt;'
        b' &lt;a href="//cdn.e.org/x"&gt;cdn&lt;/a&gt; &lt;img src="p.png" alt="P"&gt;'
        b' &lt;a href="t.html"&gt;&lt;img src="no-alt.png"&gt;&lt;/a&gt;</summary></entry></feed>'
    )
    (entry,) = parse_feed(body, (), "https://e.org/feed.atom").entries
    assert entry.link == "https://e.org/blog/posts/one.html"
    assert entry.summary == (
        '<p><a href="https://e.org/blog/two.html" rel="noopener noreferrer">two</a>'
        ' <a href="https://cdn.e.org/x" rel="noopener noreferrer">cdn</a></p>'
    )


@pytest.mark.parametrize(
    "picture",
    [
        '<img src="//tracker.example/p.gif">',
        '<img src="https://tracker.example/p.gif" alt="" width="1" height="1">',
        '<img src="https://e.org/chart.png" alt="A chart">',
        '<picture><source srcset="https://t.example/a.webp"><img src="https://t.example/a.png"'
        ' alt="x"></picture>',
    ],
    ids=["scheme-relative-pixel", "pixel", "picture-with-alt", "picture-element"],
)
def test_pictures_in_a_feed_summary_are_dropped(picture):
    """A picture in a summary is fetched when the email is opened: the feed learns who read it."""
    (entry,) = parse_feed(feed_with(f"<p>Read {picture}this.</p>"), (), "https://e.org/f").entries
    assert entry.summary == "<p>Read this.</p>"


def test_a_deeply_nested_summary_is_flattened_with_a_warning():
    html = "<b>" * 12_000 + "deep" + "</b>" * 12_000
    parsed = parse_feed(feed_with(html, title="Deep one"), (), "https://e.org/f")
    (entry,) = parsed.entries
    assert entry.summary.count("<b>") == MAX_DEPTH and "deep" in entry.summary
    assert parsed.warning == (
        f"entry 'Deep one': tags nested more than {MAX_DEPTH} deep were unwrapped"
    )


def test_many_cut_entries_are_one_clause_naming_the_first_and_counting_the_rest():
    """Found in review: one clause per entry, joined one by one, grew with the square."""
    from html import escape

    deep = escape("<b>" * 40 + "deep" + "</b>" * 40)
    items = [{"title": f"Deep {n}", "description": deep} for n in range(3_000)]
    parsed = parse_feed(rss(items), (), "https://e.org/f")
    assert parsed.warning == (
        f"entry 'Deep 0' (and 2,999 more entries): tags nested more than {MAX_DEPTH} deep "
        "were unwrapped"
    )


@pytest.mark.parametrize(
    "title,expected",
    [
        ("Hello &lt;script&gt;alert(1)&lt;/script&gt; world", "Hello world"),
        ("Hi &lt;img src=x onerror=alert(1)&gt; there", "Hi there"),
        ("Why &lt;iframe&gt; tags matter", "Why tags matter"),
        ("A &lt;b&gt;bold&lt;/b&gt; move", "A bold move"),
        ("5 &lt; 6 &amp; 7 &gt; 3", "5 < 6 & 7 > 3"),
        ("Arrows &lt;-- and --&gt; stay", "Arrows <-- and --> stay"),
    ],
)
def test_markup_in_a_text_title_is_dropped(title, expected):
    (entry,) = parse_feed(feed_with(title=title), (), "https://e.org/f").entries
    assert entry.title == expected


def test_a_title_made_from_a_text_summary_has_no_markup():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:1</id>'
        b'<summary type="text">Use &lt;iframe src="x"&gt; with care</summary></entry></feed>'
    )
    (entry,) = parse_feed(body, (), "https://e.org/f").entries
    assert entry.title == "Use with care"
    assert entry.summary == '<p>Use &lt;iframe src="x"&gt; with care</p>'


@pytest.mark.parametrize(
    "stamp,date",
    [
        ("Thu, 01 Oct 2026 01:30:00 +0300", "2026-10-01"),  # UTC: 30 September
        ("Thu, 31 Dec 2026 23:30:00 -0500", "2026-12-31"),  # UTC: 1 January
        ("Mon, 05 Oct 2026 10:00:00 GMT", "2026-10-05"),
        ("Mon, 05 Oct 26 10:00:00 GMT", "2026-10-05"),
    ],
)
def test_entry_date_is_the_publishers_date(stamp, date):
    (entry,) = parse_feed(feed_with(pubDate=stamp), (), "https://e.org/f").entries
    assert str(entry.date) == date


def test_atom_dates_with_offsets_keep_the_written_day():
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:1</id>'
        b"<title>a</title><published>2026-10-01T00:30:00+02:00</published></entry></feed>"
    )
    (entry,) = parse_feed(body, (), "https://e.org/f").entries
    assert str(entry.date) == "2026-10-01"


@pytest.mark.parametrize(
    "link,expected",
    [
        ("https://e.org/files/Annual Report.pdf", "https://e.org/files/Annual%20Report.pdf"),
        ("https://e.org/a\n  /b", "https://e.org/a  /b".replace(" ", "%20")),
        ("https://b\u00fccher.example/stra\u00dfe", "https://b\u00fccher.example/stra\u00dfe"),
        ("javascript:alert(1)", None),
    ],
    ids=["space", "newline", "iri", "javascript"],
)
def test_entry_links(link, expected):
    (entry,) = parse_feed(feed_with(link=link), (), "https://e.org/f").entries
    assert entry.link == expected


def test_entries_outside_the_window_are_only_dated():
    import datetime as dt

    body = rss(
        [
            {"title": "Old", "link": "https://e.org/o", "pubDate": "Fri, 01 May 2026 10:00:00 GMT"},
            {"title": "", "description": "", "pubDate": "Fri, 01 May 2026 10:00:00 GMT"},
            {"title": "New", "link": "https://e.org/n", "pubDate": "Mon, 05 Oct 2026 10:00:00 GMT"},
        ]
    )
    window = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    parsed = parse_feed(body, (), "https://e.org/f", window)
    assert parsed.warning is None  # an empty entry out of the window is not worth a warning
    assert [(e.title, str(e.date)) for e in parsed.entries] == [
        ("", "2026-05-01"),
        ("", "2026-05-01"),
        ("New", "2026-10-05"),
    ]
