"""The contribution form's pages (intake/web.py, templates/submit.html.j2): axe-core finds
no violation in any state (empty, with errors, the receipt, no open issue, a bad link,
an expired form) at 375 and 1280 px, light and dark, and none scrolls sideways on a phone.

The harness is tests/test_templates_axe.py's (axe.min.js from the test extra, run in
headless Chromium through newsletter/build/browser.py); the pages come from the real
app served on 127.0.0.1."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import pytest
from helpers import make_issue, needs_chromium, new_project, serve_app
from test_templates_axe import AXE, open_page, violations

from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.models import Contact
from newsletter.server import create_app
from newsletter.store import open_db
from newsletter.store.contacts import create_contact
from newsletter.tokens import SUBMIT, make_link_token

pytestmark = [
    pytest.mark.skipif(AXE is None, reason="axe-core not installed: pip install -e '.[test]'"),
    needs_chromium,
]
SECRET = b"a-test-secret-that-is-long-enough"
PAGES = [
    "form",
    "form, with errors",
    "form, receipt",
    "form, no open issue",
    "form, expired",
    "form, bad link",
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Each state of the form, by name: its URL (served) or file (a POST's answer)."""
    root = new_project(tmp_path_factory.mktemp("axe-form") / "project")
    folder = make_issue(root, "2026-Q4")
    toml = folder / "issue.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "draft = true\n", encoding="utf-8")
    db = open_db(root / "contacts.db")
    jane = Contact(email="jane.doe@unicef.example", name="Jane Doe", organisation="UNICEF")
    made = create_contact(db, jane, "t", "t")
    db.conn.close()
    token = make_link_token(SECRET, SUBMIT, made.id, time.time())
    client = create_app(load_settings(root), root / "contacts.db", secret=SECRET).test_client()

    def post(**values: str):
        page = client.get(f"/submit/{token}").get_data(as_text=True)
        hidden = dict(re.findall(r'name="(csrf|once)" value="([^"]*)"', page))
        return client.post(f"/submit/{token}", data={**hidden, **values})

    good = {"title": "A toolkit", "section": "tools", "summary": "Words.", "date": "2026-11-02"}
    refused = post(**{**good, "date": "2027-02-30", "image": "https://example.org/p.png"})
    assert refused.status_code == 400
    (root / "errors.html").write_bytes(refused.data)
    expired = client.post(f"/submit/{token}", data=good)
    assert expired.status_code == 400
    (root / "expired.html").write_bytes(expired.data)
    sent = post(**good)
    assert sent.status_code == 303
    receipt = urljoin(f"/submit/{token}", sent.headers["Location"])
    assert b"Thank you, we received your contribution" in client.get(receipt).data
    app = create_app(load_settings(root), root / "contacts.db", secret=SECRET)
    with serve_app(app) as base:
        urls = {
            "form": f"{base}/submit/{token}",
            "form, with errors": (root / "errors.html").as_uri(),
            "form, receipt": base + receipt,
            "form, expired": (root / "expired.html").as_uri(),
            "form, bad link": f"{base}/submit/not-a-token",
        }
        # Last: the issue closes, and the same link says so.
        toml.write_text(toml.read_text(encoding="utf-8").replace("draft = true\n", ""), "utf-8")
        closed = client.get(f"/submit/{token}")
        assert b"No issue is taking contributions" in closed.data
        (root / "closed.html").write_bytes(closed.data)
        urls["form, no open issue"] = (root / "closed.html").as_uri()
        yield urls


@pytest.fixture(scope="module")
def browser():
    with Browser() as chromium:
        yield chromium


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("page", PAGES)
def test_no_axe_violations(pages, browser, page, width, scheme):
    open_page(browser, pages[page], width, scheme)
    found = violations(browser)
    assert found == [], f"{page} at {width}px, {scheme}:\n" + "\n".join(found)


@pytest.mark.parametrize("page", PAGES)
def test_no_page_scrolls_sideways_on_a_phone(pages, browser, page):
    open_page(browser, pages[page], 375)
    assert browser.evaluate("document.documentElement.scrollWidth") <= 375
