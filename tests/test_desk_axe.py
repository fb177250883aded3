"""templates/desk*.html.j2: axe-core finds no violation on any page of the editor's desk,
at 375 and 1280 px, light and dark, and no page scrolls sideways on a phone.

The harness is test_templates_axe's (axe.min.js from the axe-playwright-python
wheel, run in headless Chromium through the project's DevTools client).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from helpers import (
    add_contacts,
    built,
    cli,
    make_issue,
    needs_chromium,
    new_project,
    serve_app,
    until,
)
from test_templates_axe import AXE, open_page, violations

from newsletter.build import BuildReport
from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.contacts import add_contact
from newsletter.desk import desk_app
from newsletter.directory import propose
from newsletter.send.lock import process_start, this_host
from newsletter.store import calls, ledger, locks, now, open_db, reviews, writing
from newsletter.store.intake import Taken, record_taken

pytestmark = [
    needs_chromium,
    pytest.mark.skipif(AXE is None, reason="axe-core not installed: pip install -e '.[test]'"),
]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Issues: one built with contacts, reviews and a candidate waiting, one never
    built, one whose build fails, one sent and one being sent; two proposed changes
    to the directory."""
    root = new_project(tmp_path_factory.mktemp("desk-axe") / "project")
    open_db(root / "contacts.db").conn.close()
    make_issue(root, "2026-Q3")
    # An item with an error, shown beside its field on the item's page.
    (root / "issues" / "2026-Q3" / "items" / "bad-date.md").write_text(
        "---\ntitle: A bad date\nsection: news\ndate: '2026-02-30'\n---\nA summary.\n",
        encoding="utf-8",
    )
    folder = built(root)
    ana, omar, _ = add_contacts(root, 3)
    # 2026-Q2 sent through the outbox (a finished send, a report with figures); 2026-Q1
    # being sent now: its recipients queued and its send lock held by this live process.
    built(root, "2026-Q2")
    assert cli(root, "send", "2026-Q2", "--yes").exit_code == 0
    make_issue(root, "2026-Q1")
    db = open_db(root / "contacts.db")
    with writing(db):
        ledger.snapshot(db, "2026-Q1", "outbox", "2026-Q1", "example.org")
        at, pid = now(), os.getpid()
        me = locks.Holder("axe", pid, this_host(), process_start(pid), at, at)
        assert locks.take(db, "2026-Q1", "outbox", me, lambda holder: True)[0]
    db.conn.close()
    (folder / "inbox").mkdir()
    (folder / "inbox" / "candidate.md").write_text(
        "---\ntitle: A candidate from a feed\nsection: news\nlink: https://example.org/c\n"
        "date: 2026-11-02\nsource: UN News\n---\nA summary of the candidate.\n",
        encoding="utf-8",
    )
    # Reviews of 2026-Q4's build: a link, a comment (a stranger's text) and an approval.
    db = open_db(root / "contacts.db")
    digest = BuildReport.read(folder).inputs
    for kind, body in [("link", ""), ("comment", "<b>Looks good</b>, one typo."), ("approval", "")]:
        reviews.record(db, "2026-Q4", "director@example.org", kind, digest, body)
    # Two proposals in the directory's queue: a correction and a departure.
    propose(db, "correct", "self-service", ana, "", {"job_title": "Head of Partnerships"}, ana)
    propose(db, "left", "auto-reply", omar, "", {"successor_email": "dan@example.org"})
    # A listed focal point for the Call page, and a call recorded for 2026-Q3 (the
    # reminder's state).
    add_contact(db, {"email": "focal@who.int", "name": "Focal Point", "organisation": "WHO"})
    sender = load_settings(root).send.sender
    calls.record_call(db, "2026-Q3", sender, dt.date(2030, 1, 15), now())
    # Contributions for the tracker's page: an organisation with a long name, and an
    # unverified sender.
    with writing(db):
        record_taken(
            db,
            [
                Taken("k1", "2026-Q4", "a.md", "United Nations Children's Fund (UNICEF), Geneva"),
                Taken("k2", "2026-Q3", "b.md", ""),
            ],
            now(),
        )
    db.conn.close()
    # An issue whose item does not load: its build fails.
    broken = make_issue(root, "2027-Q2")
    item = broken / "items" / "item-1.md"
    item.write_text(item.read_text(encoding="utf-8").replace("section:", "section: x\nsectio:"))
    return root


@pytest.fixture(scope="module")
def pages(project: Path):
    """Every page of the desk by name: its URL."""
    settings = load_settings(project)
    with (
        serve_app(desk_app(settings, project / "contacts.db")) as base,
        serve_app(desk_app(settings, project / "contacts.db", "0.0.0.0", PASSWORD)) as locked,
        serve_app(desk_app(settings, project / "empty.db")) as empty,
    ):
        yield {
            "issues": f"{base}/",
            "issue": f"{base}/issues/2026-Q4/",
            "issue, not built": f"{base}/issues/2026-Q3/",
            "not found": f"{base}/issues/2031-Q1/",
            "sign in": f"{locked}/login",
            "build": f"{base}/issues/2026-Q4/build",
            "build, not built": f"{base}/issues/2026-Q3/build",
            "build, failed": f"{base}/issues/2027-Q2/build",
            "review, none": f"{base}/issues/2026-Q3/review",
            "review, with comments and an approval": f"{base}/issues/2026-Q4/review",
            "review, an error beside a field": f"{base}/issues/2026-Q4/review",
            "directory, with proposals": f"{base}/directory",
            "directory, empty": f"{empty}/directory",
            "contributions": f"{base}/contributions",
            "contributions, none": f"{empty}/contributions",
            "contributions, an error beside the field": f"{base}/contributions?issues=0",
            "send": f"{base}/issues/2026-Q4/send",
            "send, refused (not built)": f"{base}/issues/2026-Q3/send",
            "send, running": f"{base}/issues/2026-Q1/send",
            "send, nothing left": f"{base}/issues/2026-Q2/send",
            "progress, running": f"{base}/issues/2026-Q1/send/progress?sender=outbox",
            "progress, finished": f"{base}/issues/2026-Q2/send/progress?sender=outbox",
            "call, none yet": f"{base}/issues/2026-Q4/call",
            "call, sent, a reminder to send": f"{base}/issues/2026-Q3/call",
            "call, an error": f"{base}/issues/2026-Q4/call",
            "report": f"{base}/issues/2026-Q2/report",
            "report, nothing sent": f"{base}/issues/2026-Q4/report",
            "inbox": f"{base}/issues/2026-Q4/inbox",
            "inbox, empty": f"{base}/issues/2026-Q3/inbox",
            "items": f"{base}/issues/2026-Q4/items",
            "item": f"{base}/issues/2026-Q4/items/item-1.md",
            "item, an error beside its field": f"{base}/issues/2026-Q3/items/bad-date.md",
            "new item": f"{base}/issues/2026-Q4/items/new",
        }


@pytest.fixture(scope="module")
def browser():
    with Browser() as chromium:
        yield chromium


PAGES = [
    "issues",
    "issue",
    "issue, not built",
    "not found",
    "sign in",
    "build",
    "build, not built",
    "build, failed",
    "review, none",
    "review, with comments and an approval",
    "review, an error beside a field",
    "directory, with proposals",
    "directory, empty",
    "contributions",
    "contributions, none",
    "contributions, an error beside the field",
    "send",
    "send, refused (not built)",
    "send, running",
    "send, nothing left",
    "progress, running",
    "progress, finished",
    "call, none yet",
    "call, sent, a reminder to send",
    "call, an error",
    "report",
    "report, nothing sent",
    "inbox",
    "inbox, empty",
    "items",
    "item",
    "item, an error beside its field",
    "new item",
]
# States a form leads to: the form to send (its fields set by a script), then what
# shows that the answer is there.
POSTED = {
    "build, failed": ("form[action$='/build']", "", "document.querySelector('p.error') !== null"),
    "review, an error beside a field": (
        "form[action$='/review']",
        "document.querySelector('#days').value = '0';",
        "document.querySelector('.field-error') !== null",
    ),
    "call, an error": (
        "form[method=post][action$='/call']",
        "document.querySelector('#deadline').value = '2001-01-01';",
        "document.querySelector('p.error[role=alert]') !== null",
    ),
}

# What shows that a page is the one its name says (not the not-found page).
SHOWN = {
    "call, none yet": "document.querySelector('#confirm-call') !== null",
    "call, sent, a reminder to send": "document.querySelector('#confirm-reminder') !== null",
}


def show(browser, pages, page: str, width: int, scheme: str = "light") -> None:
    """Open ``page`` at ``width``; for a state a form leads to, send that form first."""
    open_page(browser, pages[page], width, scheme)
    if page in POSTED:
        form, fill, ready = POSTED[page]
        browser.evaluate(f'{fill} document.querySelector("{form}").submit(); 0')
        until(browser, ready)
    if page in SHOWN:
        until(browser, SHOWN[page])


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("page", PAGES)
def test_no_axe_violations_on_the_desk(pages, browser, page, width, scheme):
    show(browser, pages, page, width, scheme)
    found = violations(browser)
    assert found == [], f"{page} at {width}px, {scheme}:\n" + "\n".join(found)


@pytest.mark.parametrize("page", PAGES)
def test_no_desk_page_scrolls_sideways_on_a_phone(pages, browser, page):
    show(browser, pages, page, 375)
    assert browser.evaluate("document.documentElement.scrollWidth") <= 375
