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
import threading
import time

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
    cli(project, "feeds", "add", url, "--section", "news", "--name", "Bad", "--allow-private")
    collected = cli(project, "collect", "2026-Q4", "--timeout", "1")
    assert (collected.exit_code, collected.stderr) == (
        1,
        f"warning: Bad: {expect['collect']}\n"
        "Error: feeds: every feed failed. Check the URLs above, then collect again.\n",
    )

    configure_sources(
        project,
        f'{{ name = "bad", organisation = "UNICEF", url = "{url}", timeout = 1, allow_private = true }}',
    )
    synced = cli(project, "contacts", "sync")
    assert (synced.exit_code, synced.output) == (
        1,  # no source could be loaded
        f"warning: source 'bad': {url}: {expect['sync']}. Nothing changed for it.\n",
    )


AGENT = f"newsletter/{__version__} (+https://focalpoint.example.org)"
LOCAL = "127.0.0.1"  # the test server's host, allowed on purpose (a loopback address)


def test_fetch_sends_user_agent_and_conditional_headers(feed_server):
    feed_server.routes["/f"] = Route(
        rss([]), etag='"v1"', last_modified="Mon, 05 Oct 2026 10:00:00 GMT"
    )
    first = fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL)
    assert first.body == rss([]) and first.etag == '"v1"' and not first.not_modified
    again = fetch(
        feed_server.url("/f"),
        agent=AGENT,
        private_host=LOCAL,
        etag=first.etag,
        last_modified=first.last_modified,
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
    moved = fetch(feed_server.url("/old"), agent=AGENT, private_host=LOCAL)
    assert moved.body == rss([]) and moved.moved_to == feed_server.url("/new")
    temporary = fetch(feed_server.url("/temp"), agent=AGENT, private_host=LOCAL)
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
    got = fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL, timeout=0.3, max_bytes=2048)
    assert got.error == error.format(u=feed_server.url("")) and got.body is None


def test_fetch_gzip_and_local_files(feed_server, tmp_path):
    feed_server.routes["/f"] = Route(gzip.compress(rss([])), headers={"Content-Encoding": "gzip"})
    assert fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL).body == rss([])
    path = tmp_path / "feed.xml"
    path.write_bytes(rss([]))
    first = fetch(f"file://{path}", agent=AGENT, private_host=LOCAL)
    assert first.body == rss([])
    assert fetch(
        str(path), agent=AGENT, private_host=LOCAL, last_modified=first.last_modified
    ).not_modified
    assert fetch(str(tmp_path / "gone.xml"), agent=AGENT, private_host=LOCAL).error == (
        f"file not found: {tmp_path / 'gone.xml'}"
    )


@pytest.mark.parametrize(
    "route",
    [Route(b"x" * (6 * MB)), Route(b"x" * (6 * MB), chunked=True), Route(b"x" * 1000, cut=600)],
    ids=["over the cap", "chunked", "cut short after the peek"],
)
def test_a_peek_reads_the_first_bytes_and_no_more(feed_server, route):
    feed_server.routes["/f"] = route
    got = fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL, max_bytes=512, peek=True)
    assert (got.error, got.body) == (None, b"x" * 512)
    headers = feed_server.requests[-1][1]
    assert (headers["range"], headers["accept-encoding"]) == ("bytes=0-511", "identity")


def test_fetch_connection_refused():
    got = fetch("http://127.0.0.1:9/feed", agent=AGENT, private_host=LOCAL, timeout=1)
    assert got.error == "connection refused"


def test_fetch_deadline_covers_a_dripping_body(feed_server):
    """A feed_server sending a byte at a time never trips the socket timeout; the deadline must."""
    import time

    feed_server.routes["/f"] = Route(b"x" * 200, drip=0.05)
    start = time.monotonic()
    got = fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL, timeout=0.5)
    assert got.error == "timed out after 0.5 s" and got.body is None
    assert time.monotonic() - start < 2


def test_fetch_deadline_covers_dripping_headers(feed_server):
    """The deadline also covers the wait for the status line and headers, not only the body."""
    import time

    feed_server.routes["/f"] = Route(rss([]), drip_head=0.05)  # about 2 s to the end of the headers
    start = time.monotonic()
    got = fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL, timeout=0.5)
    assert got.error == "timed out after 0.5 s" and got.body is None
    assert time.monotonic() - start < 1.5


def test_fetch_deadline_covers_every_redirect(feed_server):
    """Each hop is quick, but together they pass the deadline: one deadline, not one per hop."""
    for hop in range(4):
        feed_server.routes[f"/r{hop}"] = Route(
            status=302, headers={"Location": f"/r{hop + 1}"}, delay=0.2
        )
    feed_server.routes["/r4"] = Route(rss([]))
    got = fetch(feed_server.url("/r0"), agent=AGENT, private_host=LOCAL, timeout=0.5)
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
    got = fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL)
    assert (got.error, got.body) == (error, None)


def test_fetch_reasons_are_printable(feed_server):
    """A feed_server chooses the Location; its control characters never reach a terminal."""
    feed_server.routes["/f"] = Route(status=302, headers={"Location": "ftp://x/\x1b[2J\x9b0m"})
    assert (
        fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL).error
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
    got = fetch(feed_server.url(url), agent=AGENT, private_host=LOCAL)
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
    assert fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL).error == error


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..b.example"])
def test_a_host_the_resolver_cannot_encode_is_not_found_without_a_thread_traceback(
    monkeypatch, host
):
    # getaddrinfo raised UnicodeError (not an OSError) in the lookup thread, which
    # printed a traceback before "host not found".
    escaped: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args.exc_value))
    got = fetch(f"http://{host}/feed", agent=AGENT, timeout=5)
    assert (got.error, escaped) == ("host not found", [])


def test_fetch_relative_redirect_with_non_ascii(feed_server):
    feed_server.routes["/f"] = Route(status=307, headers={"Location": "new%20feed"})
    feed_server.routes["/new%20feed"] = Route(rss([]))
    got = fetch(feed_server.url("/f"), agent=AGENT, private_host=LOCAL)
    assert got.body == rss([]) and got.url == feed_server.url("/new%20feed")


# -- addresses that are not public: refused unless that host was registered on purpose --


def test_a_local_feed_and_source_are_refused_unless_registered(project, feed_server, monkeypatch):
    """Issue 10: `collect` fetched 127.0.0.1 for any feed; now only a host allowed on purpose."""
    monkeypatch.chdir(project)
    feed_server.routes["/f"] = Route(rss([]))
    url = feed_server.url("/f")
    make_issue(project)
    cli(project, "feeds", "add", url, "--section", "news", "--name", "Local")
    collected = cli(project, "collect", "2026-Q4")
    allow = f"newsletter feeds add {url} --section news --allow-private"
    assert (collected.exit_code, collected.stderr) == (
        1,
        "warning: Local: refused: 127.0.0.1 is a loopback address; if that host is yours, "
        f"allow it with: {allow}\n"
        "Error: feeds: every feed failed. Check the URLs above, then collect again.\n",
    )
    configure_sources(project, f'{{ name = "local", organisation = "UNICEF", url = "{url}" }}')
    synced = cli(project, "contacts", "sync")
    assert (synced.exit_code, synced.output) == (
        1,
        f"warning: source 'local': {url}: refused: 127.0.0.1 is a loopback address; if that "
        "host is yours, set allow_private = true in this source. Nothing changed for it.\n",
    )
    assert feed_server.requests == []  # not one request went out

    # The command the warning gives allows the feed already registered.
    allowed = cli(project, "feeds", *allow.split()[2:])
    assert (allowed.exit_code, allowed.output) == (
        0,
        "Registered feed 'Local' may be fetched from a loopback or private address of "
        "127.0.0.1, and only from that host.\n",
    )
    assert cli(project, "collect", "2026-Q4").exit_code == 0
    assert [path for path, _ in feed_server.requests] == ["/f"]


@pytest.mark.parametrize(
    "host", ["localhost", "2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]", "0.0.0.0", "[::1]"]
)
def test_every_spelling_of_a_local_host_is_refused(feed_server, host):
    feed_server.routes["/f"] = Route(rss([]))
    url = feed_server.url("/f").replace("127.0.0.1", host)
    got = fetch(url, agent=AGENT, private_host=LOCAL)  # 127.0.0.1 allowed: not its other names
    assert got.error.startswith(f"refused: {host.strip('[]')} ") and got.private
    assert feed_server.requests == []


def first_address(host: str, port: int) -> str:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0]


@pytest.mark.parametrize(
    "registered,other", [("127.0.0.1", "localhost"), ("localhost", "127.0.0.1")]
)
def test_a_redirect_to_another_local_host_is_refused(feed_server, registered, other):
    """Only the host registered on purpose may be local, not where it redirects to."""
    port = feed_server.httpd.server_address[1]
    target = f"http://{other}:{port}/g"
    feed_server.routes["/f"] = Route(status=302, headers={"Location": target})
    feed_server.routes["/g"] = Route(rss([]))
    start = f"http://{registered}:{port}/f"
    got = fetch(start, agent=AGENT, private_host=registered)
    address = first_address(other, port)
    resolves = (
        "is a loopback address"
        if address == other
        else f"resolves to a loopback address ({address})"
    )
    assert (got.url, got.error, got.private) == (
        target,
        f"refused: a redirect to {other}, which {resolves}",
        True,
    )
    assert [path for path, _ in feed_server.requests] == ["/f"]
    # A redirect within the registered host is followed.
    feed_server.routes["/f"] = Route(status=302, headers={"Location": "/g"})
    assert fetch(start, agent=AGENT, private_host=registered).body == rss([])


def test_collect_names_the_redirect_to_allow(project, feed_server, monkeypatch):
    monkeypatch.chdir(project)
    port = feed_server.httpd.server_address[1]
    target = f"http://localhost:{port}/g"
    feed_server.routes["/f"] = Route(status=301, headers={"Location": target})
    make_issue(project)
    cli(
        project,
        "feeds",
        "add",
        feed_server.url("/f"),
        "--section",
        "news",
        "--name",
        "Moved",
        "--allow-private",
    )
    collected = cli(project, "collect", "2026-Q4")
    address = first_address("localhost", port)
    assert collected.stderr.splitlines()[0] == (
        f"warning: Moved: refused: a redirect to localhost, which resolves to a loopback address "
        f"({address}); if that host is yours, register the address it redirects to instead: "
        f"newsletter feeds remove Moved, then newsletter feeds add {target} --section news "
        "--allow-private"
    )
    configure_sources(
        project,
        f'{{ name = "moved", organisation = "UNICEF", url = "{feed_server.url("/f")}", allow_private = true }}',
    )
    synced = cli(project, "contacts", "sync")
    assert synced.output == (
        f"warning: source 'moved': {feed_server.url('/f')}: refused: a redirect to localhost, "
        f"which resolves to a loopback address ({address}); if that host is yours, set "
        f'url = "{target}" and allow_private = true in this source. Nothing changed for it.\n'
    )


class FakeDNS:
    """socket.getaddrinfo with chosen answers per name; each lookup is counted."""

    def __init__(self, monkeypatch, answers: dict[str, list[str]], delay: float = 0.0) -> None:
        self.answers, self.delay, self.lookups = answers, delay, []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host not in self.answers:
                return real(host, port, *args, **kwargs)
            self.lookups.append(host)
            time.sleep(self.delay)
            turn = self.answers[host][min(len(self.lookups), len(self.answers[host])) - 1]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (turn, port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_public_looking_name_at_a_local_address_is_refused(feed_server, monkeypatch):
    dns = FakeDNS(monkeypatch, {"news.example.org": ["127.0.0.1"]})
    feed_server.routes["/f"] = Route(rss([]))
    url = feed_server.url("/f").replace("127.0.0.1", "news.example.org")
    got = fetch(url, agent=AGENT)
    assert got.error == "refused: news.example.org resolves to a loopback address (127.0.0.1)"
    assert feed_server.requests == [] and dns.lookups == ["news.example.org"]


def test_the_address_checked_is_the_address_connected_to(feed_server, monkeypatch):
    """DNS rebinding: a name that answers one address to the check, another to the connect.

    The connection looks the name up once, checks that answer and connects to
    it. Were it looked up again to connect, the second answer (127.0.0.2, where
    nothing listens) would be refused a connection.
    """
    dns = FakeDNS(monkeypatch, {"feeds.internal": ["127.0.0.1", "127.0.0.2"]})
    feed_server.routes["/f"] = Route(rss([]))
    url = feed_server.url("/f").replace("127.0.0.1", "feeds.internal")
    got = fetch(url, agent=AGENT, private_host="feeds.internal", timeout=2)
    assert (got.error, got.body) == (None, rss([]))
    assert dns.lookups == ["feeds.internal"]


def test_the_deadline_covers_the_dns_lookup(monkeypatch):
    FakeDNS(monkeypatch, {"slow.example.org": ["93.184.216.34"]}, delay=3)
    start = time.monotonic()
    got = fetch("http://slow.example.org/f", agent=AGENT, timeout=0.5)
    assert got.error == "timed out after 0.5 s"
    assert time.monotonic() - start < 1.5
