"""The editor's desk: ``create_desk``, what every page of it shares, and its guards.

The desk is a Flask app for one office's editors, served by ``newsletter desk``
on 127.0.0.1 by default. Its pages call the same stage functions the command
line calls (a test checks that no module here imports SQL or opens a file), so
the desk adds no rule of its own: it shows what a command would print and
posts what a command would be given.

Guards, each on every request:

- **Host.** A page of the desk answers only a request addressed to the host it
  was started on (or a loopback name when that is loopback). A web page the
  editor visits cannot reach the desk through a DNS name it rebinds to
  127.0.0.1, since the browser sends that name as the Host.
- **CSRF.** Every POST carries a token signed with this process's own random
  key (``tokens.make_form_token``, good for a day): in the form, or in the
  ``X-CSRF-Token`` header htmx sends from ``hx-headers`` on the page. A POST
  from another origin (its ``Origin`` header) is refused too.
- **Login.** On a host other than loopback the desk needs a password,
  ``NEWSLETTER_DESK_PASSWORD`` (asked for on loopback too when it is set): it
  is read once, kept only as an argon2 hash in memory, and a session cookie
  (HttpOnly, SameSite=Strict, signed with the process's key) marks a signed-in
  browser. Restarting the desk signs everyone
  out. Failed sign-ins are slowed: after ``MAX_FAILURES`` in a minute, the page
  answers 429 until the minute has passed.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    request,
    send_from_directory,
    session,
)
from werkzeug.wrappers import Response as BaseResponse

from newsletter import tokens
from newsletter.build import environment, render_template
from newsletter.config import Settings
from newsletter.store import Database, open_db

# The one env variable a desk on a non-loopback host needs; read once, then hashed.
PASSWORD_ENV = "NEWSLETTER_DESK_PASSWORD"
MIN_PASSWORD = 12  # characters: a desk on a network guards a mailing list and a directory
MAX_FAILURES = 5  # failed sign-ins a minute before the login page answers 429
CSRF_LINK = "desk"  # what the desk's form tokens are bound to (tokens.make_form_token)
CSRF_HEADER = "X-CSRF-Token"
# Request bodies: an item's Markdown is at most files.MAX_TEXT_BYTES (1 MB); the
# forms' other fields are short.
MAX_BODY = 2 * 1024 * 1024
STATIC = Path(__file__).with_name("static")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# Scripts only from the desk itself (htmx); the previews' pictures may come from the
# web; frames are the desk's own previews (srcdoc inherits this policy).
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
        "img-src 'self' https: data:; connect-src 'self'; frame-src 'self'; "
        "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
    ),
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 in brackets or not) is this machine only."""
    bare = host.strip("[]").lower()
    if bare in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def hash_password(password: str) -> str:
    """``password``'s argon2id hash (argon2-cffi's recommended parameters)."""
    return PasswordHasher().hash(password)


@dataclass
class Failures:
    """Failed sign-ins in the last minute, for the login page's limit."""

    times: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def too_many(self, now: float) -> bool:
        with self.lock:
            while self.times and self.times[0] < now - 60:
                self.times.popleft()
            return len(self.times) >= MAX_FAILURES

    def add(self, now: float) -> None:
        with self.lock:
            self.times.append(now)


@dataclass
class Desk:
    """What every page of the desk shares: the project, the settings, the page
    renderer, contacts.db, the process's key, and the send runs in progress."""

    settings: Settings
    db_path: Path
    key: bytes  # random per process: the CSRF tokens and the session cookie
    env: jinja2.Environment
    host: str = "127.0.0.1"
    password_hash: str | None = None
    # Anything a page starts that outlives its request (a send), by name.
    jobs: dict[str, Any] = field(default_factory=dict)
    jobs_lock: threading.Lock = field(default_factory=threading.Lock)
    failures: Failures = field(default_factory=Failures)

    @property
    def root(self) -> Path:
        return self.settings.root

    def issue_folder(self, issue_id: str) -> Path:
        """``issues/ID``, or 404: a desk URL names an issue that must exist."""
        from newsletter.errors import BadUsage, NewsletterError
        from newsletter.issue import issue_folder

        try:
            return issue_folder(self.root, issue_id)
        except (NewsletterError, BadUsage):  # BadUsage: no issue can have that ID
            abort(404)

    def csrf(self) -> str:
        """A fresh CSRF token for a form of the desk."""
        return tokens.make_form_token(self.key, CSRF_LINK, int(time.time()))

    def page(self, template: str, values: dict[str, Any], status: int = 200) -> Response:
        """``template`` (extending ``desk.html.j2``) rendered as an HTML answer, with the
        notices left by the last POST (``done``)."""
        context = {
            "settings": self.settings,
            "csrf": self.csrf(),
            "signed_in": self.password_hash is not None,
            "base": "/",
            "notices": get_flashed_messages(with_categories=True),
            **values,
        }
        html = render_template(self.env, template, context, self.settings.root)
        return Response(html, status=status, mimetype="text/html")

    def fragment(self, template: str, values: dict[str, Any], status: int = 200) -> Response:
        """A part of a page (``_desk_*.html.j2``, no frame) for htmx to swap in."""
        context = {"settings": self.settings, "csrf": self.csrf(), **values}
        html = render_template(self.env, template, context, self.settings.root)
        return Response(html, status=status, mimetype="text/html")

    def done(self, to: str, text: str, kind: str = "notice") -> BaseResponse:
        """After a POST: go to ``to`` (303) and show ``text`` there once (``kind``
        "notice", or "error" for what did not work), so a reload posts nothing again."""
        flash(text, kind)
        return redirect(to, code=303)

    @contextmanager
    def connection(self) -> Iterator[Database]:
        """contacts.db for one request, closed after it (as the command line does)."""
        db = open_db(self.db_path)
        try:
            yield db
        finally:
            db.conn.close()


def open_desk(
    settings: Settings, db_path: Path, host: str = "127.0.0.1", password: str | None = None
) -> Desk:
    """The shared part of the desk; ``password`` (when given) is kept only as its hash."""
    password_hash = hash_password(password) if password else None
    return Desk(
        settings,
        db_path,
        secrets.token_bytes(32),
        environment(settings, settings.root),
        host,
        password_hash,
    )


# The desk's pages, each a blueprint of its own module, given the shared Desk.
Pages = Callable[[Desk], Blueprint]


def create_desk(desk: Desk, pages: tuple[Pages, ...] = ()) -> Flask:
    """The desk's Flask app on ``desk``, with the login page, htmx and ``pages``."""
    app = Flask("newsletter.desk", static_folder=None)
    app.secret_key = desk.key
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="newsletter_desk",
    )

    @app.before_request
    def guard() -> BaseResponse | None:
        if not _host_ok(desk.host, _hostname(request.host)):
            abort(421)  # Misdirected Request: a name this desk was not started for
        if request.endpoint in ("desk_static", "login"):
            return None
        if desk.password_hash is not None and not session.get("in"):
            # Quoted: a path may hold a decoded newline (%0A), which no header may carry.
            after = quote(request.full_path.rstrip("?"), safe="/")
            return redirect(f"/login?next={after}", code=303)
        if request.method == "POST" and not _post_ok(desk):
            abort(400, "The form was open too long, or it came from another site. Reload it.")
        return None

    @app.after_request
    def headers(response: BaseResponse) -> BaseResponse:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    @app.errorhandler(421)
    @app.errorhandler(429)
    @app.errorhandler(500)
    def failed(error: Any) -> Response:
        if error.code == 500:  # a bug: its traceback is in the desk's terminal, not here
            text = "The desk stopped on an unexpected error; its terminal says where."
            return desk.page(
                "desk_error.html.j2", {"code": 500, "title": error.name, "text": text}, 500
            )
        return desk.page(
            "desk_error.html.j2",
            {"code": error.code, "title": error.name, "text": error.description or ""},
            error.code,
        )

    @app.get("/static/<path:name>", endpoint="desk_static")
    def static(name: str) -> BaseResponse:
        return send_from_directory(STATIC, name, max_age=3600)

    @app.route("/login", methods=["GET", "POST"], endpoint="login")
    def login() -> BaseResponse:
        after = _safe_next(request.values.get("next", "/"))
        if desk.password_hash is None:
            return redirect(after, code=303)
        if request.method == "GET":
            return desk.page("desk_login.html.j2", {"next": after, "wrong": False})
        now = time.time()
        if desk.failures.too_many(now):
            abort(429, "Too many wrong passwords. Wait a minute, then try again.")
        if not _post_ok(desk):
            abort(400, "The form was open too long, or it came from another site. Reload it.")
        if _verified(desk.password_hash, request.form.get("password", "")):
            session.clear()
            session["in"] = True
            return redirect(after, code=303)
        desk.failures.add(now)
        return desk.page("desk_login.html.j2", {"next": after, "wrong": True}, 401)

    @app.post("/logout")
    def logout() -> BaseResponse:
        session.clear()
        return redirect("/login", code=303)

    for pages_of in pages:
        app.register_blueprint(pages_of(desk))
    return app


def _host_ok(started_on: str, asked: str) -> bool:
    """Whether a request's Host may reach this desk: on loopback, only a loopback name
    (a rebound DNS name is refused); elsewhere any name the office gives it, since
    the password guards it there."""
    return is_loopback(asked) or not is_loopback(started_on)


def _hostname(host: str) -> str:
    """The name in a Host header, without its port: "[::1]:8000" is "::1"."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _post_ok(desk: Desk) -> bool:
    """A POST's CSRF token is genuine and fresh, and it came from the desk's own pages."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        return False
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf", "")
    return tokens.form_token_ok(desk.key, CSRF_LINK, sent, int(time.time()))


def _verified(password_hash: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _safe_next(target: str) -> str:
    """Where to go after signing in: a path of the desk, never another site."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"  # a browser drops tabs and newlines ("/\t/evil"); no header carries them
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target if "\\" not in target else "/"
