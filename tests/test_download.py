"""One HTTP client: `collect` (feeds) and `contacts sync` (agency lists) fail alike.

Each case serves one failure on 127.0.0.1, lets both commands meet it, and
checks that both print the same reason; only the size cap is their own.
"""

from __future__ import annotations

import socket

import pytest
from helpers import FeedServer, Route, make_issue, rss
from test_collect import run
from test_contacts_sync import configure

MB = 1024 * 1024
CAPS = {"collect": "5 MB", "sync": "20 MB"}  # each caller's own size cap, as today


@pytest.fixture
def server():
    with FeedServer() as srv:
        yield srv


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


# Routes are built when a case runs (the oversized body is 21 MB); None: no server.
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
def test_collect_and_sync_give_the_same_reason(project, server, monkeypatch, routes, reason):
    monkeypatch.chdir(project)
    if routes is None:
        url = f"http://127.0.0.1:{closed_port()}/f"
    else:
        server.routes.update(routes())
        url = server.url("/f")
    expect = {caller: reason.format(u=server.url(""), cap=cap) for caller, cap in CAPS.items()}

    make_issue(project)
    run(project, "feeds", "add", url, "--section", "news", "--name", "Bad")
    collected = run(project, "collect", "2026-Q4", "--timeout", "1")
    assert (collected.exit_code, collected.stderr) == (
        1,
        f"warning: Bad: {expect['collect']}\n"
        "Error: feeds: every feed failed. Check the URLs above, then collect again.\n",
    )

    configure(project, f'{{ name = "bad", organisation = "UNICEF", url = "{url}", timeout = 1 }}')
    synced = run(project, "contacts", "sync")
    assert (synced.exit_code, synced.output) == (
        1,  # no source could be loaded
        f"warning: source 'bad': {url}: {expect['sync']}. Nothing changed for it.\n",
    )
