"""newsletter/desk/inbox.py: the inbox page, accept into a section and reject, with and
without htmx, on the real app served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from helpers import cli, make_issue, needs_chromium, new_project, until
from helpers import desk_server as desk
from helpers import form_csrf as csrf

from newsletter.build.browser import Browser
from newsletter.store import feeds as store_feeds
from newsletter.store import open_db

CANDIDATE = (
    "---\ntitle: {title}\nsection: news\nlink: https://example.org/{name}?utm_source=x\n"
    "date: {date}\nsource: UN News\n---\nA summary of *{title}*, with <script>x</script> in it.\n"
)
HTMX = {"HX-Request": "true"}


def candidate(folder: Path, name: str, title: str, date: str = "2026-11-02") -> None:
    (folder / "inbox").mkdir(exist_ok=True)
    text = CANDIDATE.format(title=title, name=name, date=date)
    (folder / "inbox" / f"{name}.md").write_text(text, encoding="utf-8")


def twin(root: Path) -> Path:
    """A project with an issue and three candidates, one out of the window, one broken."""
    new_project(root)
    open_db(root / "contacts.db").conn.close()
    folder = make_issue(root)
    candidate(folder, "supplier-code", "UN launches a supplier code")
    candidate(folder, "old-story", "An old story", "2025-01-05")
    (folder / "inbox" / "broken.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return twin(tmp_path / "project")


def feed_rows(root: Path) -> tuple[set[str], tuple]:
    db = open_db(root / "contacts.db")
    try:
        return store_feeds.used_urls(db), store_feeds.rejections(db)
    finally:
        db.conn.close()


def main(page: str) -> str:
    return page[page.index("<main>") : page.index("</main>")]


def test_the_inbox_shows_every_candidate_with_its_summary_source_date_and_problems(project):
    with desk(project) as url:
        page = requests.get(url + "/issues/2026-Q4/inbox", timeout=10)
    assert page.status_code == 200
    text = main(page.text)
    assert "<h2>3 candidates</h2>" in text
    assert (
        '<h3 id="candidate-1"><a href="https://example.org/supplier-code?utm_source=x" '
        'rel="noopener noreferrer">UN launches a supplier code</a></h3>'
    ) in text
    assert '<p class="meta">UN News · 2026-11-02 · supplier-code.md</p>' in text
    assert '<p class="meta">UN News · 2025-01-05, outside the window · old-story.md</p>' in text
    # The summary as the item has it: sanitised (no script), shortened to text.
    assert "<p>A summary of UN launches a supplier code, with in it.</p>" in text
    assert "<script>x" not in text
    assert (
        '<p class="field-error">Line 3: invalid YAML front matter (did not find expected node '
        "content). Check quotes, colons and indents.</p>"
    ) in text
    # Accept into a section (its own preselected), or reject; a broken one: reject only.
    assert text.count('<option value="news" selected>News</option>') == 2
    assert text.count(">Accept</button>") == 2
    assert text.count(">Reject</button>") == 3


def test_a_contribution_names_who_sent_it_for_the_editor(tmp_path: Path):
    root = new_project(tmp_path / "project")
    folder = make_issue(root)
    (folder / "inbox").mkdir()
    (folder / "inbox" / "toolkit.md").write_text(
        "---\ntitle: Toolkit\nsection: news\ndate: 2026-11-02\nsource: UNICEF\n"
        "contributor: Jane <b>Doe</b>\norganisation: UNICEF\n---\nA toolkit.\n",
        encoding="utf-8",
    )
    with desk(root) as url:
        text = main(requests.get(url + "/issues/2026-Q4/inbox", timeout=10).text)
    assert (
        '<p class="meta">UNICEF · sent by Jane &lt;b&gt;Doe&lt;/b&gt; · 2026-11-02 · toolkit.md</p>'
    ) in text


def test_an_empty_inbox_says_how_it_fills(tmp_path: Path):
    root = new_project(tmp_path / "project")
    make_issue(root)
    with desk(root) as url:
        page = requests.get(url + "/issues/2026-Q4/inbox", timeout=10).text
    assert "<h2>The inbox is empty</h2>" in page
    assert "<code>newsletter collect 2026-Q4</code>" in page
    assert "<code>newsletter intake 2026-Q4</code>" in page


def test_accept_into_a_chosen_section_does_what_the_command_does(tmp_path: Path):
    by_desk, by_cli = twin(tmp_path / "desk"), twin(tmp_path / "cli")
    with desk(by_desk) as url:
        session = requests.Session()
        page = session.get(url + "/issues/2026-Q4/inbox", timeout=10).text
        form = {"csrf": csrf(page), "name": "supplier-code", "section": "tools"}
        answer = session.post(
            url + "/issues/2026-Q4/inbox/accept", data=form, allow_redirects=False, timeout=10
        )
        assert (answer.status_code, answer.headers["Location"]) == (303, "/issues/2026-Q4/inbox")
        after = main(session.get(url + "/issues/2026-Q4/inbox", timeout=10).text)
    assert (
        '<p class="notice" role="status">'
        "Accepted supplier-code.md into items/supplier-code.md (section tools).</p>"
    ) in after
    assert "<h2>2 candidates</h2>" in after
    cli(by_cli, "accept", "2026-Q4", "supplier-code", "--section", "tools")
    items = "issues/2026-Q4/items/supplier-code.md"
    assert (by_desk / items).read_text("utf-8") == (by_cli / items).read_text("utf-8")
    assert "section: tools\n" in (by_desk / items).read_text("utf-8")
    assert not (by_desk / "issues/2026-Q4/inbox/supplier-code.md").exists()
    assert feed_rows(by_desk) == feed_rows(by_cli)
    assert feed_rows(by_desk)[0] == {"https://example.org/supplier-code"}


def test_reject_deletes_the_candidate_and_remembers_it_as_the_command_does(tmp_path: Path):
    by_desk, by_cli = twin(tmp_path / "desk"), twin(tmp_path / "cli")
    with desk(by_desk) as url:
        session = requests.Session()
        page = session.get(url + "/issues/2026-Q4/inbox", timeout=10).text
        session.post(
            url + "/issues/2026-Q4/inbox/reject",
            data={"csrf": csrf(page), "name": "supplier-code"},
            allow_redirects=False,
            timeout=10,
        )
        after = main(session.get(url + "/issues/2026-Q4/inbox", timeout=10).text)
    assert (
        '<p class="notice" role="status">'
        "Rejected supplier-code.md; it will not be proposed again.</p>"
    ) in after
    cli(by_cli, "reject", "2026-Q4", "supplier-code")
    assert not (by_desk / "issues/2026-Q4/inbox/supplier-code.md").exists()
    assert feed_rows(by_desk) == feed_rows(by_cli)
    assert feed_rows(by_desk)[1][0] == {"https://example.org/supplier-code"}


@pytest.mark.parametrize(
    ("action", "form", "fragment"),
    [
        (
            "accept",
            {"name": "old-story", "section": "events"},
            '<li><p class="notice" role="status">'
            "Accepted old-story.md into items/old-story.md (section events).</p>\n</li>\n",
        ),
        (
            "reject",
            {"name": "broken"},
            '<li><p class="notice" role="status">'
            "Rejected broken.md; it will not be proposed again.</p>\n</li>\n",
        ),
        (
            "accept",
            {"name": "taken-by-another-editor", "section": "news"},
            '<li><p class="error" role="alert">issues/2026-Q4/inbox/taken-by-another-editor.md: '
            "no such candidate. List them with: newsletter inbox 2026-Q4</p>\n</li>\n",
        ),
        (
            "accept",
            {"name": "old-story", "section": "gossip"},
            '<li><p class="error" role="alert">--section: unknown section &#39;gossip&#39;. '
            "Use one of: news, tools, events, spotlight.</p>\n</li>\n",
        ),
        (
            "reject",
            {"name": "../items/item-1"},
            '<li><p class="error" role="alert">issues/2026-Q4/inbox/../items/item-1.md: '
            "no such candidate. List them with: newsletter inbox 2026-Q4</p>\n</li>\n",
        ),
    ],
    ids=["accept", "reject-broken", "gone", "forged-section", "outside-the-inbox"],
)
def test_with_htmx_the_candidate_is_replaced_by_the_answer(project, action, form, fragment):
    items = sorted(p.name for p in (project / "issues/2026-Q4/items").iterdir())
    with desk(project) as url:
        page = requests.get(url + "/issues/2026-Q4/inbox", timeout=10).text
        headers = {**HTMX, "X-CSRF-Token": csrf(page)}
        answer = requests.post(
            url + f"/issues/2026-Q4/inbox/{action}", data=form, headers=headers, timeout=10
        )
    assert (answer.status_code, answer.text) == (200, fragment)
    if "error" in fragment:
        assert sorted(p.name for p in (project / "issues/2026-Q4/items").iterdir()) == items


def test_a_candidate_another_editor_took_is_a_notice_not_an_error_page(project):
    with desk(project) as url:
        session = requests.Session()
        page = session.get(url + "/issues/2026-Q4/inbox", timeout=10).text
        form = {"csrf": csrf(page), "name": "supplier-code", "section": "news"}
        first = session.post(url + "/issues/2026-Q4/inbox/accept", data=form, timeout=10)
        second = session.post(url + "/issues/2026-Q4/inbox/reject", data=form, timeout=10)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (
        '<p class="error" role="alert">issues/2026-Q4/inbox/supplier-code.md: no such candidate.'
    ) in second.text


def test_an_inbox_of_an_issue_that_does_not_exist_is_404(project):
    with desk(project) as url:
        assert requests.get(url + "/issues/2031-Q1/inbox", timeout=10).status_code == 404


@needs_chromium
def test_in_a_browser_accept_and_reject_replace_the_candidate_in_place(project):
    with desk(project) as url, Browser() as browser:
        browser.open(url + "/issues/2026-Q4/inbox", 375, mobile=True)
        until(browser, "window.htmx !== undefined")
        browser.evaluate(
            "window.notReloaded = true;"
            "document.querySelector('#section-1').value = 'events';"
            "document.querySelector('#section-1').form.querySelector('button').click(); 0"
        )
        until(browser, "document.querySelector('li [role=status]') !== null")
        browser.evaluate(
            "document.querySelector('#candidate-3').closest('li')"
            ".querySelector('button.quiet').click(); 0"
        )
        until(browser, "document.querySelectorAll('li [role=status]').length === 2")
        notices = browser.evaluate(
            "[...document.querySelectorAll('li [role=status]')].map(n => n.textContent)"
        )
        assert browser.evaluate("window.notReloaded === true")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 375
    assert notices == [
        "Accepted supplier-code.md into items/supplier-code.md (section events).",
        "Rejected broken.md; it will not be proposed again.",
    ]
    assert "section: events\n" in (project / "issues/2026-Q4/items/supplier-code.md").read_text()
    assert sorted(p.name for p in (project / "issues/2026-Q4/inbox").iterdir()) == ["old-story.md"]
