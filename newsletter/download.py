"""Fetching one feed politely: timeout, size cap, conditional GET, redirects by hand.

``fetch`` never raises for a feed's own failures: a timeout, an HTTP error, a
redirect loop or an oversized body comes back as ``Fetched.error``, one short
reason that ``collect`` prints as a warning and counts against the feed. Local
paths and file:// URLs are read directly, with the file's mtime as validator.
"""

from __future__ import annotations

import email.utils
import http.client
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from newsletter import __version__
from newsletter.config import Settings

TIMEOUT = 20.0  # seconds for the whole request, body included
MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


def is_local(url: str) -> bool:
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed "[" in the host: not a path either
        return False
    return scheme == "file" or scheme == "" or (len(scheme) == 1 and os.name == "nt")


def local_path(url: str) -> Path:
    if url.lower().startswith("file:"):
        return Path(urllib.request.url2pathname(urlsplit(url).path))
    return Path(url)


@dataclass(frozen=True)
class Fetched:
    """What one request gave: a body, "not modified", or an error reason."""

    url: str  # the URL finally answered, after redirects
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()  # lower-cased names
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # set when every redirect on the way was permanent
    error: str | None = None


def user_agent(settings: Settings) -> str:
    return f"newsletter/{__version__} (+{settings.web_url})"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, to count them, spot loops and vet the Location."""

    def http_error_302(self, *args, **kwargs):
        return None  # not even parsed here: urllib's own urljoin raises on a bad Location

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


_OPENER = urllib.request.build_opener(_NoRedirect())


def fetch(
    url: str,
    *,
    agent: str,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> Fetched:
    """GET a feed with conditional headers, following redirects by hand."""
    if is_local(url):
        return _fetch_local(url, last_modified, max_bytes)
    try:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return Fetched(url, error="not an http(s) URL, a file:// URL or a path")
        start = as_uri(url)
    except (UnicodeError, ValueError):
        return Fetched(url, error="not a valid URL")
    deadline = time.monotonic() + timeout
    visited = [start]
    permanent = True
    while True:
        headers = {"User-Agent": agent, "Accept-Encoding": "gzip", "Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = visited[-1]
        try:
            request = urllib.request.Request(current, headers=headers)
            with _OPENER.open(request, timeout=max(deadline - time.monotonic(), 0.01)) as resp:
                body = _read(resp, deadline, max_bytes)
                got = {k.lower(): v for k, v in resp.headers.items()}
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 304:
                return Fetched(
                    current,
                    not_modified=True,
                    etag=etag,
                    last_modified=last_modified,
                    moved_to=_moved(visited, permanent),
                )
            if exc.code not in (301, 302, 303, 307, 308):
                return Fetched(current, error=f"HTTP {exc.code} {exc.reason}".strip())
            location = exc.headers.get("Location")
            if not location:
                return Fetched(current, error=f"HTTP {exc.code} redirect without a Location")
            target, bad = _target(current, location)
            if bad:
                return Fetched(current, error=bad)
            if target in visited:
                return Fetched(current, error=f"redirect loop ({' -> '.join([*visited, target])})")
            if len(visited) > max_redirects:
                return Fetched(current, error=f"more than {max_redirects} redirects")
            permanent = permanent and exc.code in (301, 308)
            visited.append(target)
            continue
        except _TooBig:
            return Fetched(current, error=f"body larger than the {_size(max_bytes)} size cap")
        except TimeoutError:
            return Fetched(current, error=f"timed out after {timeout:g} s")
        except urllib.error.URLError as exc:
            return Fetched(current, error=_url_error(exc.reason, timeout))
        except (http.client.HTTPException, OSError, ValueError, zlib.error) as exc:
            return Fetched(current, error=_url_error(exc, timeout))
        return Fetched(
            current,
            body=body,
            headers=tuple(got.items()),
            etag=got.get("etag"),
            last_modified=got.get("last-modified"),
            moved_to=_moved(visited, permanent),
        )


def _target(current: str, location: str) -> tuple[str, str | None]:
    """Where a redirect leads, as a URI; or why it cannot be followed."""
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        if parts.scheme.lower() not in ("http", "https"):
            return target, f"redirect to a non-web URL ({target[:80]})"
        if not parts.hostname or parts.port == 0:  # .port raises past 65535
            raise ValueError("no host or port")
        return as_uri(target), None
    except (UnicodeError, ValueError):  # a malformed host, port or IDNA label
        return location, f"redirect to an invalid URL ({location.strip()[:80]})"


class _TooBig(Exception):
    pass


def as_uri(url: str) -> str:
    """An IRI as the ASCII URI http.client can send: IDNA host, path and query %-encoded."""
    if url.isascii() and not any(c.isspace() for c in url):
        return url
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").encode("idna").decode("ascii")
    host = f"[{host}]" if ":" in host else host
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + host + (f":{parts.port}" if parts.port else "")
    path = quote(parts.path, safe="/%:@!$&'()*+,;=~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=~")
    return urlunsplit((parts.scheme, quote(netloc, safe="@:[]%"), path, query, ""))


def _read(resp: http.client.HTTPResponse, deadline: float, max_bytes: int) -> bytes:
    length = resp.headers.get("Content-Length", "")
    gzipped = "gzip" in resp.headers.get("Content-Encoding", "").lower()
    if length.isdigit() and int(length) > max_bytes and not gzipped:
        raise _TooBig
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    # The socket timeout bounds each wait, not the whole body: a server dripping a
    # byte a second would never time out. So read what has arrived (read1), and
    # shrink the socket timeout to what is left of the deadline before each wait.
    sock = getattr(getattr(resp.fp, "raw", None), "_sock", None)
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if isinstance(sock, socket.socket):
            sock.settimeout(left)
        chunk = resp.read1(65536)
        if not chunk:
            break
        if inflate is not None:
            chunk = inflate.decompress(chunk, max_bytes + 1 - size)
        size += len(chunk)
        if size > max_bytes:
            raise _TooBig
        chunks.append(chunk)
    if inflate is not None:
        chunks.append(inflate.flush())
        if size + len(chunks[-1]) > max_bytes:
            raise _TooBig
    return b"".join(chunks)


def _moved(visited: list[str], permanent: bool) -> str | None:
    return visited[-1] if len(visited) > 1 and permanent else None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB"


def _url_error(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "host not found"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, http.client.RemoteDisconnected | http.client.IncompleteRead):
        return "the server closed the connection early"
    text = " ".join(str(reason).split()) or type(reason).__name__
    return text[:200]


def _fetch_local(url: str, last_modified: str | None, max_bytes: int) -> Fetched:
    path = local_path(url)
    try:
        stat = path.stat()
        if not path.is_file():
            return Fetched(url, error=f"not a file: {path}")
        if stat.st_size > max_bytes:
            return Fetched(url, error=f"body larger than the {_size(max_bytes)} size cap")
        stamp = email.utils.formatdate(stat.st_mtime, usegmt=True) + f" {stat.st_size}"
        if last_modified == stamp:
            return Fetched(url, not_modified=True, last_modified=stamp)
        body = path.read_bytes()
    except FileNotFoundError:
        return Fetched(url, error=f"file not found: {path}")
    except OSError as exc:
        return Fetched(url, error=f"cannot read {path} ({exc.strerror or exc})")
    return Fetched(url, body=body, last_modified=stamp)
