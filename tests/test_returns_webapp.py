"""newsletter.returns.webapp: one-click unsubscribe (RFC 8058) and the archive, served."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from helpers import cli, dump, hold_write_lock, needs_chromium, read_only, serve_app, until

from newsletter import tokens
from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.errors import NewsletterError
from newsletter.models import Contact
from newsletter.returns.webapp import create_app, mask
from newsletter.store import open_db, readonly_db
from newsletter.store.contacts import create_contact, get_contact, history, mark_bounced
from newsletter.store.journal import journal_path
from newsletter.tokens import make_token

SECRET = "a-test-secret-that-is-long-enough"
# Exactly what a mail client sends for RFC 8058 one-click (and no cookies).
ONE_CLICK = {
    "data": "List-Unsubscribe=One-Click",
    "content_type": "application/x-www-form-urlencoded",
}


@pytest.fixture
def client(project, people, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    app = create_app(load_settings(project), project / "contacts.db")
    return app.test_client()


def token(contact, issue="2026-Q4", secret=SECRET):
    return make_token(secret.encode(), contact.id, issue)


def status(project, email):
    return get_contact(open_db(project / "contacts.db"), email).status


def test_get_asks_and_never_unsubscribes(project, people, client):
    jane, _ = people
    for _ in range(3):  # a mail scanner following the link
        reply = client.get(f"/unsubscribe/{token(jane)}")
        assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    link = token(jane)
    assert f'<form method="post" action="../unsubscribe/{link}">' in page
    assert ">Unsubscribe</button>" in page
    assert "j•••e@unicef.example" in page and "jane.doe@" not in page
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert client.head(f"/unsubscribe/{token(jane)}").status_code == 200
    assert status(project, jane.email) == "subscribed"


def test_one_click_post_unsubscribes_without_redirect_or_cookies(project, people, client):
    jane, omar = people
    reply = client.post(f"/unsubscribe/{token(jane)}", **ONE_CLICK)
    assert reply.status_code == 200
    assert "Location" not in reply.headers and "Set-Cookie" not in reply.headers
    assert "You are unsubscribed" in reply.get_data(as_text=True)
    assert status(project, jane.email) == "unsubscribed"
    assert status(project, omar.email) == "subscribed"
    last = history(open_db(project / "contacts.db"), jane.id)[-1]
    assert (last.field, last.old, last.new, last.source, last.actor) == (
        "status",
        "subscribed",
        "unsubscribed",
        "unsubscribe-link:2026-Q4",
        "recipient",
    )


def test_replayed_post_is_idempotent(project, people, client):
    jane, _ = people
    client.post(f"/unsubscribe/{token(jane)}", **ONE_CLICK)
    rows = len(history(open_db(project / "contacts.db"), jane.id))
    again = client.post(f"/unsubscribe/{token(jane)}", **ONE_CLICK)
    assert again.status_code == 200
    assert "You were already unsubscribed" in again.get_data(as_text=True)
    assert len(history(open_db(project / "contacts.db"), jane.id)) == rows
    assert "already unsubscribed" in client.get(f"/unsubscribe/{token(jane)}").get_data(True)


def test_the_confirmation_button_and_other_bodies_work(project, people, client):
    jane, omar = people
    form = client.post(f"/unsubscribe/{token(jane)}", data={"List-Unsubscribe": "One-Click"})
    empty = client.post(f"/unsubscribe/{token(omar)}")
    assert form.status_code == empty.status_code == 200
    assert status(project, jane.email) == status(project, omar.email) == "unsubscribed"


def test_a_token_from_an_old_issue_still_works(project, people, client):
    jane, _ = people
    assert client.post(f"/unsubscribe/{token(jane, '2019-Q1')}", **ONE_CLICK).status_code == 200
    assert status(project, jane.email) == "unsubscribed"


def spare_bits(char: str) -> str:
    """Another last character that decodes to the same bytes: 43 characters carry
    32 bytes and two spare bits, which the decoder ignores."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return alphabet[alphabet.index(char) ^ 1]


@pytest.mark.parametrize(
    "bad",
    [
        lambda t, other: t[:-5],  # truncated by a mail client
        lambda t, other: t.split(".")[0],  # no signature at all
        lambda t, other: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # tampered
        lambda t, other: other.split(".")[0] + "." + t.split(".")[1],  # payload swapped
        lambda t, other: make_token(b"another-secret-of-16+", 1, "2026-Q4"),  # forged
        lambda t, other: "x" * 500,
        lambda t, other: "%00.%00",
        lambda t, other: t + "=",  # base64 padding the decoder would have ignored
        lambda t, other: t[:-1] + spare_bits(t[-1]),  # same bytes, different text
        lambda t, other: t.replace(".", ".!", 1),  # a character the decoder would skip
        lambda t, other: t + "%0A",
        lambda t, other: "é" + t,
        lambda t, other: t.split(".")[0] + "/" + t.split(".")[1],
    ],
)
def test_bad_tokens_get_400_and_change_nothing(project, people, client, bad):
    jane, omar = people
    value = bad(token(jane), token(omar))
    for method in (client.get, client.post):
        reply = method(f"/unsubscribe/{value}", data=ONE_CLICK["data"])
        assert reply.status_code == 400
        assert "This unsubscribe link is not valid" in reply.get_data(as_text=True)
    assert status(project, jane.email) == status(project, omar.email) == "subscribed"


@pytest.mark.parametrize(
    "path",
    [
        "/unsubscribe/",
        "/unsubscribe",
        "/unsubscribe/a/b",
        "/unsubscribe//",
        "/unsubscribe//P",
        "/unsubscribe//%0A",  # a line break after the slash: a regex "." stops at it
        "/unsubscribe/a/%0Ab",
    ],
)
def test_a_link_cut_before_its_token_gets_400(client, path):
    for method in (client.get, client.post):
        reply = method(path, data=ONE_CLICK["data"])
        assert reply.status_code == 400
        assert "This unsubscribe link is not valid" in reply.get_data(as_text=True)


def test_a_token_for_someone_else_only_unsubscribes_them(project, people, client):
    jane, omar = people
    client.post(f"/unsubscribe/{token(omar)}", **ONE_CLICK)
    assert (status(project, jane.email), status(project, omar.email)) == (
        "subscribed",
        "unsubscribed",
    )


def test_bounced_and_deleted_contacts(project, people, client):
    jane, omar = people
    db = open_db(project / "contacts.db")
    mark_bounced(db, omar.email)
    db.execute("DELETE FROM contacts WHERE id = ?", [jane.id])
    assert "no longer on our list" in client.post(f"/unsubscribe/{token(jane)}").get_data(True)
    assert client.post(f"/unsubscribe/{token(omar)}").status_code == 200
    assert status(project, omar.email) == "unsubscribed"


def test_refuses_to_start_without_a_secret(project, people):
    with pytest.raises(Exception, match="NEWSLETTER_SECRET"):
        create_app(load_settings(project), project / "contacts.db")
    result = cli(project, "serve")
    assert result.exit_code == 1
    assert "NEWSLETTER_SECRET: not set" in result.output and "Traceback" not in result.output


def test_refuses_to_start_without_the_database(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    result = cli(project, "serve")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {project / 'contacts.db'}: no contacts database.")
    assert not (project / "contacts.db").exists()  # and it made no empty one


def test_mask():
    assert mask("jane.doe@unicef.org") == "j•••e@unicef.org"
    assert mask("jo@x.org") == "j•••@x.org"


def test_serves_the_archive(project, people, client, tmp_path):
    assert client.get("/").status_code == 404  # no archive yet
    site = project / "site"
    (site / "2026-Q4").mkdir(parents=True)
    (site / "index.html").write_text("<h1>Archive</h1>")
    (site / "2026-Q4" / "index.html").write_text("<h1>Q4</h1>")
    (site / "feed.xml").write_text("<feed/>")
    assert client.get("/").get_data(as_text=True) == "<h1>Archive</h1>"
    assert client.get("/2026-Q4/").get_data(as_text=True) == "<h1>Q4</h1>"
    moved = client.get("/2026-Q4")  # so that the page's relative links resolve
    assert (moved.status_code, moved.headers["Location"]) == (301, "2026-Q4/")
    assert client.get("/2026-Q4", follow_redirects=True).get_data(as_text=True) == "<h1>Q4</h1>"
    assert client.get("/feed.xml").status_code == 200
    assert client.get("/missing.html").status_code == 404
    assert client.get("/../pyproject.toml").status_code == 404
    assert client.get("/.newsletter-archive").status_code == 404  # the archive's marker
    assert client.get("/%2e%2e/pyproject.toml").status_code == 404


def test_the_serve_command_over_real_http(project, people, monkeypatch):
    """`newsletter serve` as a process, hit with urllib as a mail provider would."""
    jane, _ = people
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    command = [sys.executable, "-m", "newsletter", "--root", str(project), "serve", "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        base = re.match(r"Serving (http://127\.0\.0\.1:\d+)/ ", line)
        assert base, line + server.stderr.read()
        url = f"{base.group(1)}/unsubscribe/{token(jane)}"
        for method in ("GET", "HEAD", "OPTIONS"):
            urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10)
        assert status(project, jane.email) == "subscribed"
        one_click = urllib.request.Request(url, data=ONE_CLICK["data"].encode(), method="POST")
        one_click.add_header("Content-Type", ONE_CLICK["content_type"])
        with urllib.request.urlopen(one_click, timeout=10) as reply:
            assert (reply.status, reply.url) == (200, url)  # no redirect followed
            assert reply.headers.get("Set-Cookie") is None
        assert status(project, jane.email) == "unsubscribed"
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(urllib.request.Request(url[:-3], method="POST"), timeout=10)
        assert bad.value.code == 400
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def live_app(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    open_db(project / "contacts.db").conn.close()
    app = create_app(load_settings(project), project / "contacts.db")
    with serve_app(app) as base:
        yield base


@needs_chromium
def test_unsubscribe_page_button(project, live_app, tmp_path):
    db = open_db(project / "contacts.db")
    jane = create_contact(db, Contact(email="jane.doe@unicef.example", name="Jane"), "test", "t")
    url = f"{live_app}/unsubscribe/{make_token(SECRET.encode(), jane.id, '2026-Q4')}"
    with Browser() as browser:
        browser.open(url, 400, mobile=True)
        text = browser.evaluate("document.body.innerText")
        assert "Stop receiving The UN-Business Focal Point?" in text
        assert browser.evaluate("document.documentElement.scrollWidth") <= 400
        browser.screenshot(tmp_path / "unsubscribe.png")
        assert get_contact(db, jane.id).status == "subscribed"  # the GET did nothing

        browser.evaluate("document.querySelector('#unsubscribe').click()")
        until(browser, "document.body.innerText.includes('You are unsubscribed')")
        browser.screenshot(tmp_path / "unsubscribed.png")
    assert get_contact(db, jane.id).status == "unsubscribed"
    assert history(db, jane.id)[-1].source == "unsubscribe-link:2026-Q4"


@needs_chromium
def test_bad_link_page(project, live_app):
    with Browser() as browser:
        browser.open(f"{live_app}/unsubscribe/not-a-token", 800)
        assert "This unsubscribe link is not valid" in browser.evaluate("document.body.innerText")


# -- an unsubscribe is never lost -------------------------------------------------------


def fetch(url, method="POST"):
    """(status, headers, page) of one request over HTTP, as a mail provider makes it."""
    data = ONE_CLICK["data"].encode() if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method)
    if data:
        request.add_header("Content-Type", ONE_CLICK["content_type"])
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.headers, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.fixture
def served(project, people, monkeypatch):
    """The app on 127.0.0.1, waiting 0.3 s (not WEB_LOCK_WAIT) for another writer."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    app = create_app(load_settings(project), project / "contacts.db", wait=0.3)
    with serve_app(app) as base:
        yield f"{base}/unsubscribe/"


def journal_lines(project):
    """The requests waiting beside contacts.db: in the journal, or claimed by a failed apply."""
    name = journal_path(project / "contacts.db").name
    files = sorted(p for p in project.iterdir() if p.name.startswith(name))
    return [line for path in files for line in path.read_text().splitlines()]


def test_a_write_lock_held_too_long_records_the_request(project, people, served):
    jane, omar = people
    writer = hold_write_lock(project / "contacts.db", 3)
    started = time.monotonic()
    code, headers, page = fetch(served + token(jane))
    assert (code, "Your request is recorded" in page) == (202, True)
    assert time.monotonic() - started < 2  # the app's short wait, not NEWSLETTER_LOCK_WAIT
    assert fetch(served + token(jane))[0] == 202  # a mail client retrying
    code, _, page = fetch(served + token(jane), "GET")
    assert (code, "Your request is recorded" in page) == (200, True)
    code, _, page = fetch(served + token(omar), "GET")  # asks, without the address
    assert (code, "to the address this link was sent to" in page) == (200, True)
    assert len(journal_lines(project)) == 1 and '"issue": "2026-Q4"' in journal_lines(project)[0]
    writer.join()
    assert status(project, jane.email) == "unsubscribed"  # the next open applied it
    assert status(project, omar.email) == "subscribed"
    assert journal_lines(project) == []
    last = history(open_db(project / "contacts.db"), jane.id)[-1]
    assert (last.new, last.source, last.actor) == (
        "unsubscribed",
        "unsubscribe-link:2026-Q4",
        "recipient",
    )


def test_the_app_applies_the_journal_once_it_can_write(project, people, served):
    jane, omar = people
    writer = hold_write_lock(project / "contacts.db", 1)
    assert fetch(served + token(jane))[0] == 202
    writer.join()
    code, _, page = fetch(served + token(omar))
    assert (code, "You are unsubscribed" in page) == (200, True)
    assert journal_lines(project) == []
    assert get_contact(readonly_db(project / "contacts.db"), jane.id).status == "unsubscribed"


def test_a_database_made_read_only_while_serving_records_the_request(project, people, served):
    jane, _ = people
    before = dump(project / "contacts.db")
    with read_only(project / "contacts.db"):
        code, _, page = fetch(served + token(jane))
        assert (code, "Your request is recorded" in page) == (202, True)
        assert fetch(served + token(jane), "GET")[0] == 200
        assert dump(project / "contacts.db") == before
    assert len(journal_lines(project)) == 1
    assert status(project, jane.email) == "unsubscribed"


def test_503_with_retry_after_when_not_even_the_journal_can_be_written(project, people, served):
    jane, _ = people
    writer = hold_write_lock(project / "contacts.db", 2)
    with read_only(project):
        code, headers, page = fetch(served + token(jane))
    writer.join()
    assert (code, headers["Retry-After"]) == (503, "300")
    assert "Please try again in a few minutes" in page and 'id="unsubscribe"' in page
    assert status(project, jane.email) == "subscribed" and journal_lines(project) == []


def test_invalid_tokens_are_never_recorded(project, people, served):
    jane, _ = people
    writer = hold_write_lock(project / "contacts.db", 2)
    assert fetch(served + token(jane, secret="another-secret-of-16+"))[0] == 400
    assert fetch(served + token(jane)[:-1] + "x")[0] == 400
    writer.join()
    assert journal_lines(project) == [] and status(project, jane.email) == "subscribed"


def keep_open(path):
    """Another program with the database open, so its -wal and -shm files exist."""
    conn = sqlite3.connect(path)
    conn.execute("SELECT count(*) FROM contacts").fetchone()
    return conn


@pytest.mark.parametrize(
    ("what", "message"),
    [
        (
            "file",
            "{db}: cannot write (attempt to write a readonly database): the file or its folder",
        ),
        ("folder", "{db}: cannot write (unable to open database file): it cannot be opened for"),
        ("folder, database open", "{root}: cannot write in this folder ("),
    ],
)
def test_refuses_to_start_on_a_database_it_cannot_write(
    project, people, monkeypatch, what, message
):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    db = project / "contacts.db"
    other = keep_open(db) if what.endswith("open") else None
    try:
        with read_only(db if what == "file" else project):
            with pytest.raises(NewsletterError):
                create_app(load_settings(project), db)
            result = cli(project, "serve", "--port", "0")
    finally:
        if other:
            other.close()
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith("Error: " + message.format(db=db, root=project))


def test_while_requests_wait_in_the_journal_the_next_ones_do_not_wait(project, people, monkeypatch):
    """2,000 one-click POSTs during a long lock would each hold a worker for the full wait."""
    jane, omar = people
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    app = create_app(load_settings(project), project / "contacts.db", wait=2)
    with serve_app(app) as base:
        writer = hold_write_lock(project / "contacts.db", 4)
        started = time.monotonic()
        assert fetch(f"{base}/unsubscribe/{token(jane)}")[0] == 202
        first = time.monotonic() - started
        assert fetch(f"{base}/unsubscribe/{token(omar)}")[0] == 202
        second = time.monotonic() - started - first
        writer.join()
    assert first >= 2 and second < 1.5, (first, second)
    assert status(project, jane.email) == status(project, omar.email) == "unsubscribed"


# -- the second choice: leaving the directory --------------------------------------------

CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


def directory_form(url):
    """(status, the form's action, its CSRF token) of the page at ``url``, over HTTP."""
    code, _, page = fetch(url, method="GET")
    action = re.search(r'<form method="post" action="([^"]+/directory)">', page)
    csrf = CSRF.search(page)
    return code, action[1] if action else None, csrf[1] if csrf else None


def post_form(url, fields):
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.headers, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def listed(project, email):
    return get_contact(open_db(project / "contacts.db"), email).listed


def flat(page):
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_the_page_offers_leaving_the_directory_and_a_get_changes_nothing(project, people, served):
    jane, _ = people
    before = dump(project / "contacts.db")
    for url in (served + token(jane), served + token(jane) + "/directory"):
        code, action, csrf = directory_form(url)
        assert code == 200 and csrf
        # The form goes to the link's own directory URL, from either page.
        assert urllib.parse.urljoin(url, action) == served + token(jane) + "/directory"
    code, _, page = fetch(served + token(jane), method="GET")
    assert "Also remove my entry from the public directory</button>" in page
    assert "Your entry in the focal-point directory stays" in flat(page)
    assert dump(project / "contacts.db") == before


def test_leaving_the_directory_changes_only_the_listing(project, people, served):
    jane, omar = people
    link = served + token(jane)
    _, _, csrf = directory_form(link)
    code, headers, page = post_form(link + "/directory", {"csrf": csrf})
    assert code == 200 and headers["Cache-Control"] == "no-store"
    assert "Your entry is removed from the directory" in page
    assert "the entry of j•••e@unicef.example is no longer in the focal-point directory" in flat(
        page
    )
    assert "Nothing else changed: you still receive The UN-Business Focal Point" in flat(page)
    assert "jane.doe@" not in page
    assert not listed(project, jane.email) and status(project, jane.email) == "subscribed"
    assert listed(project, omar.email)
    last = history(open_db(project / "contacts.db"), jane.id)[-1]
    assert (last.field, last.old, last.new, last.source, last.actor) == (
        "listed",
        "yes",
        "no",
        "directory-link:2026-Q4",
        "recipient",
    )
    # Again: nothing more changes, and the page says so.
    before = dump(project / "contacts.db")
    code, _, page = post_form(link + "/directory", {"csrf": csrf})
    assert code == 200 and "Your entry was already out of the directory" in page
    assert dump(project / "contacts.db") == before
    # Unsubscribing afterwards keeps them out, and says so; no form is offered again.
    code, _, page = fetch(link)
    assert code == 200 and status(project, jane.email) == "unsubscribed"
    assert "Your entry is not in the focal-point directory, as you asked." in flat(page)
    assert 'name="csrf"' not in page


def test_unsubscribing_keeps_the_listing_and_offers_the_second_choice(project, people, served):
    jane, _ = people
    code, _, page = fetch(served + token(jane))
    assert code == 200 and "You are unsubscribed" in page
    assert "Your entry in the focal-point directory stays: unsubscribing stops the email" in flat(
        page
    )
    assert listed(project, jane.email)
    assert CSRF.search(page)  # the second choice, still offered
    _, _, csrf = directory_form(served + token(jane))
    _, _, page = post_form(served + token(jane) + "/directory", {"csrf": csrf})
    assert "Nothing else changed: you do not receive The UN-Business Focal Point" in flat(page)
    assert not listed(project, jane.email)


def other_link_csrf(served, omar):
    return directory_form(served + token(omar))[2]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"csrf": ""},
        {"csrf": "1.AAAA"},
        {"csrf": "x" * 50},
        "another link's",
        "a day old",
        "signed with another secret",
        {"List-Unsubscribe": "One-Click"},  # the one-click body is not the directory form
    ],
    ids=str,
)
def test_a_missing_or_wrong_csrf_token_gets_400_and_changes_nothing(
    project, people, served, fields
):
    from newsletter.tokens import FORM_MAX_AGE, make_form_token

    jane, omar = people
    link = token(jane)
    if fields == "another link's":
        fields = {"csrf": other_link_csrf(served, omar)}
    elif fields == "a day old":
        fields = {
            "csrf": make_form_token(SECRET.encode(), link, int(time.time()) - FORM_MAX_AGE - 5)
        }
    elif fields == "signed with another secret":
        fields = {"csrf": make_form_token(b"another-secret-long-enough", link, int(time.time()))}
    before = dump(project / "contacts.db")
    code, _, page = post_form(served + link + "/directory", fields)
    assert code == 400
    assert "This form was too old or incomplete, so nothing changed." in flat(page)
    assert CSRF.search(page)  # a fresh form, to try again
    assert dump(project / "contacts.db") == before
    assert listed(project, jane.email)


def test_a_fresh_csrf_token_from_the_same_link_works(project, people, served):
    from newsletter.tokens import make_form_token

    jane, _ = people
    fields = {"csrf": make_form_token(SECRET.encode(), token(jane), int(time.time()) - 3600)}
    code, _, _ = post_form(served + token(jane) + "/directory", fields)
    assert code == 200 and not listed(project, jane.email)


def test_a_bad_link_to_the_directory_form_gets_400(project, people, served):
    jane, _ = people
    before = dump(project / "contacts.db")
    forged = token(jane, secret="another-secret-long-enough")
    _, _, csrf = directory_form(served + token(jane))
    code, _, page = post_form(served + forged + "/directory", {"csrf": csrf})
    assert code == 400 and "This unsubscribe link is not valid" in page
    assert dump(project / "contacts.db") == before


def test_leaving_the_directory_while_the_database_is_busy_answers_503(project, people, served):
    """Not journalled: nothing is mailed meanwhile, and the page says to try again."""
    jane, _ = people
    _, _, csrf = directory_form(served + token(jane))
    writer = hold_write_lock(project / "contacts.db", 2)
    code, headers, page = post_form(served + token(jane) + "/directory", {"csrf": csrf})
    writer.join()
    assert code == 503 and headers["Retry-After"] == "300"
    assert "We could not record your request just now, so nothing changed." in flat(page)
    assert CSRF.search(page)  # the button, to try again
    assert journal_lines(project) == []
    assert listed(project, jane.email)
    code, _, _ = post_form(served + token(jane) + "/directory", {"csrf": csrf})
    assert code == 200 and not listed(project, jane.email)


@needs_chromium
def test_directory_button_in_a_browser_at_375px(project, live_app):
    db = open_db(project / "contacts.db")
    jane = create_contact(db, Contact(email="jane.doe@unicef.example", name="Jane"), "test", "t")
    url = f"{live_app}/unsubscribe/{make_token(SECRET.encode(), jane.id, '2026-Q4')}"
    with Browser() as browser:
        browser.open(url, 375, mobile=True)
        assert browser.evaluate("document.documentElement.scrollWidth") <= 375
        browser.evaluate("document.querySelector('#unlist').click()")
        until(browser, "document.body.innerText.includes('Your entry is removed')")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 375
    contact = get_contact(db, jane.id)
    assert (contact.listed, contact.status) == (False, "subscribed")


TOKEN = "MToyMDI2LVE0._oBI5RyIT9hNRfFFg0QQRMTYZoG21v6UsoJV_wHw_CI"
# A click token names a long address, a review token a long reviewer's address:
# both run past the 200 characters of an unsubscribe token's payload.
CLICK = tokens.make_click_token(SECRET.encode(), "2026-Q4", 3, "https://example.org/" + "a" * 400)
REVIEW = tokens.make_review_token(SECRET.encode(), "2026-Q4", "r" * 200 + "@example.org", 1e9)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f'"GET /unsubscribe/{TOKEN} HTTP/1.1" 200', '"GET /unsubscribe/<masked> HTTP/1.1" 200'),
        (
            f"Exception on /unsubscribe/{TOKEN}/x [POST]",
            "Exception on /unsubscribe/<masked> [POST]",
        ),
        ("POST /unsubscribe/not-a-token?a=1", "POST /unsubscribe/<masked>?a=1"),
        (
            f"Exception while serving /directory/{TOKEN}",
            "Exception while serving /directory/<masked>",
        ),
        (f"GET /entry/{TOKEN}/correct 400", "GET /entry/<masked> 400"),
        (f"GET /members/{TOKEN}/org/3.vcf 200", "GET /members/<masked> 200"),
        ("POST /entry/not-a-token 400", "POST /entry/<masked> 400"),
        ("GET /2026-Q4/index.html 200", "GET /2026-Q4/index.html 200"),
        (f'"GET /r/{CLICK} HTTP/1.1" 302', '"GET /r/<masked> HTTP/1.1" 302'),
        (f"POST /review/{REVIEW}/approve 200", "POST /review/<masked> 200"),
        (f"ValueError: bad token {REVIEW}", "ValueError: bad token <masked>"),
        (f"ValueError: bad token {CLICK}!", "ValueError: bad token <masked>!"),
    ],
)
def test_mask_tokens(line, masked):
    from newsletter.returns.webapp import mask_tokens

    assert mask_tokens(line) == masked


def test_flask_and_waitress_errors_mask_the_token_in_message_and_traceback(project, people):
    import logging

    from newsletter.returns.webapp import _masked

    create_app(load_settings(project), project / "contacts.db", secret=SECRET.encode())
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(logging.Formatter().format(record))
    for name in ("waitress", "newsletter"):
        logger = logging.getLogger(name)
        assert _masked in logger.filters
        logger.addHandler(handler)
        try:
            raise ValueError(f"bad path /unsubscribe/{TOKEN}")
        except ValueError:
            logger.exception("Exception while serving /unsubscribe/%s", TOKEN)
        finally:
            logger.removeHandler(handler)
    assert len(records) == 2
    for text in records:
        assert TOKEN not in text and "/unsubscribe/<masked>" in text and "ValueError" in text
