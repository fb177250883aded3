"""newsletter.server: serve's whole app is the unsubscribe pages, the archive and the
directory's pages on one shared Site; app_from_env builds it for a WSGI server."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest

from newsletter import tokens
from newsletter.config import load_settings
from newsletter.returns import create_app as unsubscribe_only
from newsletter.server import app_from_env, create_app
from newsletter.store import open_db
from newsletter.store.contacts import get_contact

SECRET = "a-test-secret-that-is-long-enough"
ONE_CLICK = {"data": b"List-Unsubscribe=One-Click"}


def entry_link(contact) -> str:
    return tokens.make_link_token(SECRET.encode(), tokens.ENTRY, contact.id, time.time())


def test_the_app_has_the_unsubscribe_archive_and_directory_pages(project, people):
    jane, _ = people
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET.encode())
    client = app.test_client()
    unsubscribe = f"/unsubscribe/{tokens.make_token(SECRET.encode(), jane.id, '2026-Q4')}"
    assert client.get(unsubscribe).status_code == 200
    assert client.get(f"/entry/{entry_link(jane)}").status_code == 200
    members = tokens.make_link_token(SECRET.encode(), tokens.MEMBERS, jane.id, time.time())
    assert client.get(f"/members/{members}").status_code == 200
    assert client.get("/").status_code == 404  # no archive yet: the archive route answers
    # returns alone knows nothing of the directory: the archive's 404 there.
    alone = unsubscribe_only(load_settings(project), project / "contacts.db", secret=b"x" * 20)
    assert alone.test_client().get(f"/entry/{entry_link(jane)}").status_code == 404


def test_app_from_env_for_a_wsgi_server(project, people, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_ROOT", str(project))
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    jane, _ = people
    client = app_from_env().test_client()
    token = tokens.make_token(SECRET.encode(), jane.id, "2026-Q4")
    assert client.post(f"/unsubscribe/{token}", **ONE_CLICK).status_code == 200
    assert get_contact(open_db(project / "contacts.db"), jane.id).status == "unsubscribed"
    assert client.get(f"/entry/{entry_link(jane)}").status_code == 200


def test_serve_serves_the_entry_page_and_masks_its_token(project, people):
    """`newsletter serve` as a process: the entry page answers, no log line shows its token."""
    import os

    jane, _ = people
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "serve", "--port", "0"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    token = entry_link(jane)
    try:
        first = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert found, first
        with urllib.request.urlopen(f"{found[0]}/entry/{token}", timeout=10) as reply:
            assert reply.status == 200
            assert "Your entry in the focal-point directory" in reply.read().decode()
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(f"{found[0]}/members/{token}", timeout=10)
        assert bad.value.code == 400  # an ENTRY token does not open the members' directory
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert token not in first + out + err
    assert token.split(".")[1] not in first + out + err
    assert '"GET /entry/<masked> HTTP/1.1" 200' in err
    assert '"GET /members/<masked> HTTP/1.1" 400' in err


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"csrf": "x", "name": "J" * 3_000_000}},  # a form field
        {"data": {"csrf": "x", "upload": (io.BytesIO(b"0" * 3_000_000), "a")}},
    ],
    ids=["urlencoded", "multipart file"],
)
def test_a_body_larger_than_any_form_is_refused_before_it_is_read(project, people, body):
    from helpers import dump

    jane, _ = people
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET.encode())
    before = dump(project / "contacts.db")
    reply = app.test_client().post(f"/entry/{entry_link(jane)}/correct", **body)
    assert reply.status_code == 413
    assert dump(project / "contacts.db") == before


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("PUT", "/entry/x", 405), ("DELETE", "/unsubscribe/x", 405), ("POST", "/", 405)],
)
def test_werkzeugs_own_answers_carry_the_security_headers(project, people, method, path, status):
    from newsletter.returns.webapp import HEADERS

    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET.encode())
    client = app.test_client()
    response = client.open(path, method=method)
    assert response.status_code == status
    for name, value in HEADERS.items():
        assert response.headers[name] == value


# -- every token opens its own pages, and no other ---------------------------------

URL = "https://example.org/report"
FORMS = {
    "correct": {
        "name": "Jane Doe",
        "job_title": "Focal point",
        "phone": "",
        "city": "Geneva",
        "email": "jane.doe@unicef.example",
    },
    "left": {"successor": ""},
    "new": {"seat": "1", "name": "Newcomer", "email": "new@unicef.example"},
    "comment": {"comment": "Fine"},
}


def _routes(contact_id: int, org_id: int) -> list[tuple[str, str, str, int]]:
    """(method, path with {t} for the token, whose token the route is for, its status then)."""
    return [
        ("GET", "/members/{t}", "members", 200),
        ("GET", f"/members/{{t}}/{contact_id}.vcf", "members", 200),
        ("GET", f"/members/{{t}}/org/{org_id}.vcf", "members", 200),
        ("GET", "/unsubscribe/{t}", "unsubscribe", 200),
        ("GET", "/unsubscribe/{t}/directory", "unsubscribe", 200),
        ("POST", "/unsubscribe/{t}/directory", "unsubscribe", 200),  # ends her members' pages
        ("GET", "/entry/{t}", "entry", 200),
        *(("GET", f"/entry/{{t}}/{a}", "entry", 200) for a in ("confirm", "correct", "left")),
        ("POST", "/entry/{t}/confirm", "entry", 200),
        ("POST", "/entry/{t}/correct", "entry", 200),
        ("POST", "/entry/{t}/new", "entry", 403),  # no vacant seat of hers: refused, as ever
        ("POST", "/entry/{t}/left", "entry", 200),
        ("GET", "/review/{t}", "review", 200),
        ("GET", "/review/{t}/comment", "review", 200),
        ("POST", "/review/{t}/comment", "review", 200),
        ("POST", "/review/{t}/approve", "review", 200),
        ("GET", "/r/{t}", "click", 302),
        ("HEAD", "/r/{t}", "click", 302),
        # Last: the one-click unsubscribe, which changes what the others show.
        ("POST", "/unsubscribe/{t}", "unsubscribe", 200),
    ]


def test_every_token_opens_its_own_pages_and_no_other(project):
    """Each route of serve against every kind of token we make: only its own opens; any
    other is 400 and changes nothing, even with a CSRF token made for it."""
    from helpers import built, dump, serve_app

    from newsletter.models import Contact
    from newsletter.store.contacts import create_contact
    from newsletter.store.seats import seat_of

    built(project)
    db = open_db(project / "contacts.db")
    jane = create_contact(
        db,
        Contact(
            email="jane.doe@unicef.example",
            name="Jane Doe",
            organisation="UNICEF",
            job_title="Focal point",
        ),
        "test",
        "t",
    )
    org_id = seat_of(db, jane.id).organisation_id
    db.conn.close()
    key, now = SECRET.encode(), time.time()
    entry = tokens.make_link_token(key, tokens.ENTRY, jane.id, now)
    made = {
        "unsubscribe": tokens.make_token(key, jane.id, "2026-Q4"),
        "entry": entry,
        "members": tokens.make_link_token(key, tokens.MEMBERS, jane.id, now),
        "review": tokens.make_review_token(key, "2026-Q4", "director@example.org", now),
        "click": tokens.make_click_token(key, "2026-Q4", 1, URL),
        "form": tokens.make_form_token(key, entry, int(now)),
        "return path": tokens.make_return_token(key, jane.id, "2026-Q4"),
    }
    routes = _routes(jane.id, org_id)
    app = create_app(load_settings(project), project / "contacts.db", secret=key, wait=0.3)
    opener = urllib.request.build_opener(_NoRedirect)

    def answer(method: str, path: str, token: str) -> int:
        form = {"csrf": tokens.make_form_token(key, token, int(time.time()))}
        form |= FORMS.get(path.rsplit("/", 1)[-1], {})
        data = urllib.parse.urlencode(form).encode() if method == "POST" else None
        request = urllib.request.Request(base + path.format(t=token), data, method=method)
        try:
            with opener.open(request, timeout=30) as reply:
                return reply.status
        except urllib.error.HTTPError as error:
            return error.code

    with serve_app(app) as base:
        before = dump(project / "contacts.db")
        refused = {
            (method, path, kind): answer(method, path, token)
            for method, path, owner in ((m, p, o) for m, p, o, _ in routes)
            for kind, token in made.items()
            if kind != owner
        }
        assert refused == dict.fromkeys(refused, 400)
        assert dump(project / "contacts.db") == before
        opened = [(m, p, answer(m, p, made[owner])) for m, p, owner, _ in routes]
    assert opened == [(m, p, status) for m, p, _, status in routes]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the click's 302 is the answer under test


class _Forms(HTMLParser):
    """Every form of a page: (method, action, {hidden input: value})."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((found.get("method", "get").lower(), found.get("action", ""), {}))
        elif tag == "input" and found.get("type") == "hidden" and self.forms:
            self.forms[-1][2][found.get("name", "")] = found.get("value", "")


def test_every_form_on_every_page_carries_a_csrf_token_for_its_link(project):
    """Every POST form serve shows carries a genuine CSRF token for the page's own link,
    but the RFC 8058 one-click unsubscribe, whose signed token is its authorisation."""
    from helpers import built, serve_app

    from newsletter.directory.stewards import steward
    from newsletter.models import Contact
    from newsletter.store.contacts import create_contact, mark_left

    built(project)
    db = open_db(project / "contacts.db")
    people = {}
    for key in ("jane", "ana", "lea"):
        contact = Contact(email=f"{key}@unicef.example", name=key, organisation="UNICEF")
        people[key] = create_contact(db, contact, "test", "t")
    mark_left(db, people["lea"].id, "test", "t")  # a vacant seat: the steward's "new" form
    steward(db, "jane@unicef.example")
    db.conn.close()
    key, now = SECRET.encode(), time.time()
    links = {
        "unsubscribe": tokens.make_token(key, people["jane"].id, "2026-Q4"),
        "entry": tokens.make_link_token(key, tokens.ENTRY, people["jane"].id, now),
        "review": tokens.make_review_token(key, "2026-Q4", "director@example.org", now),
    }
    app = create_app(load_settings(project), project / "contacts.db", secret=key)
    found = {}
    with serve_app(app) as base:
        for page, token in links.items():
            with urllib.request.urlopen(f"{base}/{page}/{token}", timeout=30) as reply:
                parser = _Forms()
                parser.feed(reply.read().decode())
            found[page] = parser.forms
            for method, action, hidden in parser.forms:
                assert method == "post", (page, action)
                if action == f"../unsubscribe/{token}":
                    assert hidden == {"List-Unsubscribe": "One-Click"}
                    continue
                assert action.startswith(f"../{page}/{token}/"), action
                assert tokens.form_token_ok(key, token, hidden["csrf"], int(time.time()))
    actions = {page: [a.rsplit("/", 1)[-1] for _, a, _ in forms] for page, forms in found.items()}
    assert actions == {
        "unsubscribe": [links["unsubscribe"], "directory"],
        # Her confirmation, correction and departure, then Ana's (the steward's
        # roster), and a newcomer for Lea's vacant seat.
        "entry": ["confirm", "correct", "left", "correct", "left", "new"],
        "review": ["comment", "approve"],
    }


@pytest.mark.parametrize("page", ["entry", "members", "submit", "review"])
def test_every_personal_page_answers_503_when_the_database_is_gone(project, people, page, caplog):
    """One rule for every page of serve (``Site.guarded``): a database busy, read-only,
    full or moved away is a page saying "try again later", and a warning in the log."""
    from helpers import built

    jane, _ = people
    built(project)
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET.encode())
    now = time.time()
    token = {
        "entry": lambda: entry_link(jane),
        "members": lambda: tokens.make_link_token(SECRET.encode(), tokens.MEMBERS, jane.id, now),
        "submit": lambda: tokens.make_link_token(SECRET.encode(), tokens.SUBMIT, jane.id, now),
        "review": lambda: tokens.make_review_token(
            SECRET.encode(), "2026-Q4", "rev@example.org", now, 14
        ),
    }[page]()
    (project / "contacts.db").rename(project / "moved.db")
    answer = app.test_client().get(f"/{page}/{token}")
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert "could not use the database" in caplog.text
    assert "no longer there" in caplog.text
