"""newsletter.download: the one HTTP client, ``fetch``, against a local HTTP server.

Its own behaviour (conditional requests, redirects, deadlines, size caps, bodies
cut short), and that `collect` (feeds) and `contacts sync` (agency lists), which
both use it, fail alike: each case serves one failure on 127.0.0.1, lets both
commands meet it, and checks that both print the same reason; only the size cap
is their own.
"""

from __future__ import annotations

import gzip
import socket

import pytest
from helpers import Route, cli, configure_sources, make_issue, rss

from newsletter import __version__
from newsletter.download import fetch

MB = 1024 * 1024
CAPS = {"collect": "5 MB", "sync": "20 MB"}  # each caller's own size cap, as today


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redirects(count: int) -> dict[str, Route]:
    """/f -> /f1 -> /f2 ... -> /f{count}, every hop a redirect."""
    return {
        f"/f{i}" if i else "/f": Route(status=302, headers={"Location": f"/f{i + 1}"})
        for i in range(count)
    }


# Routes are built when a case runs (the oversized body is 21 MB); None: no server at all.
CASES = {
    "404": (dict, "HTTP 404 Not Found"),
    "500": (lambda: {"/f": Route(b"oops", status=500)}, "HTTP 500 Internal Server Error"),
    "silent": (lambda: {"/f": Route(rss([]), delay=3)}, "timed out after 1 s"),
    "dripping": (lambda: {"/f": Route(rss([]), drip=0.05)}, "timed out after 1 s"),
    "too big": (
        lambda: {"/f": Route(b"x" * (21 * MB))},
        "body larger than the {cap} size cap",
    ),
    "redirect loop": (
        lambda: {
            "/f": Route(status=302, headers={"Location": "/g"}),
            "/g": Route(status=301, headers={"Location": "/f"}),
        },
        "redirect loop ({u}/f -> {u}/g -> {u}/f)",
    ),
    "too many redirects": (lambda: redirects(9), "more than 5 redirects"),
    "redirect to a file": (
        lambda: {"/f": Route(status=301, headers={"Location": "file:///etc/passwd"})},
        "redirect to a non-web URL (file:///etc/passwd)",
    ),
    "cut short": (
        lambda: {"/f": Route(b"Email\n" + b"x" * 994, cut=6)},
        "body cut short (6 of 1000 bytes arrived)",
    ),
    "refused": (None, "connection refused"),
}


@pytest.mark.parametrize("routes,reason", CASES.values(), ids=CASES.keys())
def test_collect_and_sync_give_the_same_reason(project, feed_server, monkeypatch, routes, reason):
    monkeypatch.chdir(project)
    if routes is None:
        url = f"http://127.0.0.1:{closed_port()}/f"
    else:
        feed_server.routes.update(routes())
        url = feed_server.url("/f")
    expect = {caller: reason.format(u=feed_server.url(""), cap=cap) for caller, cap in CAPS.items()}

    make_issue(project)
    cli(project, "feeds", "add", url, "--section", "news", "--name", "Bad")
    collected = cli(project, "collect", "2026-Q4", "--timeout", "1")
    assert (collected.exit_code, collected.stderr) == (
        1,
        f"warning: Bad: {expect['collect']}\n"
        "Error: feeds: every feed failed. Check the URLs above, then collect again.\n",
    )

    configure_sources(
        project, f'{{ name = "bad", organisation = "UNICEF", url = "{url}", timeout = 1 }}'
    )
    synced = cli(project, "contacts", "sync")
    assert (synced.exit_code, synced.output) == (
        1,  # no source could be loaded
        f"warning: source 'bad': {url}: {expect['sync']}. Nothing changed for it.\n",
    )


AGENT = f"newsletter/{__version__} (+https://focalpoint.example.org)"


def test_fetch_sends_user_agent_and_conditional_headers(feed_server):
    feed_server.routes["/f"] = Route(
        rss([]), etag='"v1"', last_modified="Mon, 05 Oct 2026 10:00:00 GMT"
    )
    first = fetch(feed_server.url("/f"), agent=AGENT)
    assert first.body == rss([]) and first.etag == '"v1"' and not first.not_modified
    again = fetch(
        feed_server.url("/f"), agent=AGENT, etag=first.etag, last_modified=first.last_modified
    )
    assert again.not_modified and again.body is None and again.error is None
    (_, h1), (_, h2) = feed_server.requests
    assert h1["user-agent"] == AGENT and "if-none-match" not in h1
    assert h2["if-none-match"] == '"v1"'
    assert h2["if-modified-since"] == "Mon, 05 Oct 2026 10:00:00 GMT"


def test_fetch_redirects(feed_server):
    feed_server.routes["/old"] = Route(status=301, headers={"Location": "/mid"})
    feed_server.routes["/mid"] = Route(status=308, headers={"Location": "/new"})
    feed_server.routes["/new"] = Route(rss([]))
    feed_server.routes["/temp"] = Route(status=302, headers={"Location": "/old"})
    moved = fetch(feed_server.url("/old"), agent=AGENT)
    assert moved.body == rss([]) and moved.moved_to == feed_server.url("/new")
    temporary = fetch(feed_server.url("/temp"), agent=AGENT)
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
def test_fetch_errors(feed_server, routes, error):
    feed_server.routes.update(routes)
    got = fetch(feed_server.url("/f"), agent=AGENT, timeout=0.3, max_bytes=2048)
    assert got.error == error.format(u=feed_server.url("")) and got.body is None


def test_fetch_gzip_and_local_files(feed_server, tmp_path):
    feed_server.routes["/f"] = Route(gzip.compress(rss([])), headers={"Content-Encoding": "gzip"})
    assert fetch(feed_server.url("/f"), agent=AGENT).body == rss([])
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


def test_fetch_deadline_covers_a_dripping_body(feed_server):
    """A feed_server sending a byte at a time never trips the socket timeout; the deadline must."""
    import time

    feed_server.routes["/f"] = Route(b"x" * 200, drip=0.05)
    start = time.monotonic()
    got = fetch(feed_server.url("/f"), agent=AGENT, timeout=0.5)
    assert got.error == "timed out after 0.5 s" and got.body is None
    assert time.monotonic() - start < 2


def test_fetch_deadline_covers_dripping_headers(feed_server):
    """The deadline also covers the wait for the status line and headers, not only the body."""
    import time

    feed_server.routes["/f"] = Route(rss([]), drip_head=0.05)  # about 2 s to the end of the headers
    start = time.monotonic()
    got = fetch(feed_server.url("/f"), agent=AGENT, timeout=0.5)
    assert got.error == "timed out after 0.5 s" and got.body is None
    assert time.monotonic() - start < 1.5


def test_fetch_deadline_covers_every_redirect(feed_server):
    """Each hop is quick, but together they pass the deadline: one deadline, not one per hop."""
    for hop in range(4):
        feed_server.routes[f"/r{hop}"] = Route(
            status=302, headers={"Location": f"/r{hop + 1}"}, delay=0.2
        )
    feed_server.routes["/r4"] = Route(rss([]))
    got = fetch(feed_server.url("/r0"), agent=AGENT, timeout=0.5)
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
def test_fetch_refuses_a_body_cut_short(feed_server, route, error):
    feed_server.routes["/f"] = route
    got = fetch(feed_server.url("/f"), agent=AGENT)
    assert (got.error, got.body) == (error, None)


def test_fetch_reasons_are_printable(feed_server):
    """A feed_server chooses the Location; its control characters never reach a terminal."""
    feed_server.routes["/f"] = Route(status=302, headers={"Location": "ftp://x/\x1b[2J\x9b0m"})
    assert (
        fetch(feed_server.url("/f"), agent=AGENT).error
        == "redirect to a non-web URL (ftp://x/[2J0m)"
    )


@pytest.mark.parametrize(
    "url,path",
    [
        ("/actualit\u00e9s/fil", "/actualit%C3%A9s/fil"),
        ("/a b.xml", "/a%20b.xml"),
        ("/f?q=\u00fc&x=%20", "/f?q=%C3%BC&x=%20"),
    ],
    ids=["non-ascii-path", "space", "non-ascii-query"],
)
def test_fetch_sends_an_iri_as_a_uri(feed_server, url, path):
    feed_server.routes[path] = Route(rss([]))
    got = fetch(feed_server.url(url), agent=AGENT)
    assert got.error is None and got.body == rss([])
    assert feed_server.requests[-1][0] == path


@pytest.mark.parametrize(
    "location,error",
    [
        ("http://[::1/x", "redirect to an invalid URL (http://[::1/x)"),
        ("http://x.org:99999/f", "redirect to an invalid URL (http://x.org:99999/f)"),
    ],
)
def test_fetch_refuses_a_malformed_redirect(feed_server, location, error):
    feed_server.routes["/f"] = Route(status=302, headers={"Location": location})
    assert fetch(feed_server.url("/f"), agent=AGENT).error == error


def test_fetch_relative_redirect_with_non_ascii(feed_server):
    feed_server.routes["/f"] = Route(status=307, headers={"Location": "new%20feed"})
    feed_server.routes["/new%20feed"] = Route(rss([]))
    got = fetch(feed_server.url("/f"), agent=AGENT)
    assert got.body == rss([]) and got.url == feed_server.url("/new%20feed")
