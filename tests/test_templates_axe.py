"""templates/: axe-core finds no accessibility violation on any HTML page we publish or serve.

Each page is opened in headless Chromium at a phone (375px) and a desktop
(1280px) width, in the light and the dark scheme (the palette has both), and
axe-core is injected and run with its default rules. axe.min.js comes from the
axe-playwright-python wheel of the test extra; only the file is used, so
Playwright itself is never imported or started.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from helpers import cli, make_issue, needs_chromium, new_project, preview_server, serve_app

from newsletter.build import render
from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.models import Contact
from newsletter.server import create_app
from newsletter.store import open_db
from newsletter.store.clicks import count_click
from newsletter.store.contacts import create_contact, mark_bounced, organisation_id
from newsletter.tokens import (
    ENTRY,
    MEMBERS,
    make_form_token,
    make_link_token,
    make_review_token,
    make_token,
)


def axe_source() -> str | None:
    # find_spec does not import the package (which would import Playwright).
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "axe.min.js"
    return path.read_text(encoding="utf-8") if path.is_file() else None


AXE = axe_source()

pytestmark = [
    needs_chromium,
    pytest.mark.skipif(
        AXE is None,
        reason="axe-core not installed: pip install -e '.[test]' (axe-playwright-python ships axe.min.js)",
    ),
]

# The preview's frames hold email.html, which `build` audits itself
# (newsletter/build/report.py); axe would need its own copy inside each frame.
RUN = """
axe.run(document, {iframes: false, resultTypes: ['violations']}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  targets: v.nodes.map(n => n.target.join(' ')),
})))
"""
SECRET = b"a-test-secret-that-is-long-enough"
PICTURE = "https://127.0.0.1:9/p.png"  # loopback and refused: no request leaves the machine
ITEMS = {
    "news.md": (
        "---\ntitle: A report on due diligence\nsection: news\nlink: https://example.org/r\n"
        "date: 2026-11-02\nsource: UN Global Compact\n---\nA summary with a *stressed* word and "
        "a [link in the text](https://example.org/in-text).\n"
    ),
    "picture.md": (
        f"---\ntitle: A toolkit with a picture\nsection: tools\nlink: https://example.org/t\n"
        f"image: {PICTURE}\nimage_alt: The toolkit's cover\n---\nText.\n"
    ),
    "event.md": (
        "---\ntitle: Annual meeting of focal points\nsection: events\n"
        "link: https://example.org/meeting\nstarts: 2027-03-23\nends: 2027-03-24\n---\nGeneva.\n"
    ),
    "spotlight.md": (
        "---\ntitle: A partnership in the spotlight\nsection: spotlight\n---\nNo link here.\n"
    ),
}
PEOPLE = [
    ("jane.doe@unicef.example", "Jane Doe", "UNICEF", "+41 22 000 00 00"),
    ("omar@undp.example", "Omar Haddad", "UNDP", ""),
    ("anon@ilo.example", "", "ILO", ""),  # no name: "Name not given" in the archive
    ("lea@wfp.example", "Lea Soon", "WFP", ""),  # bounces: "Needs an update"
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Every kind of HTML page, built from the house templates, by name: its URL."""
    root = new_project(tmp_path_factory.mktemp("axe") / "project")
    db = open_db(root / "contacts.db")
    when = "2026-10-01T09:00:00+00:00"  # after the previous issue: "new" badges show
    ids = {}
    for email, name, org, phone in PEOPLE:
        contact = Contact(
            email=email, name=name, organisation=org, phone=phone, job_title="Focal point"
        )
        ids[email] = create_contact(db, contact, "t", "t", when).id
    mark_bounced(db, "lea@wfp.example", at="2026-11-20T09:00:00+00:00")
    db.conn.close()
    # Jane is UNICEF's steward: her entry page has the roster too.
    assert cli(root, "directory", "steward", "jane.doe@unicef.example").exit_code == 0
    q3 = make_issue(root, "2026-Q3")
    (q3 / "issue.toml").write_text(
        (q3 / "issue.toml").read_text().replace("2026-12-15", "2026-09-15").replace("= 7", "= 6")
    )
    make_issue(root, "2026-Q4", items=ITEMS)
    broken = make_issue(root, "2027-Q1", items={"bad.md": "---\ntitle: x\nsection: gossip\n---\n"})
    report = root / "report.html"
    for args in (
        ["build", "2026-Q3"],
        ["build", "2026-Q4"],
        ["archive"],
        ["send", "2026-Q4", "--yes"],  # through the outbox, for the delivery report
    ):
        result = cli(root, *args)
        assert result.exit_code == 0, result.output
    # Clicks per link and per organisation, for the report's tables of them.
    db = open_db(root / "contacts.db")
    unicef = organisation_id(db, "UNICEF")
    for link, times in ((1, 7), (2, 3)):
        for n in range(times):
            count_click(
                db, "2026-Q4", link, f"https://example.org/{link}", unicef if n % 2 else None
            )
    db.conn.close()
    result = cli(root, "report", "2026-Q4", "--html", "-o", str(report))
    assert result.exit_code == 0, result.output
    assert "Other organisations" in report.read_text() and "The directory" in report.read_text()
    site = root / "site"
    # What the audit should see: the directory with badges, a picture, the
    # calendar links and the public directory's nameless entry.
    web = (root / "issues/2026-Q4/build/web.html").read_text()
    assert 'href="mailto:jane.doe@unicef.example"' in web and 'class="badge"' in web
    assert f'<img src="{PICTURE}"' in web
    assert "Add to calendar" in (site / "2026-Q4/index.html").read_text()
    assert "Name not given" in (site / "directory.html").read_text()
    settings = load_settings(root)
    app = create_app(settings, root / "contacts.db", secret=SECRET)
    # The pages for a busy database (202, 503) as the app renders them: a browser's
    # GET cannot bring them about.
    env = render.environment(settings, root)
    for state in ("recorded", "unavailable", "unlisted", "expired"):
        values = {"settings": settings, "state": state, "address": "", "base": "../"}
        # The directory form, as the app adds it: a long link and its CSRF token.
        values |= {"link": "x" * 60, "csrf": "1" * 10 + "." + "y" * 43, "listed": None}
        values["mail"] = "subscribed"
        html = render.render_template(env, "unsubscribe.html.j2", values, root)
        (root / f"unsubscribe-{state}.html").write_text(html, encoding="utf-8")
    # A form sent too often from one link (429): rendered as the app renders it.
    values = {"settings": settings, "base": "../../", "minutes": 1}
    html = render.render_template(env, "limited.html.j2", values, root)
    (root / "limited.html").write_text(html, encoding="utf-8")
    # The answers to the entry page's forms (a refused correction, a receipt), as the
    # app gives them: a browser's GET cannot bring them about.
    client = app.test_client()
    entry = make_link_token(SECRET, ENTRY, ids[PEOPLE[0][0]], time.time())
    form = {"csrf": make_form_token(SECRET, entry, int(time.time())), "email": "not-an-address"}
    for name, action in (("entry-refused", "correct"), ("entry-receipt", "left")):
        answer = client.post(f"/entry/{entry}/{action}", data=form)
        assert answer.status_code == (400 if action == "correct" else 200)
        (root / f"{name}.html").write_bytes(answer.data)
    members = make_link_token(SECRET, MEMBERS, ids[PEOPLE[1][0]], time.time())
    erased = make_link_token(SECRET, MEMBERS, 9999, time.time())
    review = make_review_token(SECRET, "2026-Q4", "director@example.org", time.time())
    with (
        serve_app(app) as base,
        preview_server(settings, root / "issues" / "2026-Q4") as preview,
        preview_server(settings, broken) as failing,
    ):
        yield {
            "web edition": (root / "issues/2026-Q4/build/web.html").as_uri(),
            "archive index": (site / "index.html").as_uri(),
            "archive issue": (site / "2026-Q4/index.html").as_uri(),
            "archive directory": (site / "directory.html").as_uri(),
            "unsubscribe": f"{base}/unsubscribe/{make_token(SECRET, ids[PEOPLE[0][0]], '2026-Q4')}",
            "unsubscribe, bad link": f"{base}/unsubscribe/not-a-token",
            "unsubscribe, recorded": (root / "unsubscribe-recorded.html").as_uri(),
            "unsubscribe, try again": (root / "unsubscribe-unavailable.html").as_uri(),
            "unsubscribe, left the directory": (root / "unsubscribe-unlisted.html").as_uri(),
            "unsubscribe, directory form expired": (root / "unsubscribe-expired.html").as_uri(),
            "entry": f"{base}/entry/{entry}",
            "entry, refused correction": (root / "entry-refused.html").as_uri(),
            "entry, receipt": (root / "entry-receipt.html").as_uri(),
            "entry, bad link": f"{base}/entry/not-a-token",
            "members": f"{base}/members/{members}",
            "members, refused": f"{base}/members/{erased}",
            "preview": preview.url,
            "preview, build failed": failing.url,
            "delivery report": report.as_uri(),
            "review": f"{base}/review/{review}",
            "review, bad link": f"{base}/review/not-a-token",
            "too often": (root / "limited.html").as_uri(),
        }


def violations(browser: Browser) -> list[str]:
    """axe-core run on the open page: one line per violation (its rule, impact and
    the elements it found), none for a clean page."""
    browser.evaluate(AXE + "\n;0")  # 0: the script's own value is not serialisable
    return [
        f"  {v['id']} ({v['impact']}): {v['help']}: {'; '.join(v['targets'])}"
        for v in browser.evaluate(RUN)
    ]


@pytest.fixture(scope="module")
def browser():
    with Browser() as chromium:
        yield chromium


PAGES = [
    "web edition",
    "archive index",
    "archive issue",
    "archive directory",
    "unsubscribe",
    "unsubscribe, bad link",
    "unsubscribe, recorded",
    "unsubscribe, try again",
    "unsubscribe, left the directory",
    "unsubscribe, directory form expired",
    "entry",
    "entry, refused correction",
    "entry, receipt",
    "entry, bad link",
    "members",
    "members, refused",
    "preview",
    "preview, build failed",
    "delivery report",
    "review",
    "review, bad link",
    "too often",
]


def open_page(browser: Browser, url: str, width: int, scheme: str = "light") -> None:
    browser.call(
        "Emulation.setEmulatedMedia",
        session=True,
        features=[{"name": "prefers-color-scheme", "value": scheme}],
    )
    browser.open(url, width, mobile=width < 480)
    assert browser.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (
        scheme == "dark"
    )


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


def test_axe_finds_what_it_should(browser, tmp_path):
    """The harness itself: a page with known faults gets exactly those violations."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>'
        '<h1>Bad</h1><img src="x.png"><a href="#"></a></main></body></html>'
    )
    open_page(browser, bad.as_uri(), 1280)
    browser.evaluate(AXE + "\n;0")
    found = browser.evaluate(RUN)
    assert sorted(v["id"] for v in found) == ["image-alt", "link-name"]
    assert {v["id"]: v["targets"] for v in found}["image-alt"] == ["img"]
