"""newsletter/desk/app.py: the desk's guards (Host, CSRF, login), its errors and htmx,
on the real app served on 127.0.0.1, and the `newsletter desk` command."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import requests
from helpers import REPO, cli, make_issue, new_project, serve_app
from helpers import desk_server as desk
from helpers import form_csrf as csrf

from newsletter.config import load_settings
from newsletter.desk import PASSWORD_ENV, is_loopback
from newsletter.desk.app import STATIC, _safe_next, open_desk
from newsletter.store import open_db

PASSWORD = "correct horse battery staple"
HTMX_SHA256 = "71ea67185bfa8c98c39d31717c6fce5d852370fcdfd129db4543774d3145c0de"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = new_project(tmp_path / "project")
    make_issue(root)
    open_db(root / "contacts.db").conn.close()
    return root


def test_the_issues_page_lists_each_issue(project: Path):
    with desk(project) as url:
        page = requests.get(url + "/", timeout=10)
    assert page.status_code == 200
    assert '<a href="/issues/2026-Q4/">2026-Q4</a>' in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'; script-src")
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1", 200),
        ("localhost", 200),
        ("[::1]", 200),
        ("rebound.example", 421),  # a DNS name rebound to 127.0.0.1 by another site
        ("10.0.0.5", 421),
    ],
)
def test_a_loopback_desk_answers_only_loopback_names(project: Path, host: str, status: int):
    with desk(project) as url:
        port = url.rsplit(":", 1)[1]
        page = requests.get(url + "/", headers={"Host": f"{host}:{port}"}, timeout=10)
    assert page.status_code == status


@pytest.mark.parametrize(
    ("token", "origin", "status"),
    [
        (None, None, 400),  # no token
        ("1.AAAA", None, 400),  # forged
        ("genuine", "http://evil.example", 400),  # a genuine token, posted from another site
        ("genuine", None, 303),
    ],
)
def test_every_post_needs_a_genuine_csrf_token_from_the_desk(
    project: Path, token: str | None, origin: str | None, status: int
):
    with desk(project, "0.0.0.0", PASSWORD) as url:  # the sign-out form: the one POST here
        session = requests.Session()
        page = session.get(url + "/login", timeout=10).text
        session.post(url + "/login", data={"csrf": csrf(page), "password": PASSWORD}, timeout=10)
        home = session.get(url + "/", timeout=10).text
        form = {} if token is None else {"csrf": csrf(home) if token == "genuine" else token}
        headers = {"Origin": origin} if origin else {}
        answer = session.post(
            url + "/logout", data=form, headers=headers, allow_redirects=False, timeout=10
        )
        assert answer.status_code == status
        # Refused, the session is still signed in; accepted, it is signed out.
        after = session.get(url + "/", allow_redirects=False, timeout=10)
        assert after.status_code == (303 if status == 303 else 200)


def test_the_csrf_token_may_come_as_htmx_s_header(project: Path):
    with desk(project, "0.0.0.0", PASSWORD) as url:
        session = requests.Session()
        page = session.get(url + "/login", timeout=10).text
        session.post(url + "/login", data={"csrf": csrf(page), "password": PASSWORD}, timeout=10)
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', session.get(url + "/").text)[1]
        answer = session.post(
            url + "/logout", headers={"X-CSRF-Token": token}, allow_redirects=False, timeout=10
        )
    assert answer.status_code == 303


def test_a_desk_on_a_network_asks_for_the_password_first(project: Path):
    with desk(project, "0.0.0.0", PASSWORD) as url:
        session = requests.Session()
        first = session.get(url + "/issues/2026-Q4/", allow_redirects=False, timeout=10)
        assert first.status_code == 303
        assert first.headers["Location"] == "/login?next=/issues/2026-Q4/"
        login = session.get(url + first.headers["Location"], timeout=10)
        assert 'name="next" value="/issues/2026-Q4/"' in login.text
        wrong = session.post(
            url + "/login",
            data={"csrf": csrf(login.text), "password": "wrong", "next": "/issues/2026-Q4/"},
            timeout=10,
        )
        assert wrong.status_code == 401
        assert "That password is wrong" in wrong.text
        right = session.post(
            url + "/login",
            data={"csrf": csrf(wrong.text), "password": PASSWORD, "next": "/issues/2026-Q4/"},
            allow_redirects=False,
            timeout=10,
        )
        assert (right.status_code, right.headers["Location"]) == (303, "/issues/2026-Q4/")
        cookie = right.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert session.get(url + "/issues/2026-Q4/", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("path", "location"),
    [
        (
            "/issues/2026-Q4/%0D%0ASet-Cookie:%20x=1",
            "/login?next=/issues/2026-Q4/%0D%0ASet-Cookie%3A%20x%3D1",
        ),
        (
            "/issues/2026-Q4/send?sender=a&b=c",
            "/login?next=/issues/2026-Q4/send%3Fsender%3Da%26b%3Dc",
        ),
    ],
)
def test_the_way_to_the_sign_in_keeps_the_page_asked_for_quoted(
    project: Path, path: str, location: str
):
    with desk(project, "0.0.0.0", PASSWORD) as url:
        first = requests.get(url + path, allow_redirects=False, timeout=10)
    assert (first.status_code, first.headers["Location"]) == (303, location)
    assert "x=1" not in first.headers.get("Set-Cookie", "")


def test_the_password_is_kept_only_as_its_argon2_hash(project: Path):
    shared = open_desk(load_settings(project), project / "contacts.db", "0.0.0.0", PASSWORD)
    assert shared.password_hash is not None
    assert shared.password_hash.startswith("$argon2id$")
    assert PASSWORD not in repr(vars(shared))


def test_wrong_passwords_are_slowed_to_five_a_minute(project: Path):
    with desk(project, "0.0.0.0", PASSWORD) as url:
        session = requests.Session()
        codes = []
        for _ in range(7):
            page = session.get(url + "/login", timeout=10).text
            answer = session.post(
                url + "/login", data={"csrf": csrf(page), "password": "nope"}, timeout=10
            )
            codes.append(answer.status_code)
        # Even the right password waits out the minute.
        page = session.get(url + "/login", timeout=10).text
        right = session.post(
            url + "/login", data={"csrf": csrf(page), "password": PASSWORD}, timeout=10
        )
    assert codes == [401] * 5 + [429, 429]
    assert right.status_code == 429
    assert "Wait a minute" in right.text


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/issues/2026-Q4/", "/issues/2026-Q4/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("evil", "/"),
        ("", "/"),
        ("/\t/evil.example", "/"),  # a browser drops the tab: //evil.example
        ("/issues/\r\nSet-Cookie: x=1", "/"),  # no header may carry it
    ],
)
def test_after_signing_in_the_desk_goes_only_to_its_own_pages(target: str, safe: str):
    assert _safe_next(target) == safe


def test_a_loopback_desk_has_no_login(project: Path):
    with desk(project) as url:
        page = requests.get(url + "/login", allow_redirects=False, timeout=10)
    assert (page.status_code, page.headers["Location"]) == (303, "/")


def test_an_unknown_issue_is_a_page_saying_so(project: Path):
    with desk(project) as url:
        page = requests.get(url + "/issues/2031-Q1/", timeout=10)
        bad = requests.get(url + "/issues/..%2F..%2Fetc/", timeout=10)
    assert page.status_code == 404
    assert "<h1>Not Found</h1>" in page.text
    assert bad.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/issues/a%20b/",  # a space: no issue ID has one
        "/issues/.hidden/inbox",
        "/issues/" + "a" * 65 + "/items",  # longer than any issue ID
        "/issues/a%0Ab/build",
        "/issues/%C3%A9t%C3%A9/send",
    ],
)
def test_a_url_no_issue_id_can_be_is_404_not_a_traceback(project: Path, path: str):
    with desk(project) as url:
        page = requests.get(url + path, timeout=10)
    assert page.status_code == 404
    assert "<h1>Not Found</h1>" in page.text


def test_htmx_is_the_vendored_file(project: Path):
    assert hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest() == HTMX_SHA256
    with desk(project) as url:
        script = requests.get(url + "/static/htmx.min.js", timeout=10)
        page = requests.get(url + "/", timeout=10)
    assert hashlib.sha256(script.content).hexdigest() == HTMX_SHA256
    assert '<script src="/static/htmx.min.js"></script>' in page.text


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("desk.example.org", False),
    ],
)
def test_which_hosts_are_loopback(host: str, loopback: bool):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("password", [None, "", "short"])
def test_the_desk_on_a_network_refuses_to_start_without_a_long_password(
    project: Path, monkeypatch: pytest.MonkeyPatch, password: str | None
):
    if password is None:
        monkeypatch.delenv(PASSWORD_ENV, raising=False)
    else:
        monkeypatch.setenv(PASSWORD_ENV, password)
    result = cli(project, "desk", "--host", "0.0.0.0", "--port", "0")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: --host 0.0.0.0: the desk on a network needs a password. Set {PASSWORD_ENV} "
        "to at least 12 characters, or keep --host 127.0.0.1.\n"
    )


def test_a_password_set_is_asked_for_on_loopback_too(project: Path):
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, PASSWORD_ENV: PASSWORD}
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "desk", "--port", "0"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", proc.stdout.readline())
        assert found
        page = requests.get(found[1] + "/", allow_redirects=False, timeout=10)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    assert (page.status_code, page.headers["Location"]) == (303, "/login?next=/")


def test_a_short_password_set_on_loopback_is_refused(project: Path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "short")
    result = cli(project, "desk", "--port", "0")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {PASSWORD_ENV}: the desk's password needs at least 12 characters. Set a "
        "longer one, or unset it for a desk on 127.0.0.1 without a login.\n",
    )


def test_the_desk_needs_the_project_s_database(tmp_path: Path):
    root = new_project(tmp_path / "project")
    result = cli(root, "desk", "--port", "0")
    assert result.exit_code == 1
    assert "no contacts database here" in result.output
    assert not (root / "contacts.db").exists()


def test_the_desk_page_frame_is_one_template():
    # Every desk page extends desk.html.j2, which extends the site's one frame.
    pages = sorted((REPO / "templates").glob("desk_*.html.j2"))
    assert pages
    for page in pages:
        code = re.sub(r"\{#.*?#\}", "", page.read_text(encoding="utf-8"), flags=re.S)
        assert code.lstrip().startswith('{% extends "desk.html.j2" %}'), page.name
        for tag in ("<!doctype", "<html", "<head", "<meta charset", "<style", "<footer", "<body"):
            assert tag not in code.lower(), f"{page.name} repeats {tag}: it is in the frame"
    frame = (REPO / "templates" / "desk.html.j2").read_text(encoding="utf-8")
    assert '{% extends "_site.html.j2" %}' in frame


def test_a_notice_after_a_post_shows_once(project: Path):
    from flask import Blueprint

    from newsletter.desk.app import create_desk

    shared = open_desk(load_settings(project), project / "contacts.db")

    def pages(desk):
        bp = Blueprint("t", __name__)

        @bp.post("/t")
        def t():
            return desk.done("/", "Accepted 2 candidates <b>now</b>.")

        return bp

    from newsletter.desk.issues import blueprint

    with serve_app(create_desk(shared, (blueprint, pages))) as url:
        session = requests.Session()
        token = csrf(session.get(url + "/", timeout=10).text)
        first = session.post(url + "/t", data={"csrf": token}, timeout=10)
        again = session.get(url + "/", timeout=10)
    assert '<p class="notice" role="status">Accepted 2 candidates &lt;b&gt;now&lt;/b&gt;.</p>' in (
        first.text
    )
    assert "Accepted 2" not in again.text


def test_a_bug_is_the_desk_s_own_page_with_one_sentence_and_no_traceback(project: Path):
    from flask import Blueprint

    from newsletter.desk.app import create_desk

    shared = open_desk(load_settings(project), project / "contacts.db")

    def pages(desk):
        bp = Blueprint("t", __name__)

        @bp.get("/t")
        def t():
            raise RuntimeError("secret internals")

        return bp

    with serve_app(create_desk(shared, (pages,))) as url:
        page = requests.get(url + "/t", timeout=10)
    assert page.status_code == 500
    assert "<h1>Internal Server Error</h1>" in page.text
    assert "<p>The desk stopped on an unexpected error; its terminal says where.</p>" in page.text
    assert "secret internals" not in page.text and "Traceback" not in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_newsletter_desk_serves_until_ctrl_c(project: Path):
    import os
    import signal
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "desk", "--port", "0"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline()
        found = re.fullmatch(
            r"The editor's desk is at (http://127\.0\.0\.1:\d+)/ with waitress \(Ctrl-C to stop\)\n",
            first,
        )
        assert found, (first, proc.stderr.read() if proc.poll() is not None else "")
        page = requests.get(found[1] + "/", timeout=10)
        assert page.status_code == 200
        assert page.headers["Server"] == "waitress"
        assert "2026-Q4" in page.text
    finally:
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=10)
    assert out == "Stopped.\n"
    assert proc.returncode == 0
