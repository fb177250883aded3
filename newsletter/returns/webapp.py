"""The unsubscribe pages and the archive of ``newsletter serve``, and what every page shares.

``newsletter.server`` composes the whole app: these routes (``app_for``) and the
directory's pages, each given the same ``Site`` (the settings, the secret, the
page renderer with its security headers, and the database connection with its
lock wait), so no page repeats them.

``GET /unsubscribe/<token>`` only asks: mail scanners and link previewers
follow every link, so a GET never changes anything. ``POST`` to the same URL
unsubscribes and answers 200 with no redirect; that is the RFC 8058 one-click
endpoint mail clients call with the body ``List-Unsubscribe=One-Click`` and no
cookies. The HMAC token is the authorisation, so there is no session and no
CSRF token; any POST with a genuine token unsubscribes (a forged POST could
only unsubscribe the person whose token it already holds). Both are idempotent.

The page also offers a second, separate choice: to leave the focal-point
directory (``POST /unsubscribe/<token>/directory``). Unsubscribing stops the
mail, not the listing, and leaving the directory does not unsubscribe. That
form is not an RFC 8058 endpoint, so it carries a CSRF token as every other
public form does: signed for this link and good for a day
(``tokens.make_form_token``); a POST without a genuine one is refused with 400
and changes nothing. When the database is busy or cannot be written, the
answer is 503 with Retry-After and nothing is recorded: unlike an unsubscribe,
nothing is mailed meanwhile, the page says to try again, and the journal
stays the record of one kind of request only.

Every other public POST of ``serve`` is limited per genuine token
(``returns.ratelimit``, ``Site.too_often``): over the limit, 429 with
Retry-After, and nothing recorded. The one-click unsubscribe is not: a repeat
only reads, as a GET does.

An unsubscribe is never lost. The app refuses to start on a database it
cannot write. A request waits at most ``WEB_LOCK_WAIT`` seconds for another
program that is writing; when the write waits longer or fails for any reason,
the request goes to the journal beside the database (``store.journal``,
fsynced) and the answer is 202: the next command that opens the database, and
``send`` before it mails anyone, applies it. Only when even that fails is the
answer 503 with Retry-After. Never 500.

Production: a WSGI server such as waitress or gunicorn calls
``newsletter.server:app_from_env``. The token in a personal link is as good as a
password for that link, so no log line shows it: every log the app and its
servers write (werkzeug's access log, waitress's and Flask's errors,
``log_requests``) passes through ``mask_tokens``, for the unsubscribe, entry and
members' links alike.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import jinja2
from flask import Flask, Response, abort, redirect, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Response as BaseResponse

from newsletter import tokens
from newsletter.build import render
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.returns.ratelimit import CLICKS, POSTS, Limiter
from newsletter.sanitize import one_line
from newsletter.store import (
    Database,
    DatabaseError,
    check_writable,
    contacts,
    journal,
    open_db,
    set_durable,
)

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

# A token is about 60 characters; anything far longer is not one of ours.
MAX_TOKEN = 200
# Seconds a request waits for another program writing to contacts.db (the CLI
# waits NEWSLETTER_LOCK_WAIT). Short: a mail client gives up on a one-click POST
# after a few seconds, and a request recorded in the journal is as good.
WEB_LOCK_WAIT = 3.0
# The largest request body read (bytes): every form here is a few fields of at most
# a thousand characters; a larger body (a huge field, a file in a multipart form)
# is refused with 413 before it is read, spooled to disk or parsed.
MAX_BODY = 64 * 1024
# When not even the journal can be written: ask to come back in a few minutes.
RETRY_AFTER = "300"
log = logging.getLogger(__name__)
# One line a request, for a server that keeps no access log (waitress): log_requests.
ACCESS = "newsletter.access"
# What logs show instead of a token: the rest of a personal link's path, and a
# token's shape anywhere else (a path of some other route, a traceback).
MASKED = "<masked>"
# Every personal page: the unsubscribe link, "Check your entry", the members' directory,
# a reviewer's preview, a focal point's contribution form.
_PERSONAL = re.compile(r"(/(?:unsubscribe|entry|members|review|submit)/)[^\s\"'?#]+")
# A token of any of our kinds anywhere, however long its payload (a click or
# review token's runs past tokens.SHAPE's 200 characters): from the start of a run.
_ANY_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{43}")
# The loggers that may write a request's path: the servers' and Flask's own.
PATH_LOGGERS = ("werkzeug", "waitress", ACCESS)
HEADERS = {
    # The token is in the URL: keep it out of caches, Referer headers and indexes.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def mask(email: str) -> str:
    """Enough of an address to recognise it, too little to harvest: j•••e@unicef.org."""
    local, _, domain = email.partition("@")
    shown = local[0] + "•••" + local[-1] if len(local) > 2 else local[:1] + "•••"
    return f"{shown}@{domain}"


def mask_tokens(text: str) -> str:
    """``text`` with every personal token replaced by ``<masked>``, for a log line."""
    return _ANY_TOKEN.sub(MASKED, _PERSONAL.sub(rf"\g<1>{MASKED}", text))


def _masked(record: logging.LogRecord) -> bool:
    """A logging filter: the record's message and traceback with tokens masked."""
    record.msg, record.args = mask_tokens(record.getMessage()), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_tokens(record.exc_text)
    return True


def log_requests(app: WSGIApplication) -> WSGIApplication:
    """``app``, logging one line a request on ``newsletter.access`` (INFO), tokens masked.

    No address is logged: behind the proxy it is always the proxy's, and an
    editor's log is no place for recipients' addresses anyway."""
    access = logging.getLogger(ACCESS)
    access.setLevel(logging.INFO)

    def logged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            path = one_line(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
            stamp = time.strftime("%d/%b/%Y %H:%M:%S")
            method, protocol = environ.get("REQUEST_METHOD"), environ.get("SERVER_PROTOCOL")
            access.info('[%s] "%s %s %s" %s', stamp, method, path, protocol, status[:3])
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return logged


@dataclass(frozen=True)
class Site:
    """What every page of ``serve`` shares: the settings, the secret, the page
    renderer (security headers on every answer) and the database connection."""

    settings: Settings
    db_path: Path
    secret: bytes
    env: jinja2.Environment
    wait: float = WEB_LOCK_WAIT
    # How often one token may post, and count a click (``returns.ratelimit``).
    posts: Limiter = field(default_factory=lambda: Limiter(POSTS), compare=False)
    clicks: Limiter = field(default_factory=lambda: Limiter(CLICKS), compare=False)

    def page(self, template: str, values: dict[str, object], status: int = 200) -> Response:
        """``template`` rendered with ``values`` (and the settings) as an HTML answer."""
        html = render.render_template(
            self.env, template, {"settings": self.settings, **values}, self.settings.root
        )
        response = Response(html, status=status, mimetype="text/html", headers=HEADERS)
        if status == 503:
            response.headers["Retry-After"] = RETRY_AFTER
        return response

    def download(self, body: str, media_type: str, filename: str) -> Response:
        """``body`` as a file to save (a vCard), with the same headers as a page."""
        response = Response(body, mimetype=media_type, headers=HEADERS)
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def too_often(self, token: str, base: str = "../") -> Response | None:
        """None when the genuine ``token`` may post now (the post is counted); else the
        429 page with Retry-After, and the caller records nothing."""
        wait = self.posts.hit(token)
        if not wait:
            return None
        values = {"base": base, "minutes": math.ceil(wait / 60)}
        response = self.page("limited.html.j2", values, 429)
        response.headers["Retry-After"] = str(wait)
        return response

    def form_token(self, link: str) -> str:
        """A fresh CSRF token for a form on the page of ``link``."""
        return tokens.make_form_token(self.secret, link, int(time.time()))

    def form_ok(self, link: str) -> bool:
        """Whether the request's form carries a genuine, fresh CSRF token for ``link``."""
        sent = request.form.get("csrf", "")
        return tokens.form_token_ok(self.secret, link, sent, int(time.time()))

    @contextmanager
    def connection(self) -> Iterator[Database]:
        """contacts.db for one request: waits ``wait`` seconds at most for another writer."""
        if not self.db_path.is_file():  # moved away while serving: open_db would make a new one
            raise NewsletterError(f"{self.db_path}: no longer there")
        # A waiting journal means the database was busy a moment ago: try it, but do
        # not keep every request (a worker thread each) waiting while it stays busy.
        busy = journal.has_pending(self.db_path)
        db = open_db(self.db_path, wait=0 if busy else self.wait)  # this also applies the journal
        try:
            set_durable(db, True)  # "You are unsubscribed" must survive a power cut
            yield db
        finally:
            db.conn.close()

    def guarded(
        self, act: Callable[[Database], Response], unavailable: Callable[[], Response], what: str
    ) -> Response:
        """``act`` on contacts.db for one request. Busy, read-only, full or gone: the
        page ``unavailable`` makes (a 503), nothing recorded, and one warning naming
        ``what``; a bug is not one of these: it raises (a 500), not "try again later"."""
        try:
            with self.connection() as db:
                return act(db)
        except (NewsletterError, DatabaseError, OSError) as exc:
            log.warning("%s could not use the database: %s", what, exc)
        return unavailable()


def open_site(
    settings: Settings, db_path: Path, secret: bytes | None = None, wait: float = WEB_LOCK_WAIT
) -> Site:
    """The shared part of the app; raises NewsletterError without a usable
    NEWSLETTER_SECRET or a writable database."""
    secret = secret if secret is not None else tokens.secret_from_env()
    if not db_path.is_file():
        # Started in the wrong folder, it would make an empty database and tell every
        # recipient "no longer on our list" while send goes on mailing them.
        raise NewsletterError(
            f"{db_path}: no contacts database. Point it at the one send uses: --root or "
            "--db (NEWSLETTER_ROOT or NEWSLETTER_DB for a WSGI server)."
        )
    db = open_db(db_path)  # create and migrate once, and fail now if it is unusable
    try:
        check_writable(db, db_path)  # read-only, it would confirm and then lose every request
    finally:
        db.conn.close()
    return Site(settings, db_path, secret, render.environment(settings, settings.root), wait)


def create_app(
    settings: Settings,
    db_path: Path,
    site_dir: Path | None = None,
    secret: bytes | None = None,
    wait: float = WEB_LOCK_WAIT,
) -> Flask:
    """The unsubscribe pages and the archive alone (``newsletter.server`` adds the
    directory's pages); raises NewsletterError as ``open_site`` does."""
    return app_for(open_site(settings, db_path, secret, wait), site_dir)


def app_for(shared: Site, site_dir: Path | None = None) -> Flask:
    """The Flask app of the unsubscribe pages and the archive, on ``shared``."""
    settings, db_path, secret = shared.settings, shared.db_path, shared.secret
    site = (site_dir or settings.root / "site").resolve()
    app = Flask("newsletter", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    for name in (*PATH_LOGGERS, app.logger.name):  # a logger's filter sees all it logs
        logging.getLogger(name).addFilter(_masked)  # once: the same filter is not added twice
    app.url_map.converters["rest"] = Rest
    app.extensions["newsletter.site"] = shared  # its limiters, for the tests
    connection = shared.connection

    @app.after_request
    def guarded(response: BaseResponse) -> BaseResponse:
        # Werkzeug's own answers (405, 413, a 404 outside the archive) carry no
        # headers of ours; a page on a personal link may be what they answer.
        if response.status_code >= 400:
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    def page(
        state: str,
        address: str = "",
        status: int = 200,
        link: str = "",
        listed: bool | None = False,
        base: str = "../",
        mail: str = "",
    ) -> Response:
        """The page in ``state``; with ``link`` and ``listed`` not False, the directory form."""
        form = ""
        if link and listed is not False:  # None: not known (the database was busy)
            form = shared.form_token(link)
        values: dict[str, object] = {
            "state": state,
            "address": address,
            "base": base,
            "link": link,
            "listed": listed,
            "csrf": form,
            "mail": mail,  # the contact's status, for what did not change
        }
        return shared.page("unsubscribe.html.j2", values, status)

    def lookup(token: str) -> tuple[int, str] | None:
        return tokens.read_token(secret, token) if len(token) <= MAX_TOKEN else None

    def handle(token: str, act: bool, base: str = "../") -> Response:
        found = lookup(token)
        if found is None:
            return page("invalid", status=400, base=base)
        try:
            return use_database(token, found, act, base)
        except Exception as exc:  # locked too long, read-only, disk full, or a bug: never lost
            log.warning("unsubscribe of contact %d goes to the journal: %s", found[0], exc)
        if not act:  # only asking: ask without the address the database would have given
            state = "recorded" if found[0] in journal.pending(db_path) else "confirm"
            return page(state, link=token, listed=None, base=base)
        try:
            journal.record(db_path, *found)
        except OSError as exc:
            log.error("%s: cannot record an unsubscribe: %s", journal.journal_path(db_path), exc)
            return page("unavailable", status=503, link=token, listed=None)
        return page("recorded", status=202, link=token, listed=None)

    def use_database(token: str, found: tuple[int, str], act: bool, base: str) -> Response:
        # GET only shows the confirmation (mail scanners follow links); POST acts.
        with connection() as db:
            contact = contacts.get_contact(db, found[0])
            if contact is None:
                return page("gone", base=base)
            # A repeat reads only (no write lock): never rate-limited, it must cost no
            # more than a GET.
            again = contact.status == "unsubscribed"
            changed = act and not again and contacts.unsubscribe_by_link(db, *found)
            unsubscribed = changed or again
            state = ("done" if changed else "already") if act or unsubscribed else "confirm"
            return page(state, mask(contact.email), 200, token, contact.listed, base)

    def unlist(token: str) -> Response:
        found = lookup(token)
        if found is None:
            return page("invalid", status=400, base="../../")
        if limited := shared.too_often(token, "../../"):
            return limited
        if not shared.form_ok(token):
            return page("expired", status=400, link=token, listed=None, base="../../")
        try:
            with connection() as db:
                contact = contacts.get_contact(db, found[0])
                if contact is None:
                    return page("gone", base="../../")
                changed = contacts.unlist_by_link(db, found[0], found[1])
                state = "unlisted" if changed else "already-unlisted"
                return page(state, mask(contact.email), base="../../", mail=contact.status)
        except (NewsletterError, DatabaseError, OSError) as exc:
            # Busy, read-only, full: nothing recorded, and the page says so. A bug is
            # not one of these: it raises (a 500), not a "try again later".
            log.warning("directory removal of contact %d not recorded: %s", found[0], exc)
        return page("unlist-unavailable", status=503, link=token, listed=None, base="../../")

    @app.get("/unsubscribe/<token>", merge_slashes=False)
    def confirm(token: str) -> Response:
        return handle(token, act=False)

    @app.post("/unsubscribe/<token>", merge_slashes=False)
    def unsubscribe(token: str) -> Response:
        return handle(token, act=True)

    @app.get("/unsubscribe/<token>/directory", merge_slashes=False)
    def directory_page(token: str) -> Response:  # the form's URL, opened again: ask only
        return handle(token, act=False, base="../../")

    @app.post("/unsubscribe/<token>/directory", merge_slashes=False)
    def directory_removal(token: str) -> Response:
        return unlist(token)

    # A link cut short before its token, or one that carries a slash: damaged, so
    # the same 400 page rather than the archive's 404 or a 405 for the POST.
    # Double slashes too: werkzeug would redirect them, or give them to the archive.
    @app.route("/unsubscribe", methods=["GET", "POST"])
    @app.route("/unsubscribe/<rest:token>", methods=["GET", "POST"], merge_slashes=False)
    def damaged(token: str = "") -> Response:
        return page("invalid", status=400)

    @app.get("/")
    @app.get("/<path:path>")
    def archive(path: str = "") -> BaseResponse:  # a redirect is werkzeug's own Response
        if not (site / "index.html").is_file():
            abort(404, "No archive yet. Publish one with: newsletter archive")
        if any(part.startswith(".") for part in path.split("/")):
            abort(404)  # the archive's marker file, or an editor's stray dotfiles
        target = site / path
        if path and not path.endswith("/") and target.is_dir():
            # As static servers do: the page's relative links (../index.html,
            # event-x.ics) only resolve from ID/, not from ID.
            return redirect(f"{path.rsplit('/', 1)[-1]}/", code=301)
        if path.endswith("/") or path == "" or target.is_dir():
            path = path.rstrip("/") + "/index.html" if path.strip("/") else "index.html"
        try:
            response = send_from_directory(site, path, max_age=300)
        except NotFound:
            abort(404)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


class Rest(PathConverter):
    """The rest of the path, whatever it is: empty, or with slashes anywhere."""

    regex = "[\\s\\S]*"  # not ".*": a "." stops at a line break (%0A)
    part_isolating = False  # it spans slashes; werkzeug guesses from "/" in the regex
