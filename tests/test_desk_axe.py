"""templates/desk*.html.j2: axe-core finds no violation on any page of the editor's desk,
at 375 and 1280 px, light and dark, and no page scrolls sideways on a phone.

The harness is test_templates_axe's (axe.min.js from the axe-playwright-python
wheel, run in headless Chromium through the project's DevTools client).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import add_contacts, built, make_issue, needs_chromium, new_project, serve_app
from test_templates_axe import AXE, RUN, open_page

from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.desk import desk_app
from newsletter.store import open_db

pytestmark = [
    needs_chromium,
    pytest.mark.skipif(AXE is None, reason="axe-core not installed: pip install -e '.[test]'"),
]
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Two issues: one built with contacts, one never built, and a candidate waiting."""
    root = new_project(tmp_path_factory.mktemp("desk-axe") / "project")
    open_db(root / "contacts.db").conn.close()
    make_issue(root, "2026-Q3")
    # An item with an error, shown beside its field on the item's page.
    (root / "issues" / "2026-Q3" / "items" / "bad-date.md").write_text(
        "---\ntitle: A bad date\nsection: news\ndate: '2026-02-30'\n---\nA summary.\n",
        encoding="utf-8",
    )
    folder = built(root)
    add_contacts(root, 3)
    (folder / "inbox").mkdir()
    (folder / "inbox" / "candidate.md").write_text(
        "---\ntitle: A candidate from a feed\nsection: news\nlink: https://example.org/c\n"
        "date: 2026-11-02\nsource: UN News\n---\nA summary of the candidate.\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def pages(project: Path):
    """Every page of the desk by name: its URL."""
    settings = load_settings(project)
    with (
        serve_app(desk_app(settings, project / "contacts.db")) as base,
        serve_app(desk_app(settings, project / "contacts.db", "0.0.0.0", PASSWORD)) as locked,
    ):
        yield {
            "issues": f"{base}/",
            "issue": f"{base}/issues/2026-Q4/",
            "issue, not built": f"{base}/issues/2026-Q3/",
            "not found": f"{base}/issues/2031-Q1/",
            "sign in": f"{locked}/login",
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
    "inbox",
    "inbox, empty",
    "items",
    "item",
    "item, an error beside its field",
    "new item",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("page", PAGES)
def test_no_axe_violations_on_the_desk(pages, browser, page, width, scheme):
    open_page(browser, pages[page], width, scheme)
    browser.evaluate(AXE + "\n;0")  # 0: the script's own value is not serialisable
    found = browser.evaluate(RUN)
    assert found == [], f"{page} at {width}px, {scheme}:\n" + "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']}: {'; '.join(v['targets'])}" for v in found
    )


@pytest.mark.parametrize("page", PAGES)
def test_no_desk_page_scrolls_sideways_on_a_phone(pages, browser, page):
    open_page(browser, pages[page], 375)
    assert browser.evaluate("document.documentElement.scrollWidth") <= 375
