"""Collect benchmark: 50 feeds of 100 entries each, served from a local HTTP server.

Not a test. Run: python benchmarks/collect.py [--feeds 50] [--entries 100]

Prints the first collect (fetch, parse, de-duplicate, write the inbox files,
record the run) and the second (every feed answers 304 Not Modified), each
timed in-process, beside baselines measured in the same run: a bare urllib
fetch of the same URLs with the same 8 threads, feedparser parsing the same
documents one after another, and writing as many files of the same size with
a temporary name and a rename, so a slow disk shows up as such. Targets:
first run under 3 s, second under 0.5 s.

Like a real feed, each one's entries are two days apart, newest first, so
about 40 of the 100 fall in the issue's quarter; --all-new dates every entry
inside the quarter (5,000 inbox files) for the worst case.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsletter.config import load_settings  # noqa: E402
from newsletter.feeds import registry as feeds  # noqa: E402
from newsletter.feeds.collector import collect  # noqa: E402
from newsletter.store import open_db  # noqa: E402

SECTIONS = ("news", "tools", "events", "spotlight")


def feed_xml(n: int, entries: int, all_new: bool) -> bytes:
    newest = dt.datetime(2026, 12, 20, 9, tzinfo=dt.UTC)
    step = dt.timedelta(hours=19) if all_new else dt.timedelta(days=2)
    items = []
    for i in range(entries):
        when = format_datetime(newest - step * i - dt.timedelta(minutes=n), usegmt=True)
        items.append(
            f"<item><title>Agency {n} story {i}: partnerships with business in the UN system"
            f"</title><link>https://agency{n}.example.org/news/{i}?utm_source=rss</link>"
            f"<guid>https://agency{n}.example.org/news/{i}</guid><pubDate>{when}</pubDate>"
            "<description>&lt;p&gt;What &lt;b&gt;changed&lt;/b&gt; this quarter for focal "
            f"points, and where to &lt;a href='/news/{i}/more'&gt;read more&lt;/a&gt;. A few "
            "sentences, as a real summary would have, about procurement, due diligence and "
            "partnership agreements.&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Agency {n}</title><link>https://agency{n}.example.org/</link>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def serve(bodies: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies[self.path]
            etag = f'"{len(body)}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128  # socketserver's default of 5 drops bursts of connects

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--all-new", action="store_true", help="date every entry in the quarter")
    args = parser.parse_args()
    bodies = {f"/feed/{n}.xml": feed_xml(n, args.entries, args.all_new) for n in range(args.feeds)}
    server = serve(bodies)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="newsletter-bench-"))
    try:
        text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
        (tmp / "pyproject.toml").write_text(text[text.index("[tool.newsletter]") :])
        folder = tmp / "issues" / "2026-Q4"
        folder.mkdir(parents=True)
        settings = load_settings(tmp)
        db = open_db(tmp / "contacts.db")
        for n, path in enumerate(bodies):
            feeds.add_feed(db, settings, base + path, SECTIONS[n % 4], f"Agency {n}", True)

        def fetch_all() -> None:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda p: urllib.request.urlopen(base + p).read(), bodies))

        t = time.perf_counter()
        fetch_all()
        baseline_fetch = time.perf_counter() - t
        t = time.perf_counter()
        for body in bodies.values():
            feedparser.parse(body, response_headers={"content-type": "application/rss+xml"})
        baseline_parse = time.perf_counter() - t

        t = time.perf_counter()
        first = collect(db, settings, folder)
        first_time = time.perf_counter() - t
        sample = (folder / "inbox" / first.written[0]).read_bytes() if first.written else b""
        scratch = tmp / "scratch"
        scratch.mkdir()
        t = time.perf_counter()
        for n in range(len(first.written)):
            (scratch / f".{n}.tmp").write_bytes(sample)
            os.replace(scratch / f".{n}.tmp", scratch / f"{n}.md")
        baseline_write = time.perf_counter() - t
        t = time.perf_counter()
        second = collect(db, settings, folder)
        second_time = time.perf_counter() - t
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    statuses = ", ".join(sorted({f.status for f in second.feeds}))
    n, total = len(first.written), args.feeds * args.entries
    rows = [
        (f"baseline: urllib fetch of the {args.feeds} URLs, 8 threads", baseline_fetch, ""),
        (f"baseline: feedparser.parse of the {args.feeds} documents", baseline_parse, ""),
        (f"baseline: write and rename {n} files like the inbox's", baseline_write, ""),
        (f"first run: {n} of {total} entries new, in the inbox", first_time, "target < 3 s"),
        (
            f"second run: {len(second.written)} new, every feed {statuses}",
            second_time,
            "target < 0.5 s",
        ),
    ]
    print(
        f"collect: {args.feeds} feeds x {args.entries} entries from a local HTTP server, "
        f"{os.cpu_count()} CPUs"
    )
    for label, seconds, target in rows:
        print(f"  {label:<58} {seconds:6.3f} s  {target}".rstrip())


if __name__ == "__main__":
    main()
