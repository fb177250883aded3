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
import urllib.request

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
