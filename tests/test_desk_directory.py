"""newsletter/desk/directory.py: the directory's queue of proposed changes, approved and
rejected on the real app served on 127.0.0.1, a successor welcomed through local SMTP."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests
from helpers import SECRET, built, cli, needs_chromium, parse, until
from helpers import desk_server as desk
from helpers import form_csrf as csrf

from newsletter.build.browser import Browser
from newsletter.directory import propose
from newsletter.store import open_db
from newsletter.store.contacts import get_contact

NOTICE = re.compile(r'<p class="(error|notice)" role="\w+">(.*?)</p>')
WELCOMED = "Welcomed 1 successor with the latest issue and their entry link."


def smtp_settings(port: int) -> str:
    return (
        '[tool.newsletter.send]\nsender = "smtp"\nretry_delay = 0.01\n'
        "[tool.newsletter.senders.smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
    )


def post(url: str, path: str, **form: str) -> tuple[requests.Response, str]:
    """POST a form of the directory page; the answer, and the page it leads to."""
    session = requests.Session()
    token = csrf(session.get(url + "/directory", timeout=10).text)
    answer = session.post(
        url + path, data={"csrf": token, **form}, allow_redirects=False, timeout=60
    )
    return answer, session.get(url + "/directory", timeout=10).text


def notices(page: str) -> list[tuple[str, str]]:
    return [(kind, html.unescape(text)) for kind, text in NOTICE.findall(page)]


def queued(root: Path) -> list[str]:
    """The queue as `newsletter directory review` lists it: its first lines."""
    out = cli(root, "directory", "review").output.splitlines()
    return [line for line in out if line.startswith("#")]


def add(root: Path, email: str, name: str, org: str = "UNICEF") -> int:
    assert cli(root, "contacts", "add", email, "--name", name, "--org", org).exit_code == 0
    db = open_db(root / "contacts.db")
    try:
        return get_contact(db, email).id
    finally:
        db.conn.close()


def proposal(root: Path, kind: str, contact: int, **fields: str) -> int:
    db = open_db(root / "contacts.db")
    try:
        return propose(db, kind, "self-service", contact, "UNICEF", fields, contact)
    finally:
        db.conn.close()


@pytest.fixture
def two(project: Path) -> tuple[Path, int, int]:
    """Two corrections waiting: (project, first id, second id)."""
    ana = add(project, "ana@unicef.org", "Ana Lima")
    first = proposal(project, "correct", ana, job_title="Head of Partnerships")
    second = proposal(project, "correct", ana, city="Geneva")
    return project, first, second


def test_an_empty_queue_says_so(project: Path):
    open_db(project / "contacts.db").conn.close()
    with desk(project) as url:
        page = requests.get(url + "/directory", timeout=10)
    assert page.status_code == 200
    assert "No proposed changes are waiting." in page.text
    assert 'href="/directory" aria-current="page"' in page.text


def test_the_queue_shows_each_proposal_as_the_command_does(two):
    project, first, second = two
    with desk(project) as url:
        page = html.unescape(requests.get(url + "/directory", timeout=10).text)
    assert "2 pending, oldest first." in page
    assert f"#{first} correct: Ana Lima <ana@unicef.org></h2>" in page
    assert "<li>job_title: (none) → 'Head of Partnerships'</li>" in page
    assert "UNICEF · from self-service, " in page
    assert page.index(f"#{first} correct") < page.index(f"#{second} correct")


def test_approve_applies_one_and_leaves_the_other(two):
    project, first, second = two
    with desk(project) as url:
        answer, page = post(url, f"/directory/{first}/approve")
    assert answer.status_code == 303 and answer.headers["Location"] == "/directory"
    assert notices(page) == [("notice", f"#{first} approved: correct.")]
    assert queued(project) == [f"#{second} correct Ana Lima <ana@unicef.org> (UNICEF)"]
    db = open_db(project / "contacts.db")
    assert get_contact(db, "ana@unicef.org").job_title == "Head of Partnerships"
    db.conn.close()


def test_reject_keeps_the_reason_and_empties_the_queue(two):
    project, first, second = two
    with desk(project) as url:
        post(url, f"/directory/{first}/reject", reason="Not a focal point")
        answer, page = post(url, f"/directory/{second}/reject")  # no reason: allowed here
    assert answer.status_code == 303
    assert notices(page) == [("notice", f"#{second} rejected.")]
    assert "No proposed changes are waiting." in page
    assert queued(project) == []
    db = open_db(project / "contacts.db")
    assert get_contact(db, "ana@unicef.org").job_title == ""
    db.conn.close()


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_proposal_decided_already_is_one_error_line(two, action):
    project, first, _ = two
    with desk(project) as url:
        post(url, f"/directory/{first}/reject", reason="Twice")
        answer, page = post(url, f"/directory/{first}/{action}")
    assert answer.status_code == 303
    [(kind, line)] = notices(page)
    assert kind == "error" and str(first) in line and "\n" not in line


def test_a_reason_on_two_lines_is_refused(two):
    project, first, _ = two
    with desk(project) as url:
        _, page = post(url, f"/directory/{first}/reject", reason="One\nTwo")
    assert notices(page) == [
        ("error", f"#{first}: the reason is more than one line. Remove the line breaks.")
    ]
    assert len(queued(project)) == 2


@pytest.mark.parametrize(("number", "status"), [(str(2**63), 404), ("0", 303), ("-1", 404)])
def test_a_number_no_proposal_can_have_is_refused(two, number, status):
    project, _, _ = two
    with desk(project) as url:
        answer, page = post(url, f"/directory/{number}/approve")
    assert answer.status_code == status
    if status == 303:
        [(kind, _)] = notices(page)
        assert kind == "error"
    assert len(queued(project)) == 2


def test_approving_a_departure_welcomes_the_successor_through_smtp(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings=smtp_settings(smtp.port))
    cat = add(project, "cat@unicef.org", "Cat Ng")
    pid = proposal(project, "left", cat, successor_email="dan@unicef.org", successor_name="Dan Oh")
    with desk(project) as url:
        _, page = post(url, f"/directory/{pid}/approve")
    assert notices(page)[-2:] == [("notice", WELCOMED), ("notice", f"#{pid} approved: left.")]
    assert smtp.per_recipient() == {"dan@unicef.org": 1}
    assert parse(smtp.messages[0].data)["Subject"] == "Welcome to The UN-Business Focal Point"


def test_a_welcome_that_cannot_go_keeps_the_approval_and_says_so(project, smtp, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    built(project, settings=smtp_settings(smtp.port))
    cat = add(project, "cat@unicef.org", "Cat Ng")
    pid = proposal(project, "left", cat, successor_email="dan@unicef.org")
    with desk(project) as url:
        _, page = post(url, f"/directory/{pid}/approve")
    [(kind, warning), approved] = notices(page)
    assert kind == "error"
    assert warning.startswith("warning: the welcome of 1 successor was not sent: ")
    assert "NEWSLETTER_SECRET" in warning
    assert warning.endswith("Send it with: newsletter directory welcome")
    assert approved == ("notice", f"#{pid} approved: left.")
    assert not smtp.messages and queued(project) == []


def test_with_htmx_the_decision_replaces_its_row(two):
    project, first, second = two
    with desk(project) as url:
        session = requests.Session()
        token = csrf(session.get(url + "/directory", timeout=10).text)
        headers = {"HX-Request": "true", "X-CSRF-Token": token}
        answer = session.post(url + f"/directory/{first}/approve", headers=headers, timeout=60)
        again = session.post(url + f"/directory/{first}/approve", headers=headers, timeout=60)
    assert answer.status_code == 200
    assert answer.text.startswith(f'<section class="card proposal" id="proposal-{first}">')
    assert notices(answer.text) == [("notice", f"#{first} approved: correct.")]
    [(kind, _)] = notices(again.text)
    assert kind == "error"
    assert queued(project) == [f"#{second} correct Ana Lima <ana@unicef.org> (UNICEF)"]


@needs_chromium
def test_in_a_browser_reject_replaces_the_row_without_leaving_the_page(two):
    project, first, second = two
    with desk(project) as url, Browser() as browser:
        browser.open(url + "/directory", 375, mobile=True)
        browser.evaluate("window.marker = 'same page'; 0")
        browser.evaluate(f"document.querySelector('#reason-{first}').value = 'Not ours'; 0")
        browser.evaluate(f"document.querySelector('#proposal-{first} button.quiet').click(); 0")
        until(browser, f"document.querySelector('#proposal-{first} p.notice') !== null")
        assert browser.evaluate("window.marker") == "same page"  # no reload: htmx swapped it
        text = browser.evaluate(f"document.querySelector('#proposal-{first}').innerText")
        assert text.strip() == f"#{first} rejected."
        assert browser.evaluate(f"document.querySelector('#proposal-{second}') !== null")
    assert queued(project) == [f"#{second} correct Ana Lima <ana@unicef.org> (UNICEF)"]
