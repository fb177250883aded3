"""The preview and the unsubscribe page in a real headless Chromium, on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest
from helpers import until
from werkzeug.serving import make_server

from newsletter.build.browser import Browser, find_chromium
from newsletter.config import load_settings
from newsletter.models import Contact
from newsletter.returns.webapp import create_app
from newsletter.store import open_db
from newsletter.store.contacts import create_contact, get_contact, history
from newsletter.tokens import make_token

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="no Chromium found (apt-get install chromium, or set NEWSLETTER_CHROMIUM)",
)

SECRET = "a-test-secret-that-is-long-enough"


@pytest.fixture
def live_app(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    open_db(project / "contacts.db").conn.close()
    app = create_app(load_settings(project), project / "contacts.db")
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


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


def test_bad_link_page(project, live_app):
    with Browser() as browser:
        browser.open(f"{live_app}/unsubscribe/not-a-token", 800)
        assert "This unsubscribe link is not valid" in browser.evaluate("document.body.innerText")
