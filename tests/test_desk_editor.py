"""newsletter/desk/editor.py: the item list, the item form with check's errors beside
their fields, saving, the live preview, on the real app served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import requests
from helpers import ITEM, make_issue, needs_chromium, new_project, read_only, until
from helpers import desk_server as desk

from newsletter.build.browser import Browser

FIRST = ITEM.format(title="Item number 1", section="tools", slug="item-1", day=1)
EDIT = "/issues/2026-Q4/items/item-1.md"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = new_project(tmp_path / "project")
    make_issue(root, items={"item-1.md": FIRST})
    return root


def flat(page: str) -> str:
    """The page's <main>, its whitespace runs made one space: markup compared as read."""
    return " ".join(page[page.index("<main>") : page.index("</main>")].split())


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, page
    return found[1]


def form_of(page: str) -> dict[str, str]:
    """What a browser would post from the item form as it is shown."""
    values = dict(
        re.findall(r'<input type="(?:text|hidden)" [^>]*?name="(\w+)" value="([^"]*)"', page)
    )
    values |= dict(re.findall(r'<input type="text" id="[^"]+" name="(\w+)" value="([^"]*)"', page))
    values |= {"csrf": hidden(page, "csrf"), "digest": hidden(page, "digest")}
    values["section"] = re.search(r'<option value="(\w+)" selected>', page)[1]
    values["summary"] = re.search(r"<textarea[^>]*>\n([^<]*)</textarea>", page)[1]
    return values


def test_the_items_page_lists_each_item_with_a_link_to_edit_it(project: Path):
    (project / "issues/2026-Q4/items/broken.md").write_text("---\ntitle: [\n---\n", "utf-8")
    with desk(project) as url:
        page = requests.get(url + "/issues/2026-Q4/items", timeout=10)
    assert page.status_code == 200
    text = flat(page.text)
    assert '<p><a href="/issues/2026-Q4/items/new">New item</a></p>' in text
    assert (
        '<tr> <th scope="row"><a href="/issues/2026-Q4/items/item-1.md">Item number 1</a></th> '
        "<td>Tools &amp; resources</td> <td>2026-10-01</td> <td>item-1.md</td> </tr>"
    ) in text
    assert '<a href="/issues/2026-Q4/items/broken.md">broken.md</a><br>' in text
    assert '<span class="field-error">1 error: open it to see</span>' in text


def test_an_issue_without_items_says_where_they_come_from(tmp_path: Path):
    root = new_project(tmp_path / "project")
    make_issue(root, items={})
    with desk(root) as url:
        text = flat(requests.get(url + "/issues/2026-Q4/items", timeout=10).text)
    assert "<p>No items yet. Accept candidates from the" in text


def test_the_form_holds_the_file_s_fields_summary_and_digest(project: Path):
    with desk(project) as url:
        page = requests.get(url + EDIT, timeout=10).text
    text = flat(page)
    assert (
        '<input type="text" id="f-title" name="title" value="Item number 1" aria-required="true">'
        in text
    )
    assert '<option value="tools" selected>Tools &amp; resources</option>' in text
    assert (
        '<label for="f-date">Date <span class="meta key">date</span></label> <p class="meta" id="f-date-hint">Write it as YYYY-MM-DD.</p> '
        '<input type="text" id="f-date" name="date" value="2026-10-01" aria-describedby="f-date-hint">'
    ) in text
    assert '"innerHTML"> A short summary of Item number 1.</textarea>' in text
    assert hidden(page, "digest") == hashlib.sha256(FIRST.encode()).hexdigest()
    # The preview shows the summary as the build renders it, in a polite live region.
    assert (
        '<div id="preview" class="preview" role="region" aria-labelledby="preview-heading" '
        'aria-live="polite"><p>A short summary of Item number 1.</p>'
    ) in text
    assert (
        'hx-post="/issues/2026-Q4/items/preview" hx-trigger="input changed delay:400ms" '
        'hx-target="#preview" hx-swap="innerHTML"'
    ) in text


DATE_ERROR = (
    '<input type="text" id="f-date" name="date" value="2026-02-30" aria-invalid="true" '
    'aria-describedby="f-date-hint f-date-problem-1"> '
    '<p class="field-error" id="f-date-problem-1">Line 5: date &#39;2026-02-30&#39; is not a '
    "date. Write it as YYYY-MM-DD.</p>"
)


def test_an_impossible_date_is_shown_beside_its_field_and_fixing_it_saves(project: Path):
    path = project / "issues/2026-Q4/items/item-1.md"
    with desk(project) as url:
        session = requests.Session()
        form = form_of(session.get(url + EDIT, timeout=10).text)
        wrong = session.post(url + EDIT, data={**form, "date": "2026-02-30"}, timeout=10)
        assert wrong.status_code == 400
        assert DATE_ERROR in flat(wrong.text)
        assert (
            '<p class="error" role="alert">1 error: nothing was saved. Each is shown beside its '
            "field, with its line in the file.</p>"
        ) in flat(wrong.text)
        assert path.read_text("utf-8") == FIRST  # nothing written
        # The form kept what was typed: post it again with the date fixed.
        fixed = {**form_of(wrong.text), "date": "2026-10-20"}
        saved = session.post(url + EDIT, data=fixed, allow_redirects=False, timeout=10)
        assert (saved.status_code, saved.headers["Location"]) == (303, EDIT)
        after = session.get(url + EDIT, timeout=10).text
    assert '<p class="notice" role="status">Saved items/item-1.md.</p>' in after
    assert path.read_text("utf-8") == FIRST.replace("2026-10-01", "2026-10-20")


def test_a_file_with_an_error_shows_it_beside_its_field_when_opened(project: Path):
    (project / "issues/2026-Q4/items/item-1.md").write_text(
        FIRST.replace("2026-10-01", "'2026-02-30'")
    )
    with desk(project) as url:
        page = requests.get(url + EDIT, timeout=10)
    assert page.status_code == 200
    assert DATE_ERROR in flat(page.text)


def test_a_problem_no_field_of_the_form_holds_is_shown_above_it(project: Path):
    text = FIRST.replace("source:", "sorce:")
    (project / "issues/2026-Q4/items/item-1.md").write_text(text, encoding="utf-8")
    with desk(project) as url:
        page = flat(requests.get(url + EDIT, timeout=10).text)
    above = (
        '<p class="error">Line 6: unknown field &#39;sorce&#39;. Did you mean &#39;source&#39;?</p>'
    )
    assert above in page
    assert page.index(above) < page.index("<form")


def test_a_file_changed_since_the_form_was_opened_is_not_written_over(project: Path):
    path = project / "issues/2026-Q4/items/item-1.md"
    with desk(project) as url:
        form = form_of(requests.get(url + EDIT, timeout=10).text)
        path.write_text(FIRST + "Another editor's line.\n", encoding="utf-8")
        answer = requests.post(url + EDIT, data={**form, "title": "Mine"}, timeout=10)
    assert answer.status_code == 409
    assert (
        '<p class="error" role="alert">issues/2026-Q4/items/item-1.md: the file changed on disk '
        "after this form was opened; nothing was saved. Reload the page to see the file as it "
        "is now, then edit again.</p>"
    ) in flat(answer.text)
    assert 'name="title" value="Mine"' in answer.text  # what was typed is still there
    assert path.read_text("utf-8") == FIRST + "Another editor's line.\n"


def test_a_new_item_is_written_under_a_name_from_its_title(project: Path):
    with desk(project) as url:
        session = requests.Session()
        page = session.get(url + "/issues/2026-Q4/items/new", timeout=10).text
        assert '<option value="">Choose one</option>' in page
        form = {
            "csrf": hidden(page, "csrf"),
            "digest": "",
            "title": "A toolkit for due diligence",
            "section": "tools",
            "link": "https://example.org/toolkit",
            "date": "2026-11-05",
            "summary": "The **toolkit**.",
        }
        answer = session.post(
            url + "/issues/2026-Q4/items/new", data=form, allow_redirects=False, timeout=10
        )
    assert answer.headers["Location"] == "/issues/2026-Q4/items/a-toolkit-for-due-diligence.md"
    assert (project / "issues/2026-Q4/items/a-toolkit-for-due-diligence.md").read_text("utf-8") == (
        "---\ntitle: A toolkit for due diligence\nsection: tools\n"
        "link: https://example.org/toolkit\ndate: 2026-11-05\n---\nThe **toolkit**.\n"
    )


@pytest.mark.parametrize(
    ("title", "summary", "status", "shown"),
    [
        (
            "<script>alert(1)</script>",
            "<script>alert(2)</script> *fine*",
            303,
            "",
        ),
        (
            "Title",
            "x" * (1024 * 1024),
            400,
            '<p class="field-error" id="f-summary-problem-1">is larger than 1 MB; an item is a '
            "short summary. Cut it down, or move it out.</p>",
        ),
        ("key: value\n---\nsection: forged", "---\nlink: evil\n---", 303, ""),
    ],
    ids=["script", "1mb", "yaml"],
)
def test_hostile_text_is_kept_as_text_or_refused_cleanly(project, title, summary, status, shown):
    path = project / "issues/2026-Q4/items/item-1.md"
    with desk(project) as url:
        session = requests.Session()
        form = form_of(session.get(url + EDIT, timeout=10).text)
        answer = session.post(
            url + EDIT,
            data={**form, "title": title, "summary": summary},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == status
        page = session.get(url + EDIT, timeout=10).text if status == 303 else answer.text
    assert "<script>alert" not in page
    assert shown in flat(page)
    if status == 303:
        assert "section: tools\n" in path.read_text("utf-8")
        assert (
            f'value="{" ".join(title.split()).replace("<", "&lt;").replace(">", "&gt;")}"' in page
        )
    else:
        assert path.read_text("utf-8") == FIRST


@pytest.mark.parametrize(
    ("summary", "html"),
    [
        ("Hello *world*", "<p>Hello <em>world</em></p>"),
        (
            "<script>alert(1)</script>\n\n[x](javascript:alert(1)) **b** <img src=x onerror=alert(1)>",
            "<p>[x](javascript:alert(1)) <strong>b</strong> </p>",
        ),
        ("", '<p class="meta">No summary yet.</p>'),
    ],
)
def test_the_preview_renders_and_sanitises_as_the_build_does(project, summary, html):
    with desk(project) as url:
        token = hidden(requests.get(url + EDIT, timeout=10).text, "csrf")
        answer = requests.post(
            url + "/issues/2026-Q4/items/preview",
            data={"summary": summary},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
            timeout=10,
        )
    assert answer.status_code == 200
    assert " ".join(answer.text.split()) == html


def test_without_javascript_the_preview_button_shows_it_and_saves_nothing(project: Path):
    with desk(project) as url:
        form = form_of(requests.get(url + EDIT, timeout=10).text)
        answer = requests.post(
            url + EDIT, data={**form, "summary": "A **new** text", "action": "preview"}, timeout=10
        )
    assert answer.status_code == 200
    text = flat(answer.text)
    assert '<p class="notice" role="status">A preview: nothing was saved yet.</p>' in text
    assert 'aria-live="polite"><p>A <strong>new</strong> text</p>' in text
    assert (project / "issues/2026-Q4/items/item-1.md").read_text("utf-8") == FIRST


def test_a_write_that_fails_is_said_above_the_form_which_keeps_what_was_typed(project: Path):
    with desk(project) as url:
        form = form_of(requests.get(url + EDIT, timeout=10).text)
        with read_only(project / "issues/2026-Q4/items"):
            answer = requests.post(url + EDIT, data={**form, "title": "Typed"}, timeout=10)
    assert answer.status_code == 503
    assert (
        '<p class="error" role="alert">issues/2026-Q4/items/item-1.md: cannot write it ('
    ) in answer.text
    assert 'name="title" value="Typed"' in answer.text
    assert (project / "issues/2026-Q4/items/item-1.md").read_text("utf-8") == FIRST


def test_an_item_too_large_to_edit_says_so_instead_of_a_form(project: Path):
    with open(project / "issues/2026-Q4/items/big.md", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    with desk(project) as url:
        page = requests.get(url + "/issues/2026-Q4/items/big.md", timeout=10)
    assert page.status_code == 200
    assert (
        '<p class="error">The file cannot be read (is larger than 1,048,576 bytes).</p>'
    ) in page.text
    assert "This file cannot be shown as a form." in page.text
    assert 'name="digest"' not in page.text


@pytest.mark.parametrize("name", ["nope.md", ".hidden.md", "issue.toml"])
def test_an_item_that_is_not_there_is_404(project: Path, name: str):
    with desk(project) as url:
        assert requests.get(url + f"/issues/2026-Q4/items/{name}", timeout=10).status_code == 404


@needs_chromium
def test_in_a_browser_the_preview_follows_the_typing_and_errors_sit_beside_their_field(
    project: Path,
):
    path = project / "issues/2026-Q4/items/item-1.md"
    with desk(project) as url, Browser() as browser:
        browser.open(url + EDIT, 375, mobile=True)
        until(browser, "window.htmx !== undefined")
        # Typed, not set: the input events htmx listens for, then its request.
        browser.evaluate(
            "window.notReloaded = true; document.querySelector('#f-summary').select(); 0"
        )
        browser.call("Input.insertText", session=True, text="Now in **bold** <script>x</script>")
        until(browser, "document.querySelector('#preview strong')?.textContent === 'bold'")
        assert browser.evaluate("window.notReloaded === true")  # swapped in place
        # htmx marks what it swapped in with a passing class: compare text and tags.
        shown = browser.evaluate("document.querySelector('#preview').textContent")
        assert shown.strip() == "Now in bold"
        tags = browser.evaluate("[...document.querySelectorAll('#preview *')].map(e => e.tagName)")
        assert tags == ["P", "STRONG"]  # no script
        browser.evaluate(
            "document.querySelector('#f-date').value = '2026-02-30';"
            "document.querySelector('button[value=save]').click(); 0"
        )
        until(browser, "document.querySelector('#f-date-problem-1') !== null")
        beside = browser.evaluate(
            "document.querySelector('#f-date').nextElementSibling.textContent"
        )
        assert beside == "Line 5: date '2026-02-30' is not a date. Write it as YYYY-MM-DD."
        assert browser.evaluate("document.querySelector('#f-summary').value") == (
            "Now in **bold** <script>x</script>"
        )
        assert browser.evaluate("document.documentElement.scrollWidth") <= 375
    assert path.read_text("utf-8") == FIRST
