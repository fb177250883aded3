"""newsletter.build.pictures: a picture that would not show is a build warning naming its item.

Pictures are served by FeedServer on 127.0.0.1 over plain HTTP and checked with
that host registered on purpose (``private_host``), as the feeds' tests do; a
build from the command line refuses the loopback address like any private one.
"""

from __future__ import annotations

import json
import time

import pytest
from helpers import FeedServer, Route, cli, free_port, item, make_issue

from newsletter.build.pictures import PEEK, check_pictures
from newsletter.models import Item

PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
AGENT = "newsletter-test"
FIX = "; inboxes would show its alt text. Correct 'image:' or remove it."


def pictured(url: str, path: str = "items/a.md") -> Item:
    return Item(slug="a", title="A", section="news", summary_html="", path=path, image=url)


def check(*items: Item, timeout: float = 2.0) -> list[str]:
    return [f.message for f in check_pictures(items, AGENT, timeout, private_host="127.0.0.1")]


CASES = {
    "a PNG": (Route(PNG, headers={"Content-Type": "image/png"}), None),
    "a JPEG of 8 MB, more than any size cap": (
        Route(b"\xff\xd8\xff" + bytes(8 * 1024 * 1024), headers={"Content-Type": "image/jpeg"}),
        None,
    ),
    "not found": (Route(b"gone", 404, headers={"Content-Type": "text/plain"}), "cannot be "
                  "fetched (HTTP 404 Not Found)"),
    "a web page": (Route(b"<html>", headers={"Content-Type": "text/html; charset=utf-8"}),
                   "is not a picture (the server says text/html)"),
    "no content type": (Route(PNG, headers={}), "is not a picture (the server says no type)"),
    "too slow": (Route(PNG, headers={"Content-Type": "image/png"}, delay=2.0),
                 "cannot be fetched (timed out after 0.5 s)"),
}  # fmt: skip


@pytest.mark.parametrize("route,reason", CASES.values(), ids=CASES.keys())
def test_a_picture_that_would_not_show_is_a_warning(route, reason):
    with FeedServer() as server:
        server.routes["/p.png"] = route
        url = server.url("/p.png")
        found = check(pictured(url), timeout=0.5)
    assert found == ([f"items/a.md: the picture {url} {reason}{FIX}"] if reason else [])


def test_only_the_first_bytes_are_asked_for_and_redirects_are_followed():
    with FeedServer() as server:
        server.routes["/moved.png"] = Route(status=301, headers={"Location": "/p.png"})
        server.routes["/p.png"] = Route(PNG, headers={"Content-Type": "image/png"})
        assert check(pictured(server.url("/moved.png"))) == []
    assert [(path, h["range"]) for path, h in server.requests] == [
        ("/moved.png", f"bytes=0-{PEEK - 1}"),
        ("/p.png", f"bytes=0-{PEEK - 1}"),
    ]


def test_a_refused_connection_and_a_loopback_address_are_warnings():
    refused = f"http://127.0.0.1:{free_port()}/p.png"
    assert check(pictured(refused)) == [
        f"items/a.md: the picture {refused} cannot be fetched (connection refused){FIX}"
    ]
    with FeedServer() as server:
        server.routes["/p.png"] = Route(PNG, headers={"Content-Type": "image/png"})
        url = server.url("/p.png")
        found = check_pictures([pictured(url)], AGENT)  # 127.0.0.1 not registered
        assert server.requests == []
    assert [f.message for f in found] == [
        f"items/a.md: the picture {url} cannot be fetched "
        f"(refused: 127.0.0.1 is a loopback address){FIX}"
    ]
    assert {(f.rule, f.severity) for f in found} == {("picture", "warning")}


def test_pictures_are_requested_side_by_side_and_each_url_once():
    slow = Route(PNG, headers={"Content-Type": "image/png"}, delay=3.0)
    with FeedServer() as server:
        for n in range(16):
            server.routes[f"/{n}.png"] = slow
        items = [pictured(server.url(f"/{n}.png"), f"items/{n}.md") for n in range(16)]
        items.append(pictured(server.url("/0.png"), "items/again.md"))
        start = time.monotonic()
        found = check(*items, timeout=0.5)
        elapsed = time.monotonic() - start
    # One after the other, 16 timeouts would take 8 s; eight at a time, two rounds.
    assert elapsed < 4, elapsed
    assert [m.split(":")[0] for m in found] == [
        *(f"items/{n}.md" for n in range(16)),
        "items/again.md",
    ]
    assert sorted(path for path, _ in server.requests) == sorted(f"/{n}.png" for n in range(16))


PICTURE = "https://127.0.0.1:9/p.png"  # loopback: refused, no request leaves the machine
WITH_PICTURE = {
    "pic.md": item("With a picture", extra=f"image: {PICTURE}\nimage_alt: A chart\n"),
    "plain.md": item("Without one"),
}


def test_build_warns_of_a_broken_picture_and_never_says_no_findings(project):
    make_issue(project, items=WITH_PICTURE)
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    warning = (
        f"picture: issues/2026-Q4/items/pic.md: the picture {PICTURE} cannot be fetched "
        f"(refused: 127.0.0.1 is a loopback address){FIX}"
    )
    assert result.output.splitlines()[2:] == [
        f"warning: {warning}",
        "Accessibility, size and pictures: 1 warning.",
    ]
    report = json.loads((project / "issues/2026-Q4/build/report.json").read_text())
    assert report["ok"] is True and report["warnings"] == [warning]


def test_build_offline_requests_no_picture_and_says_so(project):
    make_issue(project, items=WITH_PICTURE)
    result = cli(project, "build", "2026-Q4", "--offline")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:] == [
        "Accessibility and size: no findings; pictures not checked (--offline).",
    ]
    report = json.loads((project / "issues/2026-Q4/build/report.json").read_text())
    assert report["warnings"] == []
