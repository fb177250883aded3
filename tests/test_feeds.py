"""The feed registry, fetching over a local HTTP server, and entry cleaning."""

from __future__ import annotations

import gzip

import pytest
from click.testing import CliRunner
from helpers import FeedServer, Route, rss

from newsletter import __version__
from newsletter.cli import main
from newsletter.download import fetch
from newsletter.feeds.entries import parse_feed, summarise

AGENT = f"newsletter/{__version__} (+https://focalpoint.example.org)"


@pytest.fixture
def server():
    with FeedServer() as srv:
        yield srv


def run(project, *args):
    result = CliRunner().invoke(main, ["--root", str(project), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


# --- the registry --------------------------------------------------------------------


def test_feeds_add_list_remove(project, tmp_path):
    local = tmp_path / "local.xml"
    local.write_bytes(rss([]))
    assert run(project, "feeds", "list").output == (
        "No feeds. Add one with: newsletter feeds add URL --section SECTION\n"
    )
    out = run(project, "feeds", "add", "https://news.example.org/rss", "--section", "news").output
    assert out == "Added feed 'news.example.org' (news): https://news.example.org/rss\n"
    out = run(project, "feeds", "add", f"file://{local}", "--section", "tools", "--name", "Local")
    assert out.output == f"Added feed 'Local' (tools): {local}\n"
    assert run(project, "feeds", "list").output.splitlines() == [
        "NAME              SECTION  STATUS           LAST SUCCESS  SEEN  NEW  DUP  OLD  ERRORS  URL",
        "news.example.org  news     never collected  -                0    0    0    0       0  "
        "https://news.example.org/rss",
        f"Local             tools    never collected  -                0    0    0    0       0  {local}",
    ]
    out = run(project, "feeds", "remove", "local.xml").output  # a path, relative to here
    assert out == f"Removed feed 'Local': {local}\n"
    out = run(project, "feeds", "remove", "https://news.example.org/rss").output
    assert out == "Removed feed 'news.example.org': https://news.example.org/rss\n"


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["https://x.org/f", "--section", "gossip"],
            "--section: unknown section 'gossip'. Use one of: news, tools, events, spotlight.",
        ),
        (
            ["ftp://x.org/f", "--section", "news"],
            "ftp://x.org/f: not a feed URL. Use https://..., file://... or a path.",
        ),
        (
            ["missing.xml", "--section", "news"],
            "missing.xml: no such file. Give an http(s) URL or an existing file.",
        ),
        (
            ["https://a.org/rss", "--section", "news"],
            "https://a.org/rss: already registered as 'A'.",
        ),
        (
            ["https://b.org/rss", "--section", "news", "--name", "a"],
            "--name: a feed is already named 'a'. Pick another name.",
        ),
    ],
)
def test_feeds_add_errors(project, args, message):
    run(project, "feeds", "add", "https://a.org/rss", "--section", "news", "--name", "A")
    result = run(project, "feeds", "add", *args)
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"


def test_feeds_remove_unknown(project):
    result = run(project, "feeds", "remove", "nope")
    assert result.exit_code == 1
    assert result.output == "Error: nope: no such feed. See the names with: newsletter feeds list\n"


# --- fetching ------------------------------------------------------------------------


def test_fetch_sends_user_agent_and_conditional_headers(server):
    server.routes["/f"] = Route(rss([]), etag='"v1"', last_modified="Mon, 05 Oct 2026 10:00:00 GMT")
    first = fetch(server.url("/f"), agent=AGENT)
    assert first.body == rss([]) and first.etag == '"v1"' and not first.not_modified
    again = fetch(server.url("/f"), agent=AGENT, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body is None and again.error is None
    (_, h1), (_, h2) = server.requests
    assert h1["user-agent"] == AGENT and "if-none-match" not in h1
    assert h2["if-none-match"] == '"v1"'
    assert h2["if-modified-since"] == "Mon, 05 Oct 2026 10:00:00 GMT"


def test_fetch_redirects(server):
    server.routes["/old"] = Route(status=301, headers={"Location": "/mid"})
    server.routes["/mid"] = Route(status=308, headers={"Location": "/new"})
    server.routes["/new"] = Route(rss([]))
    server.routes["/temp"] = Route(status=302, headers={"Location": "/old"})
    moved = fetch(server.url("/old"), agent=AGENT)
    assert moved.body == rss([]) and moved.moved_to == server.url("/new")
    temporary = fetch(server.url("/temp"), agent=AGENT)
    assert temporary.body == rss([]) and temporary.moved_to is None


@pytest.mark.parametrize(
    "routes,error",
    [
        (
            {
                "/f": Route(status=302, headers={"Location": "/g"}),
                "/g": Route(status=301, headers={"Location": "/f"}),
            },
            "redirect loop ({u}/f -> {u}/g -> {u}/f)",
        ),
        (
            {
                f"/f{i}" if i else "/f": Route(status=302, headers={"Location": f"/f{i + 1}"})
                for i in range(9)
            },
            "more than 5 redirects",
        ),
        (
            {"/f": Route(status=301, headers={"Location": "file:///etc/passwd"})},
            "redirect to a non-web URL (file:///etc/passwd)",
        ),
        ({"/f": Route(b"oops", status=500)}, "HTTP 500 Internal Server Error"),
        ({}, "HTTP 404 Not Found"),
        ({"/f": Route(rss([]), delay=2)}, "timed out after 0.3 s"),
        ({"/f": Route(b"x" * 3000)}, "body larger than the 2 KB size cap"),
        ({"/f": Route(b"x" * 3000, chunked=True)}, "body larger than the 2 KB size cap"),
        (
            {"/f": Route(gzip.compress(b"x" * 100_000), headers={"Content-Encoding": "gzip"})},
            "body larger than the 2 KB size cap",
        ),
    ],
    ids=[
        "loop",
        "too-many",
        "to-file",
        "500",
        "404",
        "slow",
        "oversize",
        "oversize-chunked",
        "gzip-bomb",
    ],
)
def test_fetch_errors(server, routes, error):
    server.routes.update(routes)
    got = fetch(server.url("/f"), agent=AGENT, timeout=0.3, max_bytes=2048)
    assert got.error == error.format(u=server.url("")) and got.body is None


def test_fetch_gzip_and_local_files(server, tmp_path):
    server.routes["/f"] = Route(gzip.compress(rss([])), headers={"Content-Encoding": "gzip"})
    assert fetch(server.url("/f"), agent=AGENT).body == rss([])
    path = tmp_path / "feed.xml"
    path.write_bytes(rss([]))
    first = fetch(f"file://{path}", agent=AGENT)
    assert first.body == rss([])
    assert fetch(str(path), agent=AGENT, last_modified=first.last_modified).not_modified
    assert fetch(str(tmp_path / "gone.xml"), agent=AGENT).error == (
        f"file not found: {tmp_path / 'gone.xml'}"
    )


def test_fetch_connection_refused():
    got = fetch("http://127.0.0.1:9/feed", agent=AGENT, timeout=1)
    assert got.error == "connection refused"


# --- entries -------------------------------------------------------------------------


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
    assert entry.link == "https://e.org/news/1?utm_source=rss"
    assert entry.guid == "tag:1" and str(entry.date) == "2026-10-05"
    assert entry.summary == (
        '<p>See <a href="https://e.org/more" rel="noopener noreferrer">more</a>'
        '<img src="https://e.org/b.png" alt="Chart"></p>'
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


# --- audit: fetching edge cases, the registry's URLs, entry cleaning ------------------


def test_fetch_deadline_covers_a_dripping_body(server):
    """A server sending a byte at a time never trips the socket timeout; the deadline must."""
    import time

    server.routes["/f"] = Route(b"x" * 200, drip=0.05)
    start = time.monotonic()
    got = fetch(server.url("/f"), agent=AGENT, timeout=0.5)
    assert got.error == "timed out after 0.5 s" and got.body is None
    assert time.monotonic() - start < 2


def test_fetch_deadline_covers_dripping_headers(server):
    """The deadline also covers the wait for the status line and headers, not only the body."""
    import time

    server.routes["/f"] = Route(rss([]), drip_head=0.05)  # about 2 s to the end of the headers
    start = time.monotonic()
    got = fetch(server.url("/f"), agent=AGENT, timeout=0.5)
    assert got.error == "timed out after 0.5 s" and got.body is None
    assert time.monotonic() - start < 1.5


def test_fetch_deadline_covers_every_redirect(server):
    """Each hop is quick, but together they pass the deadline: one deadline, not one per hop."""
    for hop in range(4):
        server.routes[f"/r{hop}"] = Route(
            status=302, headers={"Location": f"/r{hop + 1}"}, delay=0.2
        )
    server.routes["/r4"] = Route(rss([]))
    got = fetch(server.url("/r0"), agent=AGENT, timeout=0.5)
    assert got.error == "timed out after 0.5 s"


@pytest.mark.parametrize(
    "route,error",
    [
        (Route(b"x" * 1000, cut=6), "body cut short (6 of 1000 bytes arrived)"),
        (  # counted before gunzip, as Content-Length counts
            Route(gzip.compress(b"x" * 1000), headers={"Content-Encoding": "gzip"}, cut=10),
            f"body cut short (10 of {len(gzip.compress(b'x' * 1000))} bytes arrived)",
        ),
        (  # no length to compare with: the gzip stream itself is incomplete
            Route(gzip.compress(rss([]))[:-12], headers={"Content-Encoding": "gzip"}, chunked=True),
            "body cut short (the gzip stream is incomplete)",
        ),
    ],
    ids=["plain", "gzip", "gzip-no-length"],
)
def test_fetch_refuses_a_body_cut_short(server, route, error):
    server.routes["/f"] = route
    got = fetch(server.url("/f"), agent=AGENT)
    assert (got.error, got.body) == (error, None)


def test_fetch_reasons_are_printable(server):
    """A server chooses the Location; its control characters never reach a terminal."""
    server.routes["/f"] = Route(status=302, headers={"Location": "ftp://x/\x1b[2J\x9b0m"})
    assert fetch(server.url("/f"), agent=AGENT).error == "redirect to a non-web URL (ftp://x/[2J0m)"


@pytest.mark.parametrize(
    "url,path",
    [
        ("/actualit\u00e9s/fil", "/actualit%C3%A9s/fil"),
        ("/a b.xml", "/a%20b.xml"),
        ("/f?q=\u00fc&x=%20", "/f?q=%C3%BC&x=%20"),
    ],
    ids=["non-ascii-path", "space", "non-ascii-query"],
)
def test_fetch_sends_an_iri_as_a_uri(server, url, path):
    server.routes[path] = Route(rss([]))
    got = fetch(server.url(url), agent=AGENT)
    assert got.error is None and got.body == rss([])
    assert server.requests[-1][0] == path


@pytest.mark.parametrize(
    "location,error",
    [
        ("http://[::1/x", "redirect to an invalid URL (http://[::1/x)"),
        ("http://x.org:99999/f", "redirect to an invalid URL (http://x.org:99999/f)"),
    ],
)
def test_fetch_refuses_a_malformed_redirect(server, location, error):
    server.routes["/f"] = Route(status=302, headers={"Location": location})
    assert fetch(server.url("/f"), agent=AGENT).error == error


def test_fetch_relative_redirect_with_non_ascii(server):
    server.routes["/f"] = Route(status=307, headers={"Location": "new%20feed"})
    server.routes["/new%20feed"] = Route(rss([]))
    got = fetch(server.url("/f"), agent=AGENT)
    assert got.body == rss([]) and got.url == server.url("/new%20feed")


@pytest.mark.parametrize(
    "url,message",
    [
        ("http://[::1/rss", "http://[::1/rss: not a valid URL. Check it and try again."),
        (
            "https://x.org:99999/rss",
            "https://x.org:99999/rss: not a valid URL. Check it and try again.",
        ),
        ("", "URL: empty. Give an http(s) URL, a file:// URL or a path."),
        ("HTTPS://A.ORG/rss", "https://a.org/rss: already registered as 'A'."),
        ("https:///rss", "https:///rss: not a feed URL. Use https://..., file://... or a path."),
    ],
    ids=["ipv6-unclosed", "port", "empty", "case-of-host", "no-host"],
)
def test_feeds_add_refuses_bad_urls_without_a_traceback(project, url, message):
    run(project, "feeds", "add", "https://a.org/rss", "--section", "news", "--name", "A")
    result = run(project, "feeds", "add", url, "--section", "news")
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"


def test_feeds_add_lowercases_scheme_and_host_only(project):
    out = run(project, "feeds", "add", "HTTPS://News.UN.org/Feed/RSS", "--section", "news").output
    assert out == "Added feed 'news.un.org' (news): https://news.un.org/Feed/RSS\n"
    assert run(project, "feeds", "remove", "https://NEWS.un.org/Feed/RSS").exit_code == 0


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
        ' <a href="https://cdn.e.org/x" rel="noopener noreferrer">cdn</a>'
        ' <img src="https://e.org/blog/posts/p.png" alt="P"></p>'
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
