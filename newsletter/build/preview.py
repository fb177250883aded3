"""``newsletter preview``: a local page with the issue at desktop and phone widths.

A stdlib HTTP server on 127.0.0.1 serves the page, the built email (with sample
values in place of the per-recipient markers), the text part and the report;
above the email, the row an inbox shows: From, Subject and the preheader.
A watcher thread polls the modification times of the issue's files, the
templates and pyproject.toml, and rebuilds on any change; the page polls
``version.json`` and reloads when the version moves. A failed build is shown on
the page and the last good build stays visible: the server never stops for it.
"""

from __future__ import annotations

import html
import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from newsletter.build import render
from newsletter.build.pipeline import DirectorySource, build, input_digest
from newsletter.build.report import BuildReport
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.issue.load import CheckFailed, load_issue
from newsletter.models import PLACEHOLDERS, Issue

SAMPLE = {
    "name": "Alex Sample",
    "email": "alex.sample@example.org",
    "job_title": "Partnerships Officer",
    "organisation": "Sample Agency",
    "phone": "+41 22 000 00 00",
    "city": "Geneva",
    "click_org": "",  # the preview's links count no organisation
}
WIDTHS = (800, 375)  # desktop and phone, side by side


def sample_values(settings: Settings) -> dict[str, str]:
    """Harmless stand-ins for the per-recipient markers; the link's token is not genuine."""
    return {
        **SAMPLE,
        **{
            key: f"{settings.web_url}/{page}/sample-token"
            for key, page in (
                ("unsubscribe_url", "unsubscribe"),
                ("entry_url", "entry"),
                ("members_url", "members"),
                ("submit_url", "submit"),
            )
        },
    }


def personalise(text: str, values: dict[str, str], escape: Callable[[str], str] = str) -> str:
    for key, marker in PLACEHOLDERS.items():
        text = text.replace(marker, escape(values[key]))
    return text


@dataclass(frozen=True)
class Inbox:
    """What an inbox's list shows of the email before it is opened."""

    from_name: str
    from_address: str
    subject: str
    preheader: str


def inbox_row(settings: Settings, issue: Issue) -> Inbox:
    """The From, Subject and preheader every recipient's inbox shows: the values the
    send puts in the headers and at the top of the email."""
    return Inbox(settings.from_name, settings.from_address, issue.subject, issue.preheader)


@dataclass(frozen=True)
class Shown:
    """An issue's current build as a reviewer or the desk shows it: the personal markers
    replaced by ``sample_values``, never a real reader's."""

    report: BuildReport
    email: str  # email.html, the sample values HTML-escaped into it
    text: str  # email.txt
    inbox: Inbox | None  # the inbox row; None while the issue's files do not load
    stale: bool  # the issue's files changed since this build (``input_digest``)


def shown_build(settings: Settings, folder: Path) -> Shown | None:
    """The build in ``folder/build`` with sample values, or None when there is none
    (no report, or its email files are missing or damaged)."""
    report = BuildReport.read(folder)
    if report is None:
        return None
    try:
        email = (folder / "build" / "email.html").read_text(encoding="utf-8")
        text = (folder / "build" / "email.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    values = sample_values(settings)
    issue, _ = load_issue(settings, folder)
    return Shown(
        report,
        personalise(email, values, html.escape),
        personalise(text, values),
        inbox_row(settings, issue) if issue is not None else None,
        report.inputs != input_digest(settings, folder),
    )


class Preview:
    """One issue's preview server; ``start()`` it, read ``url``, ``stop()`` it."""

    def __init__(
        self,
        settings: Settings,
        folder: Path,
        directory: DirectorySource | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        interval: float = 0.5,
    ) -> None:
        self.settings, self.folder, self.directory = settings, folder, directory
        self.interval = interval
        self.version = 0
        self.error: str | None = None
        self.outputs: dict[str, str] = {}  # the last good build: email.html, email.txt, ...
        self.report: BuildReport | None = None
        self.inbox: Inbox | None = None  # the last good build's inbox row
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seen = self.fingerprint()
        try:
            self.server = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as exc:
            raise NewsletterError(
                f"{host}:{port}: cannot listen ({exc.strerror}). Pass another --port."
            ) from None
        self.server.daemon_threads = True
        self._threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True),
            threading.Thread(target=self._watch, daemon=True),
        ]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)  # as getsockname() gave it; typeshed's type also admits bytes
        return f"http://{host}:{port}/"

    def start(self) -> Preview:
        if self.version == 0:
            self.rebuild()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """(path, mtime, size) of every input; any change triggers a rebuild."""
        roots = [self.folder, *render.template_dirs(self.settings, self.folder)]
        paths = {self.settings.root / "pyproject.toml"}
        for root in roots:
            if root.is_dir():
                paths.update(p for p in root.rglob("*") if "build" not in p.relative_to(root).parts)
        stats = []
        for path in sorted(paths):
            try:
                st = path.stat()
            except OSError:  # deleted between listing and stat: the next poll sees it
                continue
            stats.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(stats)

    def rebuild(self) -> None:
        inbox: Inbox | None = None
        try:
            result = build(self.settings, self.folder, directory=self.directory)
            outputs = {
                name: (result.out_dir / name).read_text(encoding="utf-8")
                for name in ("email.html", "email.txt", "web.html")
            }
            error, report = None, result.report
            inbox = inbox_row(self.settings, result.issue)
        except CheckFailed as exc:
            error, outputs, report = "\n".join([*map(str, exc.problems), exc.message]), {}, None
        except NewsletterError as exc:
            error, outputs, report = exc.message, {}, None
        except Exception:  # a bug must not take the preview down; show it instead
            error, outputs, report = traceback.format_exc(limit=5), {}, None
        with self._lock:
            self.error = error
            if outputs:
                self.outputs, self.report, self.inbox = outputs, report, inbox
            self.version += 1

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            now = self.fingerprint()
            if now != self._seen:
                self._seen = now
                self.rebuild()

    def page(self) -> str:
        with self._lock:
            ctx = {
                "settings": self.settings,
                "issue_id": self.folder.name,
                "version": self.version,
                "error": self.error,
                "report": self.report,
                "text": personalise(
                    self.outputs.get("email.txt", ""), sample_values(self.settings)
                ),
                "built": bool(self.outputs),
                "widths": WIDTHS,
                "sample": sample_values(self.settings),
                "inbox": self.inbox,
            }
        env = render.environment(self.settings, self.folder)
        try:
            return render.render_template(env, "preview.html.j2", ctx, self.settings.root)
        except Exception as exc:  # the editor may be midway through editing a template
            message = exc.message if isinstance(exc, NewsletterError) else repr(exc)
            return (
                f"<!doctype html><title>Preview</title><h1>Preview of {ctx['issue_id']}</h1>"
                f"<pre>{html.escape(message)}</pre><script>setTimeout(() => location.reload(),"
                " 1500)</script>"
            )

    def file(self, name: str) -> str | None:
        with self._lock:
            text = self.outputs.get(name)
        if text is None:
            return None
        values = sample_values(self.settings)
        return personalise(text, values, html.escape if name.endswith(".html") else str)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"version": self.version, "ok": self.error is None, "error": self.error}


def _handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    types = {".html": "text/html", ".txt": "text/plain", ".json": "application/json"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                body: str | None = preview.page()
            elif path == "/version.json":
                body = json.dumps(preview.state())
            else:
                body = preview.file(path.lstrip("/"))
            if body is None:
                self.send_error(404, "Not found: the preview serves /, email.html, web.html")
                return
            data = body.encode("utf-8")
            kind = types.get(Path(path).suffix, "text/html")
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per poll would drown the terminal

    return Handler
