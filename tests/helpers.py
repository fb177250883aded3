"""Shared test helpers: the command line, projects and contacts, and the local servers.

* ``cli`` runs ``newsletter`` in-process with click's CliRunner, ``--root`` given and
  ``catch_exceptions=False``: an unexpected exception fails the test with its
  traceback, while the exit code of a ClickException (NewsletterError), ``ctx.exit``
  or SystemExit is still returned in ``result.exit_code``. stdout and stderr stay
  apart (``result.stdout``, ``result.stderr``; ``result.output`` holds both).
* A project: ``new_project``, ``settings_toml``, ``make_issue``, ``item``, ``built``;
  contacts written straight into contacts.db (``add_contacts``, ``set_status``,
  ``suppress``) and read back (``rows``, ``dump``, ``ledger_rows``); a message
  layout to compose with (``LAYOUT``, ``recipient``). Faults: ``hold_write_lock``
  (another program writing to contacts.db), ``read_only`` (a file or folder
  nobody can write, root included).
* One server per kind, each on 127.0.0.1 and stopped when its block ends:
  ``FeedServer`` (feeds and agency lists over HTTP, canned routes), ``SMTPServer``
  (aiosmtpd, scripted faults), ``serve_app`` (the web app of ``newsletter serve``)
  and ``preview_server`` (``newsletter preview``). conftest.py wraps the first two
  in the ``feed_server`` and ``smtp`` fixtures.
* Browser tests: ``needs_chromium`` (a skip mark with the reason) and ``until``.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from click.testing import CliRunner, Result
from hypothesis import HealthCheck

from newsletter.build.browser import find_chromium
from newsletter.cli import main
from newsletter.send.message import Layout, Recipient

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("NEWSLETTER_CORPUS", REPO.parent / "shared" / "corpus"))
SECRET = "test-secret-0123456789abcdef"


# -- Hypothesis ------------------------------------------------------------------------

CI_EXAMPLES = 200  # examples per property in the "ci" profile (conftest.py)
DEEP_FACTOR = 20  # HYPOTHESIS_PROFILE=deep tries this many times more


def examples(ci: int) -> int:
    """``max_examples`` for a property that runs whole commands: ``ci`` in the ci
    profile, scaled like every other property under another (``deep``: 20 times)."""
    from hypothesis import settings

    return max(1, round(ci * settings().max_examples / CI_EXAMPLES))


# -- the command line ----------------------------------------------------------------


def cli(
    root: Path | str | None,
    *args: str,
    input: str | None = None,
    env: dict[str, str | None] | None = None,
) -> Result:
    """``newsletter --root ROOT ARGS...``; ``root=None`` leaves --root out (NEWSLETTER_ROOT)."""
    head = ["--root", str(root)] if root is not None else []
    return CliRunner().invoke(main, [*head, *args], input=input, env=env, catch_exceptions=False)


def cli_within(seconds: float, root: Path | str | None, *args: str) -> Result:
    """``cli(root, *args)``, failing the test if it has not returned within ``seconds``.

    For inputs that once hung a command (a FIFO among the items): a regression
    fails the test instead of hanging the suite; the stuck thread is a daemon.
    """
    result: list[Result] = []
    worker = threading.Thread(target=lambda: result.append(cli(root, *args)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"newsletter {' '.join(args)} did not return within {seconds} s"
    return result[0]


def run_with_full_disk(root: Path, *args: str, max_bytes: int = 4096):
    """``python -m newsletter --root ROOT ARGS`` in a process whose files cannot grow
    past ``max_bytes``: every write beyond fails with EFBIG, as on a full disk.

    A real failure, not a mock: RLIMIT_FSIZE is set in the child, and SIGXFSZ is
    ignored so the write returns an error instead of killing the process.
    """
    import resource
    import signal
    import subprocess
    import sys

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run(
        [sys.executable, "-m", "newsletter", "--root", str(root), *args],
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=120,
    )


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No NEWSLETTER_ setting from the developer's environment; HOME under ``home``."""
    for name in list(os.environ):
        if name.startswith("NEWSLETTER_") and name != "NEWSLETTER_CORPUS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home / "home"))


# Browser tests: skipped, with the reason, where no Chromium is installed.
needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="no Chromium found (apt-get install chromium, or set NEWSLETTER_CHROMIUM)",
)


def until(browser, expression: str, timeout: float = 15.0):
    """Evaluate ``expression`` in ``browser`` until truthy; a page that is navigating
    cannot answer, so retry."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = browser.evaluate(expression)
        except RuntimeError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never true: {expression}")


# -- a project: settings, issues, items ---------------------------------------------

ITEM = """\
---
title: {title}
section: {section}
link: https://example.org/{slug}
date: 2026-10-{day:02d}
source: UN Global Compact
---
A short summary of {title}.
"""

GOOD_ITEM = """\
---
title: A good item
section: news
link: https://example.org/good
date: 2026-10-05
---
A summary.
"""


def settings_toml() -> str:
    """The repository's own [tool.newsletter] table, as a standalone pyproject."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    return text[text.index("[tool.newsletter]") :]


def new_project(root: Path) -> Path:
    """A project at ``root``: house settings and templates, no issues yet."""
    root.mkdir()
    (root / "pyproject.toml").write_text(settings_toml(), encoding="utf-8")
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "issues").mkdir()
    return root


def make_issue(root: Path, issue_id: str = "2026-Q4", items: dict[str, str] | None = None) -> Path:
    """Write a valid issue folder; ``items`` maps file names to their text."""
    folder = root / "issues" / issue_id
    (folder / "items").mkdir(parents=True)
    (folder / "issue.toml").write_text(
        'number = 7\ntitle = "Test issue"\ndate = 2026-12-15\n'
        'subject = "The UN-Business Focal Point: test issue"\n'
        'preheader = "News, tools and events for UN private-sector focal points."\n',
        encoding="utf-8",
    )
    (folder / "intro.md").write_text("Dear colleagues, welcome to this issue.\n", encoding="utf-8")
    if items is None:
        sections = [
            s["key"] for s in tomllib.loads(settings_toml())["tool"]["newsletter"]["sections"]
        ]
        items = {
            f"item-{n}.md": ITEM.format(
                title=f"Item number {n}",
                section=sections[n % len(sections)],
                slug=f"item-{n}",
                day=n,
            )
            for n in range(1, 5)
        }
    for name, text in items.items():
        (folder / "items" / name).write_text(text, encoding="utf-8")
    return folder


def special_file(path: Path, kind: str) -> Path:
    """Make a FIFO, a socket or a device node (a copy of /dev/null's) at ``path``.

    Tests never name the machine's own /dev/null: a regression that wrote over
    it would replace it with a regular file for every program on the machine.
    A device node needs the right to make one; without it, the test is skipped.
    """
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "device":
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("cannot make a device node here (needs CAP_MKNOD)")
    else:
        path.mkdir()
    return path


def item(title, section="news", date="2026-10-05", weight=None, link=None, extra=""):
    """An item file's text: front matter with these fields, then a one-line summary."""
    lines = [f"title: {title}", f"section: {section}", f"date: {date}"]
    lines += [f"link: {link or 'https://example.org/' + title.replace(' ', '-')}"]
    lines += [f"weight: {weight}"] if weight is not None else []
    return "---\n" + "\n".join(lines) + "\n" + extra + "---\nSummary of " + title + ".\n"


def built(root: Path, issue_id: str = "2026-Q4", settings: str = "") -> Path:
    """Append ``settings`` to the project's pyproject, then make and build an issue."""
    from newsletter.build.pipeline import build
    from newsletter.config import load_settings

    if settings:
        with open(root / "pyproject.toml", "a", encoding="utf-8") as fh:
            fh.write("\n" + settings)
    folder = make_issue(root, issue_id)
    assert build(load_settings(root), folder).ok
    return folder


def outbox(root: Path, issue_id: str = "2026-Q4") -> list[Path]:
    """The .eml files the outbox sender wrote for an issue, by name."""
    return sorted((root / "issues" / issue_id / "outbox").glob("*.eml"))


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


# -- composed messages ------------------------------------------------------------------

LAYOUT = Layout(
    from_header="UN Global Compact Office <focalpoint@example.org>",
    subject="The UN-Business Focal Point: test issue",
    list_id="The UN-Business Focal Point <focal-point.example.org>",
    unsubscribe_url="https://focalpoint.example.org/unsubscribe/",
    unsubscribe_mailto="focalpoint@example.org",
    feedback_id="2026-Q4:newsletter:example.org",
    domain="example.org",
    reply_to="partnerships@example.org",
)
TEXT = "Dear %%NAME%%,\n\nYou are %%EMAIL%%.\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n"
HTML = '<p>Dear %%NAME%%,</p><p>%%EMAIL%%</p><a href="%%UNSUBSCRIBE_URL%%">Unsubscribe</a>\n'


def recipient(name: str = "Jane Doe", email: str = "jane@example.org") -> Recipient:
    return Recipient(email, name, "<2026-Q4.abc@example.org>", "MTo.token")


def check_7bit_crlf(data: bytes, width: int = 998) -> None:
    assert all(b < 128 for b in data)
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= width


# -- contacts.db -------------------------------------------------------------------------


def add_contacts(root: Path, rows: list[dict] | int) -> list[int]:
    """Insert contacts (dicts of columns, or N generated ones); their ids."""
    from newsletter.store import open_db
    from newsletter.store.contacts import now

    if isinstance(rows, int):
        rows = [{"email": f"person{n}@example.org", "name": f"Person {n}"} for n in range(rows)]
    db = open_db(root / "contacts.db")
    ids = []
    with db.atomic():
        for row in rows:
            values = {
                "status": "subscribed",
                "listed": 1,
                "source": "test",
                "created_at": now(),
                "updated_at": now(),
                **row,
            }
            ids.append(db["contacts"].insert(values).last_pk)
    db.conn.close()
    return ids


def set_status(root: Path, email_address: str, status: str) -> None:
    from newsletter.store import open_db

    db = open_db(root / "contacts.db")
    db.execute("UPDATE contacts SET status = ? WHERE email = ?", [status, email_address])
    db.conn.close()


def suppress(root: Path, email_address: str) -> None:
    from newsletter.store import open_db
    from newsletter.store.contacts import address_hash, now

    db = open_db(root / "contacts.db")
    db["suppression"].insert({"hash": address_hash(email_address), "reason": "test", "at": now()})
    db.conn.close()


def ledger_rows(root: Path, issue_id: str = "2026-Q4") -> list[dict]:
    from newsletter.store import open_db

    db = open_db(root / "contacts.db")
    rows = list(db.query("SELECT * FROM deliveries WHERE issue = ? ORDER BY id", [issue_id]))
    db.conn.close()
    return rows


def dump(path) -> str:
    """The whole database as SQL text: equal dumps mean nothing changed."""
    if not path.exists():
        return ""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def state(root: Path) -> dict[str, bytes]:
    """The bytes a failed command must leave alone: contacts.db with its write-ahead log
    (missing or empty alike) and every file under ``issues/*/build/``, by path relative
    to ``root``. Equal states mean nothing of them changed, byte for byte."""
    found = {}
    for name in ("contacts.db", "contacts.db-wal", "contacts.db-journal"):
        path = root / name
        found[name] = path.read_bytes() if path.is_file() else b""
    builds = sorted((root / "issues").glob("*/build"))
    for path in builds + sorted((root / "issues").glob("*/build/**/*")):
        name = str(path.relative_to(root))
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            found[name] = b"(not a regular file)"
        else:
            found[name] = path.read_bytes() if path.is_file() else b"(folder)"
    return found


def no_traceback(result: Result) -> None:
    """A command ended as the house rules say: 0, 1 (a user's mistake), 2 (usage), 3
    (partly done) or 130 (stopped), and never by an exception of ours."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in EXIT_CODES, (result.exit_code, result.output)
    assert "Traceback" not in result.output


# Every exit code a command uses (the README's table lists exactly these).
EXIT_CODES = (0, 1, 2, 3, 130)

# What a property test lets pass to Hypothesis: a project made once per test, reused
# by every example (each runs quickly enough; the fixture is set up again per test).
PROPERTY = {"suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}


def unharmed(root: Path, *args: str, input: str | None = None) -> Result:
    """Run a command on generated input and check the house promise: it ends with 0, 1,
    2 or 3 and no traceback, and if it failed (1 or 2), contacts.db and every build/
    are byte for byte as before. Returns the result for further checks."""
    before = state(root)
    result = cli(root, *args, input=input)
    no_traceback(result)
    assert result.exit_code != 130, result.output
    if result.exit_code in (1, 2):
        after = state(root)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert not changed, f"exit {result.exit_code} but changed {changed}: {result.output}"
    return result


def rows(db, sql="SELECT email, name, status FROM contacts ORDER BY email"):
    """The rows ``sql`` reads from ``db``; none from a database that does not exist (a
    failed command removes the one it created), which looking does not create."""
    if not Path(db).exists():
        return []
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def write(project, name: str, text: str | bytes) -> str:
    """Write a file into the project; its name, as a command run there is given it."""
    path = project / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return name


def hold_write_lock(path, seconds: float) -> threading.Thread:
    """Another program writing to the database for ``seconds``; returns once it holds the lock."""
    locked = threading.Event()

    def writer() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE contacts SET phone = '+41 22 555 0199' WHERE email LIKE 'b@%'")
        locked.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    locked.wait()
    return thread


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` (a file or a folder) made unwritable for the block, even for root.

    chmod alone does not stop root, so as root the file is also made immutable
    (chattr +i); where neither works the test is skipped with the reason.
    """
    mode = path.stat().st_mode
    path.chmod(mode & ~0o222)
    immutable = os.geteuid() == 0 and shutil.which("chattr") is not None
    if immutable:
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    try:
        if not _cannot_write(path):
            pytest.skip(f"cannot make {path.name} read-only here (root without chattr +i)")
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def _cannot_write(path: Path) -> bool:
    try:
        if path.is_dir():
            (path / ".probe").touch()
            (path / ".probe").unlink()
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
    except OSError:
        return True
    return False


def configure_sources(project, *entries: str) -> None:
    """Append ``sources = [...]`` (agency lists for ``contacts sync``) to the settings."""
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "sources = [\n" + "".join(f"    {e},\n" for e in entries) + "]\n")


# -- feeds over HTTP --------------------------------------------------------------------


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
    """An HTTP server on 127.0.0.1 for feeds and contact lists: canned routes, recorded
    requests. Use as ``with FeedServer() as server:``; ``server.url("/path")``."""

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


def add_feed(project: Path, server: FeedServer, name: str, section: str, route: Route) -> None:
    """Serve ``route`` at /NAME and register it: ``feeds add URL --section S --name NAME
    --allow-private``, as the server is on 127.0.0.1, which is refused otherwise."""
    server.routes[f"/{name}"] = route
    cli(
        project,
        "feeds",
        "add",
        server.url(f"/{name}"),
        "--section",
        section,
        "--name",
        name,
        "--allow-private",
    )


def inbox_files(project: Path, issue: str = "2026-Q4") -> list[str]:
    return sorted(p.name for p in (project / "issues" / issue / "inbox").glob("*.md"))


# -- SMTP ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_args(port: int) -> list[str]:
    """``newsletter send`` options for the SMTPServer on ``port``: no TLS, short timeout."""
    return [
        "--sender",
        "smtp",
        "-o",
        "host=127.0.0.1",
        "-o",
        f"port={port}",
        "-o",
        "security=none",
        "-o",
        "timeout=10",
    ]


def smtp_send(root: Path, port: int, *extra: str) -> Result:
    """``newsletter send 2026-Q4 --yes`` through the SMTPServer on ``port``."""
    return cli(root, "send", "2026-Q4", "--yes", *smtp_args(port), *extra)


def send_process(
    root: Path,
    port: int,
    *extra: str,
    db: Path | None = None,
    preexec_fn: Callable[[], None] | None = None,
    **popen,
) -> subprocess.Popen:
    """``newsletter send 2026-Q4 --yes`` through the SMTPServer on ``port``, as a process."""
    then = preexec_fn
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    head = ["--db", str(db)] if db else []
    args = [sys.executable, "-m", "newsletter", "--root", str(root), *head, "send", "2026-Q4"]
    args += ["--yes", *smtp_args(port), *extra]
    return subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: _default_sigint(then),
        **popen,
    )


def _default_sigint(then: Callable[[], None] | None = None) -> None:
    """Ctrl-C as a terminal delivers it (a shell starts background jobs with SIGINT
    ignored, and Python then never turns it into KeyboardInterrupt), then ``then``."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if then is not None:
        then()


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


class Handler:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.faults: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.lock = threading.Lock()
        self.pipelining = True
        self.delay = 0.0
        self.connections = 0
        self.open_connections = 0
        self.max_connections = 0  # 0: no limit
        self.per_connection = 0  # 0: no limit

    def take(self, address: str, stage: str) -> str | None:
        with self.lock:
            queue = self.faults.get((address.lower(), stage))
            return queue.pop(0) if queue else None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.take(address, "rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.take(envelope.rcpt_tos[0], "data")
        if reply:
            return reply
        if self.delay:
            await asyncio.sleep(self.delay)
        message = Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content)
        with self.lock:
            self.messages.append(message)
        if self.take(envelope.rcpt_tos[0], "hangup"):
            # Committed, then gone before the reply: the client cannot know it arrived.
            server.transport.close()
        return "250 2.0.0 Ok: queued"


class _SMTP(SMTP):
    async def smtp_DATA(self, arg: str) -> None:
        rcpts = self.envelope.rcpt_tos if self.envelope else []
        if rcpts and self.event_handler.take(rcpts[0], "drop"):
            self.transport.close()  # hang up on DATA: nothing of the message went out
            return
        before = len(self.event_handler.messages)
        await super().smtp_DATA(arg)
        self.accepted += len(self.event_handler.messages) > before

    async def smtp_MAIL(self, arg: str) -> None:
        handler = self.event_handler
        if handler.per_connection and self.accepted >= handler.per_connection:
            await self.push("421 4.7.0 Too many messages on this connection")
            self.transport.close()
            return
        await super().smtp_MAIL(arg)

    def connection_made(self, transport) -> None:
        handler = self.event_handler
        handler.connections += 1
        handler.open_connections += 1
        self.accepted = 0
        super().connection_made(transport)
        if handler.max_connections and handler.open_connections > handler.max_connections:
            transport.write(b"421 4.7.0 Too many connections from your address\r\n")
            transport.close()

    def connection_lost(self, exc) -> None:
        self.event_handler.open_connections -= 1
        super().connection_lost(exc)


class _Controller(Controller):
    def factory(self):
        return _SMTP(self.handler, **self.SMTP_kwargs)


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), with scripted faults.

    Start with ``start()``; ``messages`` lists what was accepted, bytes as received.
    ``fail(address, "451 4.3.0 Try later", stage="data")`` makes the next message to
    ``address`` get that reply; ``stage="drop"`` hangs up on the DATA command, before
    the message; ``stage="hangup"`` keeps the message, then hangs up before replying. ``handler.max_connections`` refuses connections beyond it with 421, as
    many providers do; ``handler.per_connection`` answers MAIL with 421 and hangs up
    after that many messages on one connection.
    """

    def __init__(
        self, password: str | None = None, handler: Handler | None = None, **kwargs
    ) -> None:
        self.handler = handler or Handler()
        self.port = free_port()
        if password is not None:
            kwargs.update(authenticator=self._auth(password), auth_require_tls=False)
        self.controller = _Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @staticmethod
    def _auth(password: str):
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = getattr(auth_data, "password", b"") == password.encode()
            return AuthResult(success=ok, handled=False)

        return authenticator

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def fail(self, address: str, reply: str = "", stage: str = "data", times: int = 1) -> None:
        with self.handler.lock:
            self.handler.faults[(address.lower(), stage)] += [reply or "drop"] * times

    def per_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for message in self.messages:
            for rcpt in message.rcpt_tos:
                counts[rcpt] += 1
        return dict(counts)


def self_signed(folder, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> tuple[str, str]:
    """A certificate for ``names`` (host names and addresses), and its key: (cert path,
    key path)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([_alt_name(x509, ipaddress, n) for n in names]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def _alt_name(x509, ipaddress, name: str):
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


# -- the web app and the preview ---------------------------------------------------


@contextmanager
def serve_app(app) -> Iterator[str]:
    """A WSGI app (``returns.webapp.create_app``) served on 127.0.0.1; yields its base URL."""
    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


def require_approval(root: Path) -> None:
    """``approval = "required"`` in the project's house settings."""
    # [tool.newsletter] keys come before its subtables: put approval right after it.
    pyproject = root / "pyproject.toml"
    head = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        head.replace("[tool.newsletter]\n", '[tool.newsletter]\napproval = "required"\n', 1),
        encoding="utf-8",
    )


def desk_server(root: Path, host: str = "127.0.0.1", password: str | None = None):
    """``newsletter desk``'s app on the project at ``root``, served on 127.0.0.1 (as
    ``serve_app``); yields its base URL. ``host`` is the host it believes it was
    started on, for its guards."""
    from newsletter.config import load_settings
    from newsletter.desk import desk_app

    return serve_app(desk_app(load_settings(root), root / "contacts.db", host, password))


def form_csrf(page: str) -> str:
    """The CSRF token of a page's form, or of htmx's header on a desk page without one."""
    found = re.search(r'name="csrf" value="([^"]+)"', page) or re.search(
        r'"X-CSRF-Token": "([^"]+)"', page
    )
    assert found, page
    return found[1]


@contextmanager
def preview_server(settings, folder: Path, interval: float | None = None) -> Iterator:
    """``newsletter preview`` of ``folder`` on 127.0.0.1; yields the running Preview."""
    from newsletter.build.preview import Preview

    options = {} if interval is None else {"interval": interval}
    preview = Preview(settings, folder, **options).start()
    try:
        yield preview
    finally:
        preview.stop()


class OAuthHandler(Handler):
    """A Handler that also takes ``AUTH XOAUTH2``, as Microsoft 365 and Gmail do.

    A login passes when its user is ``user`` and its bearer token is in ``tokens``
    (the test adds those the token server issued). A refusal goes as the real
    servers send it: a 334 challenge holding a base64 JSON error, an empty line
    from the client, then 535. ``single_use``: each token logs in once only, as if
    it expired right after. ``logins`` lists (user, token, accepted) in order.
    """

    def __init__(self, user: str) -> None:
        super().__init__()
        self.user = user
        self.tokens: set[str] = set()
        self.single_use = False
        self.logins: list[tuple[str, str, bool]] = []

    async def auth_XOAUTH2(self, server, args):
        import base64
        import json

        raw = args[1].encode() if len(args) > 1 else await server.challenge_auth("")
        fields = base64.b64decode(raw).decode().split("\x01")
        user = fields[0].removeprefix("user=")
        token = fields[1].removeprefix("auth=Bearer ") if len(fields) > 1 else ""
        with self.lock:
            ok = user == self.user and token in self.tokens and fields[2:] == ["", ""]
            if ok and self.single_use:
                self.tokens.discard(token)
            self.logins.append((user, token, ok))
        if ok:
            return AuthResult(success=True)
        error = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
        await server.challenge_auth(json.dumps(error))
        return AuthResult(success=False, handled=False)


class TokenServer:
    """An HTTPS OAuth token service on 127.0.0.1 that MSAL and google-auth talk to.

    Microsoft: ``/TENANT/v2.0/.well-known/openid-configuration`` and the client-credentials
    token endpoint (a client secret, or a certificate's signed assertion); Google:
    ``/google/token`` (a refresh token, or a service account's signed JWT). Every token
    issued goes into ``issued`` and into the SMTP handler's accepted ``tokens``.
    ``expires_in``: the tokens' lifetime; ``refuse``: answer every request with an error;
    ``max_tokens``: refuse once that many were issued (0: no limit).
    """

    def __init__(self, folder: Path, handler: OAuthHandler, tenant: str = "tenant-1") -> None:
        self.cert, key = self_signed(folder)
        self.handler, self.tenant = handler, tenant
        self.expires_in = 3600
        self.clients: dict[str, str] = {}  # client id -> secret
        self.public_keys: dict[str, object] = {}  # client id or email -> key for assertions
        self.refresh_tokens: set[str] = set()
        self.issued: list[str] = []
        self.requests: list[str] = []
        self.refuse = False
        self.max_tokens = 0
        owner = self

        class Handle(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(f"GET {self.path}")
                if self.path == f"/{owner.tenant}/v2.0/.well-known/openid-configuration":
                    base = f"{owner.url}/{owner.tenant}"
                    return self._json(
                        200,
                        {
                            "token_endpoint": f"{base}/oauth2/v2.0/token",
                            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                            "issuer": f"{base}/v2.0",
                        },
                    )
                self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                from urllib.parse import parse_qs

                owner.requests.append(f"POST {self.path}")
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, body = owner.answer(self.path, form)
                self._json(status, body)

            def _json(self, status: int, body: dict) -> None:
                import json

                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        import ssl

        self.server = _Quiet(("127.0.0.1", 0), Handle)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict]:
        """The token endpoint's reply: (HTTP status, JSON body)."""
        spent = self.max_tokens and len(self.issued) >= self.max_tokens
        if self.refuse or spent or not self._allowed(path, form):
            return 401, {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\r\n"
                "Trace ID: 0000\r\nCorrelation ID: 1111",
            }
        token = f"access-{len(self.issued) + 1}-{os.urandom(6).hex()}"
        self.issued.append(token)
        with self.handler.lock:
            self.handler.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}

    def _allowed(self, path: str, form: dict[str, str]) -> bool:
        grant = form.get("grant_type", "")
        if path == f"/{self.tenant}/oauth2/v2.0/token" and grant == "client_credentials":
            client = form.get("client_id", "")
            if "client_assertion" in form:
                return self._signed_by(form["client_assertion"], client, client)
            return client in self.clients and self.clients[client] == form.get("client_secret")
        if path == "/google/token" and grant == "refresh_token":
            client = form.get("client_id", "")
            return (
                self.clients.get(client) == form.get("client_secret")
                and form.get("refresh_token") in self.refresh_tokens
            )
        if path == "/google/token" and grant.endswith("jwt-bearer"):
            return self._signed_by(form.get("assertion", ""), None, self.handler.user)
        return False

    def _signed_by(self, assertion: str, issuer: str | None, subject: str) -> bool:
        """A JWT signed by a registered key, for ``subject`` (its ``sub`` claim)."""
        import jwt

        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            key = self.public_keys.get(issuer or claims.get("iss", ""))
            claims = jwt.decode(
                assertion, key, algorithms=["RS256", "PS256"], options={"verify_aud": False}
            )
        except (jwt.PyJWTError, TypeError, ValueError):
            return False
        return claims.get("sub") == subject

    def __enter__(self) -> TokenServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def rsa_key_pem() -> tuple[bytes, object]:
    """A new RSA private key as PKCS#8 PEM, and its public key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, key.public_key()


# -- Amazon SES -----------------------------------------------------------------------------

# Credentials for the local servers only: the ses sender reads them from the standard
# AWS chain, here the environment (``ses_env``), never from the project.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDTESTONLY",
    "AWS_SECRET_ACCESS_KEY": "test-only-secret-key-never-shown",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # no instance-role lookup on the network
}


def ses_env(monkeypatch: pytest.MonkeyPatch, home: Path, **values: str | None) -> None:
    """The AWS chain for a test: AWS_ENV with ``values`` on top (None: unset), no config
    or credentials file of the developer's (``home`` has none)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    for name, value in {**AWS_ENV, **values}.items():
        if value is not None:
            monkeypatch.setenv(name, value)


def ses_args(url: str, *extra: str) -> list[str]:
    """``newsletter send`` options for an SES endpoint on 127.0.0.1."""
    return ["--sender", "ses", "-o", f"endpoint_url={url}", "-o", "timeout=5", *extra]


class MotoSES:
    """moto's stand-alone server on 127.0.0.1: a local Amazon SES. ``verify`` makes an
    identity, ``sent()`` reads back the raw messages it kept, over HTTP, as bytes."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def __enter__(self) -> MotoSES:
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def _call(self, path: str, body: bytes | None = None) -> bytes:
        import urllib.request

        with urllib.request.urlopen(self.url + path, data=body, timeout=10) as answer:
            return answer.read()

    def reset(self) -> None:
        self._call("/moto-api/reset", b"")

    def verify(self, identity: str) -> None:
        import boto3

        client = boto3.client("sesv2", region_name="eu-west-1", endpoint_url=self.url, **_AWS_KEYS)
        client.create_email_identity(EmailIdentity=identity)

    def sent(self) -> list[tuple[str, bytes]]:
        """(source, raw bytes) of every raw message moto kept, oldest first."""
        import json

        state = json.loads(self._call("/moto-api/data.json"))
        return [(m["source"], m["raw_data"].encode()) for m in state["ses"]["RawMessage"]]


_AWS_KEYS = {
    "aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
    "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
}


@dataclass
class SESCall:
    """One request the SES stand-in got: the operation and its JSON body."""

    operation: str
    body: dict


class SESStandIn:
    """A tiny SES v2 on 127.0.0.1 for what moto does not simulate: the account's quota
    (GetAccount), throttling, rejections, a paused account, an answer that never comes.

    ``account`` is GetAccount's answer (None: 404, as moto); ``identities`` the verified
    ones; ``script[address]`` a list of answers for the next messages to that address,
    each ``(status, error code, message)``, or ``("hang", seconds)``; ``"*"`` for any
    address. ``calls`` lists what arrived.
    """

    def __init__(self) -> None:
        import json

        self.account: dict | None = None
        self.identities: set[str] = {"example.org"}
        self.script: dict[str, list[tuple]] = defaultdict(list)
        self.calls: list[SESCall] = []
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, body: dict, code: str = "") -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if code:
                    self.send_header("x-amzn-ErrorType", code)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/v2/email/account" and stand_in.account is not None:
                    with stand_in.lock:
                        stand_in.calls.append(SESCall("GetAccount", {}))
                    return self._answer(200, stand_in.account)
                name = self.path.rpartition("/")[2]
                if self.path.startswith("/v2/email/identities/"):
                    if name in stand_in.identities:
                        return self._answer(200, {"VerificationStatus": "SUCCESS"})
                    return self._answer(404, {"message": name}, "NotFoundException")
                self._answer(404, {"message": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stand_in.lock:
                    stand_in.calls.append(SESCall("SendEmail", body))
                    to = body["Destination"]["ToAddresses"][0]
                    queue = stand_in.script.get(to) or stand_in.script.get("*")
                    step = queue.pop(0) if queue else None
                if step and step[0] == "hang":
                    time.sleep(step[1])
                    self.close_connection = True
                    return
                if step:
                    status, code, message = step
                    return self._answer(status, {"message": message}, code)
                self._answer(200, {"MessageId": f"0100-{len(stand_in.calls)}"})

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def sends(self) -> list[dict]:
        return [c.body for c in self.calls if c.operation == "SendEmail"]

    def __enter__(self) -> SESStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- IMAP ------------------------------------------------------------------------------


class IMAPServer:
    """A small IMAP4rev1 server on 127.0.0.1 over plain TCP, for ``intake``: one folder
    (``messages``, bytes by UID), LOGIN with ``user`` / ``password``, EXAMINE, UID
    SEARCH ALL and UID FETCH of RFC822.SIZE and BODY.PEEK[]; or AUTHENTICATE XOAUTH2
    with ``token``. ``commands`` records what
    clients sent (a STORE or a COPY would show that a run changed the mailbox)."""

    def __init__(
        self,
        messages: list[bytes],
        user: str = "news",
        password: str = "pw",
        token: str = "tok",
        tls: tuple[str, str] | None = None,
    ) -> None:
        """``tls``: (certificate, key) to speak IMAPS (TLS from the first byte, as on 993)."""
        import socketserver
        import ssl

        self.messages = {n: data for n, data in enumerate(messages, 1)}
        self.user, self.password, self.token = user, password, token
        self.commands: list[str] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"* OK IMAP4rev1 test server ready\r\n")
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    tag, _, rest = line.partition(" ")
                    outer.commands.append(rest)
                    if rest.upper() == "AUTHENTICATE XOAUTH2":
                        self.wfile.write(b"+ \r\n")
                        said = base64.b64decode(self.rfile.readline().strip() or b"=")
                        expected = f"user={outer.user}\x01auth=Bearer {outer.token}\x01\x01"
                        ok = said.decode("utf-8", "replace") == expected
                        answer = "OK done" if ok else "NO [AUTHENTICATIONFAILED] bad token"
                        self.wfile.write(f"{tag} {answer}\r\n".encode())
                    elif not outer.answer(self.wfile, tag, rest):
                        return

        context = None
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True

            def finish_request(self, request, client_address) -> None:
                if context is not None:  # the handshake in the handler's thread
                    try:
                        request = context.wrap_socket(request, server_side=True)
                    except (ssl.SSLError, OSError):  # a client that refused our certificate
                        return
                super().finish_request(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def answer(self, out, tag: str, command: str) -> bool:
        verb = command.split(" ", 1)[0].upper()
        words = command.split()
        if verb == "CAPABILITY":
            out.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2\r\n")
        elif verb == "LOGIN":
            given = [w.strip('"') for w in words[1:3]]
            if given != [self.user, self.password]:
                out.write(f"{tag} NO [AUTHENTICATIONFAILED] wrong password\r\n".encode())
                return True
        elif verb in ("EXAMINE", "SELECT"):
            out.write(f"* {len(self.messages)} EXISTS\r\n* 0 RECENT\r\n".encode())
            out.write(b"* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 1] ok\r\n")
            out.write(f"{tag} OK [READ-ONLY] done\r\n".encode())
            return True
        elif verb == "UID" and words[1].upper() == "SEARCH":
            out.write(("* SEARCH " + " ".join(map(str, self.messages)) + "\r\n").encode())
        elif verb == "UID" and words[1].upper() == "FETCH":
            self.fetch(out, words[2], command.upper())
        elif verb == "LOGOUT":
            out.write(f"* BYE bye\r\n{tag} OK done\r\n".encode())
            return False
        elif verb != "NOOP":
            out.write(f"{tag} BAD unknown command\r\n".encode())
            return True
        out.write(f"{tag} OK done\r\n".encode())
        return True

    def fetch(self, out, uids: str, command: str) -> None:
        for uid in (int(u) for u in uids.split(",")):
            data = self.messages.get(uid)
            if data is None:
                continue
            if "BODY.PEEK[]" in command:
                head = f"* {uid} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n".encode()
                out.write(head + data + b")\r\n")
            else:
                out.write(f"* {uid} FETCH (UID {uid} RFC822.SIZE {len(data)})\r\n".encode())

    def __enter__(self) -> IMAPServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
