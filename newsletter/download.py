"""The one HTTP client: feeds for ``collect`` and agency lists for ``contacts sync``.

It is one client so that both get one deadline. A socket timeout bounds each
wait, not the exchange: a server that drips its body a byte a second never
trips it, and a sync with a 2 s timeout ran on for 45 s. Here every read from
the socket waits at most what is left of one deadline, which covers connecting
(not the DNS lookup, which Python cannot bound), every redirect, the headers
and the body. Both callers also share the size cap check (each passes its own
cap), the redirect policy (at most 5, http(s) only, no loops), the check for a
body cut short, the User-Agent and the wording of every failure.

``fetch`` never raises for a server's failures: a timeout, an HTTP error, a
redirect loop, an oversized or truncated body comes back as ``Fetched.error``,
one short line that is safe to print (servers choose some of its text, such
as a status reason or a Location). Local paths and file:// URLs are read
directly, with the file's mtime as validator.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from newsletter import __version__
from newsletter.config import Settings
from newsletter.models import FEED_TIMEOUT
from newsletter.sanitize import one_line

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

TIMEOUT = FEED_TIMEOUT  # seconds for the whole exchange: connect, redirects, headers and body
MAX_BYTES = 5 * 1024 * 1024  # a feed; callers with bigger documents pass their own cap
MAX_REDIRECTS = 5
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
# Control characters and bidi overrides: a server's text must not drive the terminal.


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
    error: str | None = None  # one printable line, without a final full stop

    def header(self, name: str) -> str | None:
        """The value of a response header, by name in any case."""
        return dict(self.headers).get(name.lower())


def user_agent(settings: Settings) -> str:
    """The User-Agent of every request, naming the newsletter's site for the server's admins."""
    return f"newsletter/{__version__} (+{settings.web_url})"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, to count them, spot loops and vet the Location."""

    def http_error_302(self, *args: object, **kwargs: object) -> None:
        return None  # not even parsed here: urllib's own urljoin raises on a bad Location

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class _Request(urllib.request.Request):
    """A request that carries the deadline of the whole exchange to the connection."""

    def __init__(self, url: str, headers: dict[str, str], deadline: float) -> None:
        super().__init__(url, headers=headers)
        self.deadline = deadline


class _DeadlineReader(io.RawIOBase):
    """A socket's reads, each waiting at most what is left of the deadline.

    http.client reads the status line, the headers and the body through this,
    so a server that drips any of them is cut off at the deadline, not after
    a socket timeout per byte.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        # The socket's own file: it keeps the socket open after urllib closes the
        # connection (it does, right after the headers), until the body is read.
        self._file = sock.makefile("rb", buffering=0)
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self._sock.settimeout(left)
        return self._file.readinto(buffer)

    def close(self) -> None:
        self._file.close()
        super().close()


class _DeadlineSocket:
    """What http.client.HTTPResponse is given instead of the socket: it only calls makefile."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def _response(
    sock: socket.socket, *args: object, deadline: float, **kwargs: object
) -> http.client.HTTPResponse:
    return http.client.HTTPResponse(_DeadlineSocket(sock, deadline), *args, **kwargs)  # type: ignore[arg-type]  # typeshed wants a socket; HTTPResponse only calls makefile("rb")


class _Deadline(urllib.request.AbstractHTTPHandler):
    """Gives each connection the request's deadline for every read, proxies' included."""

    def do_open(
        self,
        http_class: Callable[..., http.client.HTTPConnection],
        req: urllib.request.Request,
        **http_conn_args: Any,
    ) -> http.client.HTTPResponse:
        assert isinstance(req, _Request)  # the opener is only ever given one (see _fetch)

        def connection(host: str, **kwargs: object) -> http.client.HTTPConnection:
            conn = http_class(host, **kwargs)
            conn.response_class = partial(_response, deadline=req.deadline)  # type: ignore[assignment]  # typeshed wants a class; http.client only calls it
            return conn

        return super().do_open(connection, req, **http_conn_args)


class _HTTPHandler(_Deadline, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_Deadline, urllib.request.HTTPSHandler):
    pass


_OPENER = urllib.request.build_opener(_NoRedirect(), _HTTPHandler(), _HTTPSHandler())


def fetch(
    url: str,
    *,
    agent: str,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    accept: str = ACCEPT,
) -> Fetched:
    """GET a URL within ``timeout`` seconds in all, following redirects by hand.

    Conditional when ``etag`` or ``last_modified`` is given. Never raises for
    what a server or the network does; see ``Fetched.error``.
    """
    got = _fetch(url, agent, etag, last_modified, timeout, max_bytes, max_redirects, accept)
    if got.error is None:
        return got
    return Fetched(got.url, error=one_line(got.error))


def _fetch(
    url: str,
    agent: str,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    max_redirects: int,
    accept: str,
) -> Fetched:
    if is_local(url):
        return _fetch_local(url, last_modified, max_bytes)
    try:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return Fetched(url, error="not an http(s) URL, a file:// URL or a path")
        start = as_uri(url)
    except ValueError:
        return Fetched(url, error="not a valid URL")
    deadline = time.monotonic() + timeout
    visited = [start]
    permanent = True
    while True:
        headers = {"User-Agent": agent, "Accept-Encoding": "gzip", "Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = visited[-1]
        try:
            request = _Request(current, headers, deadline)
            with _OPENER.open(request, timeout=max(deadline - time.monotonic(), 0.01)) as resp:
                body = _read(resp, max_bytes)
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
        except _CutShort as exc:
            return Fetched(current, error=str(exc))
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
    except ValueError:  # a malformed host, port or IDNA label
        return location, f"redirect to an invalid URL ({location.strip()[:80]})"


class _TooBig(Exception):
    pass


class _CutShort(Exception):
    """The connection ended before the whole body arrived; the message says how much."""


def as_uri(url: str) -> str:
    """An IRI as the ASCII URI http.client can send: IDNA host, path and query %-encoded.

    Raises ValueError (UnicodeError is one) when the URL cannot be made one: a
    malformed host or port, or a host label IDNA refuses.
    """
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


def _read(resp: http.client.HTTPResponse, max_bytes: int) -> bytes:
    """The body, unzipped; _TooBig past ``max_bytes``, _CutShort when it ends early.

    The deadline is enforced by the socket's reader (_DeadlineReader), here as
    for the headers.
    """
    length = resp.headers.get("Content-Length", "").strip()
    chunked = "chunked" in resp.headers.get("Transfer-Encoding", "").lower()
    promised = int(length) if length.isdigit() and not chunked else None
    gzipped = "gzip" in resp.headers.get("Content-Encoding", "").lower()
    if promised is not None and promised > max_bytes and not gzipped:
        raise _TooBig
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    chunks: list[bytes] = []
    size = received = 0  # bytes after and before gunzip
    while chunk := resp.read1(65536):
        received += len(chunk)
        if inflate is not None:
            chunk = inflate.decompress(chunk, max_bytes + 1 - size)
        size += len(chunk)
        if size > max_bytes:
            raise _TooBig
        chunks.append(chunk)
    # http.client returns what arrived when the server hangs up early, without
    # an error: a contact list cut short would mark everyone after the cut as left.
    if promised is not None and received < promised:
        raise _CutShort(f"body cut short ({received} of {promised} bytes arrived)")
    if inflate is not None:
        chunks.append(inflate.flush())
        if size + len(chunks[-1]) > max_bytes:
            raise _TooBig
        if received and not inflate.eof:  # no length to compare: the gzip stream tells
            raise _CutShort("body cut short (the gzip stream is incomplete)")
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
    if isinstance(reason, http.client.IncompleteRead):  # a chunked body that stopped
        return "body cut short"
    if isinstance(reason, http.client.RemoteDisconnected):
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
