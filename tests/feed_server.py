"""A feed server on 127.0.0.1 for the feed tests: canned routes, recorded requests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers. ``etag`` set: a matching If-None-Match gets a 304."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/xml"})
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    chunked: bool = False  # no Content-Length: the client must count the bytes
    drip: float = 0.0  # seconds between single bytes of the body: slow but never silent
    drip_head: float = 0.0  # the same for the status line and headers
    cut: int | None = None  # send only this many bytes of the body, then hang up


class _Quiet(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's default of 5 drops bursts of connects

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up on an oversized body is expected here


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.path, headers))
                route = server.routes.get(self.path, Route(b"not found", 404))
                if route.delay:
                    time.sleep(route.delay)
                fresh = route.etag and headers.get("if-none-match") == route.etag
                fresh = fresh or (
                    route.last_modified and headers.get("if-modified-since") == route.last_modified
                )
                status = 304 if fresh else route.status
                if route.drip_head:  # written by hand: send_response() sends all at once
                    head = f"HTTP/1.1 {status} OK\r\nContent-Length: {len(route.body)}\r\n\r\n"
                    for byte in head.encode():
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.drip_head)
                    self.wfile.write(route.body)
                    return
                self.send_response(status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                body = b"" if status == 304 else route.body
                if route.drip and body:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.drip)
                    return
                if route.cut is not None:  # promises the whole body, sends the start
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: route.cut])
                    self.close_connection = True
                    return
                if route.chunked and body:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for start in range(0, len(body), 65536):
                        self.wfile.write(body[start : start + 65536])
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; each item maps element names to (escaped) text."""
    body = "".join(
        "<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in item.items()) + "</item>" for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://example.org/</link>{body}</channel></rss>\n"
    ).encode()
