"""The one HTTP client: feeds for ``collect``, agency lists for ``contacts sync``, and a
look at each picture an issue shows for ``build``.

It is one client so that both get one deadline. A socket timeout bounds each
wait, not the exchange: a server that drips its body a byte a second never
trips it, and a sync with a 2 s timeout ran on for 45 s. Here every read from
the socket waits at most what is left of one deadline, which covers the DNS
lookup (run in a thread, as Python cannot bound it), connecting, every
redirect, the headers and the body. Both callers also share the size cap
check (each passes its own cap), the redirect policy (at most 5, http(s) only,
no loops), the check for a body cut short, the User-Agent and the wording of
every failure.

No request goes to a loopback, private, link-local, multicast, unspecified or
reserved address (``blocked``) unless its host is the one the caller names as
registered on purpose (``private_host``): a feed or a redirect must not turn
``collect`` into a request into the editor's own network. The connection does
its own lookup, checks every address it got and connects to those checked
addresses, so a name that answers differently the second time (DNS
rebinding) has no second time; every redirect hop is a new connection and is
checked the same way. Through a proxy, the target's name is checked the same
way, but the proxy looks it up again itself.

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
import ipaddress
import os
import socket
import ssl
import threading
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
from newsletter.schema import host_problem

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
    private: bool = False  # refused: ``url`` leads to an address that is not public

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

    def __init__(
        self, url: str, headers: dict[str, str], deadline: float, private_host: str | None
    ) -> None:
        super().__init__(url, headers=headers)
        self.deadline = deadline
        self.private_host = private_host


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


_KINDS = (
    ("loopback", "is_loopback"),
    ("unspecified", "is_unspecified"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("reserved", "is_reserved"),
    ("private", "is_private"),
)
# IPv6 forms that carry an IPv4 address and reach it: ::ffff:a.b.c.d, and the
# NAT64 prefix, which a NAT64 gateway turns back into a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def blocked(address: str) -> str | None:
    """Why an address is not fetched unless registered on purpose: its kind, or None if public.

    The kind is "loopback", "unspecified", "link-local", "multicast", "private",
    "reserved", or "non-public" for the rest of what is not globally routable
    (shared 100.64.0.0/10, documentation and benchmarking ranges). An IPv6
    address that embeds an IPv4 one is judged by that. Raises ValueError for
    what is not an IP address.
    """
    ip = ipaddress.ip_address(address.partition("%")[0])  # an IPv6 zone ("%eth0") is no part
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    for kind, test in _KINDS:
        if getattr(ip, test):
            return kind
    return None if ip.is_global else "non-public"


class _Private(Exception):
    """A host resolved to an address ``blocked`` refuses."""

    def __init__(self, host: str, kind: str, address: str) -> None:
        super().__init__(host, kind, address)
        self.host, self.kind, self.address = host, kind, address

    def reason(self, redirected: bool) -> str:
        """One line: which host, what kind of address, and by which way it was reached."""
        where = f"a redirect to {self.host}, which" if redirected else self.host
        if self.address == self.host:  # an IP address in the URL
            return f"refused: {where} is a {self.kind} address"
        return f"refused: {where} resolves to a {self.kind} address ({self.address})"


def _lookup(host: str, port: int, deadline: float) -> list[Any]:
    """getaddrinfo within the deadline: Python cannot bound it, so it runs in a thread.

    A lookup past the deadline is left to finish on its own (a daemon thread).
    """
    found: list[Any] = []
    failed: list[OSError] = []

    problem = host_problem(host)
    if problem:  # getaddrinfo would raise UnicodeError, not an OSError: no such name
        raise socket.gaierror(socket.EAI_NONAME, f"the host name {problem}")

    def lookup() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)

    thread = threading.Thread(target=lookup, name="newsletter-dns", daemon=True)
    thread.start()
    thread.join(max(deadline - time.monotonic(), 0))
    if thread.is_alive():
        raise TimeoutError
    if failed:
        raise failed[0]
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    return found


def _check(host: str, infos: list[Any], private_host: str | None) -> None:
    """_Private unless every address is public, or ``host`` is the one registered on purpose."""
    if private_host is not None and host.lower() == private_host.lower():
        return
    for info in infos:
        address = info[4][0]
        kind = blocked(address)
        if kind is not None:
            raise _Private(host, kind, address)


def _connect(deadline: float, private_host: str | None) -> Callable[..., socket.socket]:
    """socket.create_connection, but to addresses checked by _check, found once."""

    def create_connection(
        address: tuple[str, int], timeout: object = None, source_address: object = None
    ) -> socket.socket:
        host, port = address
        infos = _lookup(host, port, deadline)
        _check(host, infos, private_host)
        error: OSError = ConnectionError("no address to connect to")
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.01))
                if source_address:
                    sock.bind(source_address)  # type: ignore[arg-type]  # what http.client passes on
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error

    return create_connection


class _Deadline(urllib.request.AbstractHTTPHandler):
    """Gives each connection the request's deadline for every read, proxies' included,
    and a connect that refuses addresses that are not public (see ``blocked``)."""

    def do_open(
        self,
        http_class: Callable[..., http.client.HTTPConnection],
        req: urllib.request.Request,
        **http_conn_args: Any,
    ) -> http.client.HTTPResponse:
        assert isinstance(req, _Request)  # the opener is only ever given one (see _fetch)
        if req.has_proxy() or req._tunnel_host:  # type: ignore[attr-defined]  # set by set_proxy
            # The proxy is the editor's own setting; the target is checked by name.
            target = urlsplit(req.full_url)
            host = target.hostname or ""
            _check(host, _lookup(host, target.port or 0, req.deadline), req.private_host)

        def connection(host: str, **kwargs: object) -> http.client.HTTPConnection:
            conn = http_class(host, **kwargs)
            conn.response_class = partial(_response, deadline=req.deadline)  # type: ignore[assignment]  # typeshed wants a class; http.client only calls it
            if not (req.has_proxy() or req._tunnel_host):  # type: ignore[attr-defined]
                conn._create_connection = _connect(req.deadline, req.private_host)  # type: ignore[attr-defined]  # http.client's own hook for it
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
    private_host: str | None = None,
    peek: bool = False,
) -> Fetched:
    """GET a URL within ``timeout`` seconds in all, following redirects by hand.

    Conditional when ``etag`` or ``last_modified`` is given. ``peek``: ask for
    the first ``max_bytes`` only (a Range request) and read no more, whether or
    not the server honours the range: enough to see what is there, so a longer
    body is not an error. Never raises for
    what a server or the network does; see ``Fetched.error``. ``private_host``
    is the one host name (as in the URL) that may resolve to an address that
    is not public, because the editor registered it on purpose; any other such
    host, first or reached by a redirect, is refused (``Fetched.private``).
    """
    got = _fetch(
        url,
        agent,
        etag,
        last_modified,
        timeout,
        max_bytes,
        max_redirects,
        accept,
        private_host,
        peek,
    )
    if got.error is None:
        return got
    return Fetched(got.url, error=one_line(got.error), private=got.private)


def host_of(url: str) -> str | None:
    """The host name of an http(s) URL as requests name it (IDNA, lower case); None if none.

    What a caller passes ``fetch`` as ``private_host`` for a URL registered on purpose.
    """
    try:
        return urlsplit(as_uri(url)).hostname
    except ValueError:
        return None


def _fetch(
    url: str,
    agent: str,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    max_redirects: int,
    accept: str,
    private_host: str | None,
    peek: bool = False,
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
        if peek:  # the first bytes as they are stored: a cut gzip stream would not unzip
            headers.update({"Range": f"bytes=0-{max_bytes - 1}", "Accept-Encoding": "identity"})
        current = visited[-1]
        try:
            request = _Request(current, headers, deadline, private_host)
            with _OPENER.open(request, timeout=max(deadline - time.monotonic(), 0.01)) as resp:
                body = _peek(resp, max_bytes) if peek else _read(resp, max_bytes)
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
        except _Private as exc:
            return Fetched(current, error=exc.reason(len(visited) > 1), private=True)
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


def _peek(resp: http.client.HTTPResponse, max_bytes: int) -> bytes:
    """At most the first ``max_bytes`` of the body, as they came; the rest is never read."""
    chunks: list[bytes] = []
    size = 0
    while size < max_bytes and (chunk := resp.read1(max_bytes - size)):
        chunks.append(chunk)
        size += len(chunk)
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
