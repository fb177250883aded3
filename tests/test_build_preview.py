"""newsletter.build.preview: the live page, sample values, rebuild on change, errors shown."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from html.parser import HTMLParser

import pytest
from helpers import built, make_issue, needs_chromium, preview_server, until

from newsletter.build import shown_build
from newsletter.build.browser import Browser
from newsletter.build.preview import Preview
from newsletter.config import load_settings
from newsletter.models import PLACEHOLDERS


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read().decode("utf-8")


def version(server: Preview) -> dict:
    return json.loads(get(server.url + "version.json"))


def wait_for(server: Preview, old: int, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = version(server)
        if state["version"] != old:
            return state
        time.sleep(0.05)
    raise AssertionError("the preview did not rebuild")


def touch(path, text):
    """Replace the file in one step and move its mtime on.

    One step, because the watcher polls every 50 ms and could otherwise catch
    a half-written file (and report "the file is empty"); the mtime moves so a
    change within one clock tick is still seen.
    """
    # The new mtime is set before the rename: set after it, the watcher could see two
    # changes (the rename, then the time) and rebuild twice, the second build landing
    # after the test had moved on to its next change.
    before = path.stat().st_mtime_ns
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    stat = tmp.stat()
    later = max(stat.st_mtime_ns, before) + 2_000_000_000
    os.utime(tmp, ns=(stat.st_atime_ns, later))
    os.replace(tmp, path)


@pytest.fixture
def server(project):
    with preview_server(load_settings(project), make_issue(project), interval=0.05) as preview:
        yield preview


def test_page_shows_both_widths_text_and_report(server):
    assert server.url.startswith("http://127.0.0.1:")
    page = get(server.url)
    assert 'src="email.html?v=1" width="800"' in page
    assert 'src="email.html?v=1" width="375"' in page
    assert "Plain-text part" in page and "Dear Alex Sample," in page
    assert "Build report" in page and " KB (Gmail clips above 102 KB)" in page
    assert "Item number 1" in page  # in the text part
    assert version(server) == {"version": 1, "ok": True, "error": None}


class InboxRow(HTMLParser):
    """The text of the preview's inbox section: the row's parts and the details."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: dict[str, str] = {}
        self.stack: list[str | None] = []
        self.inside = False
        self.order: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if found.get("id") == "inbox":
            self.inside = True
        if tag in ("iframe", "section"):
            self.order.append(found.get("id") or tag)
        if tag not in ("br", "img", "meta", "link", "input"):
            self.stack.append(found.get("class") if self.inside else None)

    def handle_endtag(self, tag):
        if tag not in ("br", "img", "meta", "link", "input") and self.stack:
            self.stack.pop()
        if tag == "section":
            self.inside = False

    def handle_data(self, data):
        for cls in self.stack:
            if cls in ("from", "subject", "preheader"):
                self.parts[cls] = self.parts.get(cls, "") + data


def test_the_page_shows_from_subject_and_preheader_as_an_inbox_row(server, project):
    page = get(server.url)
    row = InboxRow()
    row.feed(page)
    assert row.parts == {
        "from": "UN Global Compact Office",
        "subject": "The UN-Business Focal Point: test issue",
        "preheader": "News, tools and events for UN private-sector focal points.",
    }
    assert row.order.index("inbox") < row.order.index("iframe")  # above the email
    assert "<dt>From</dt><dd>UN Global Compact Office &lt;focalpoint@example.org&gt;</dd>" in page
    # It follows the issue: a new subject shows once the preview rebuilds.
    toml = project / "issues" / "2026-Q4" / "issue.toml"
    touch(toml, toml.read_text().replace(": test issue", ": a new subject"))
    wait_for(server, 1)
    row = InboxRow()
    row.feed(get(server.url))
    assert row.parts["subject"] == "The UN-Business Focal Point: a new subject"


def test_email_has_sample_values_not_markers(server):
    html = get(server.url + "email.html")
    assert "%%" not in html
    assert "Dear Alex Sample," in html and "alex.sample@example.org" in html
    assert "https://focalpoint.example.org/unsubscribe/sample-token" in html
    assert "%%" not in get(server.url + "email.txt")
    assert "Editor's note" in get(server.url + "web.html")


def test_rebuilds_when_an_item_or_a_template_changes(server, project):
    item = project / "issues" / "2026-Q4" / "items" / "item-1.md"
    touch(item, item.read_text().replace("Item number 1", "A brand new headline"))
    state = wait_for(server, 1)
    assert state["ok"]
    assert "A brand new headline" in get(server.url + "email.html")
    template = project / "templates" / "_intro.mjml.j2"
    touch(template, template.read_text().replace("Editor's note", "From the editor"))
    wait_for(server, state["version"])
    assert "From the editor" in get(server.url + "email.html")


def test_a_build_error_is_shown_and_the_server_keeps_running(server, project):
    item = project / "issues" / "2026-Q4" / "items" / "item-1.md"
    good = item.read_text()
    touch(item, re.sub(r"section: \w+", "section: nonsense", good))
    state = wait_for(server, 1)
    assert not state["ok"] and "unknown section" in state["error"]
    page = get(server.url)
    assert 'id="build-error"' in page and "unknown section" in page
    assert "Below is the last good build." in page and "email.html" in page
    touch(item, good)
    state = wait_for(server, state["version"])
    assert state["ok"]
    assert 'id="build-error"' not in get(server.url)


def test_a_broken_template_is_reported_too(server, project):
    template = project / "templates" / "_intro.mjml.j2"
    touch(template, template.read_text() + "{% if %}")
    state = wait_for(server, 1)
    assert "templates/_intro.mjml.j2" in state["error"]
    assert "templates/_intro.mjml.j2" in get(server.url)


def test_unknown_paths_are_404(server):
    with pytest.raises(urllib.error.HTTPError) as info:
        get(server.url + "../pyproject.toml")
    assert info.value.code == 404


FRAMES = """
[...document.querySelectorAll('iframe')].map(f => ({
  width: f.getBoundingClientRect().width,
  scroll: f.contentDocument.documentElement.scrollWidth,
  text: f.contentDocument.body.innerText,
}))
"""


@needs_chromium
def test_preview_page_side_by_side_and_live(project, tmp_path):
    folder = make_issue(project)
    with preview_server(load_settings(project), folder, interval=0.1) as server:
        with Browser() as browser:
            browser.open(server.url, 1300)
            frames = until(
                browser,
                f"(() => {{ const f = {FRAMES}; return f.length && f[0].text && f[1].text && f; }})()",
            )
            assert [round(f["width"]) for f in frames] == [802, 377]  # 800 and 375 plus borders
            assert frames[1]["scroll"] <= 375  # the phone view does not scroll sideways
            assert all("Dear Alex Sample," in f["text"] for f in frames)
            assert "Build report" in browser.evaluate("document.body.innerText")
            browser.screenshot(tmp_path / "preview.png")

            browser.evaluate("window.stale = true")
            item = folder / "items" / "item-2.md"
            item.write_text(item.read_text().replace("Item number 2", "Changed while you watched"))
            stat = item.stat()
            os.utime(item, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
            until(browser, "window.stale === undefined")  # the page reloaded by itself
            until(browser, f"{FRAMES}[0].text.includes('Changed while you watched')")
    assert (tmp_path / "preview.png").stat().st_size > 10_000


def test_shown_build_is_none_before_a_build(project):
    assert shown_build(load_settings(project), make_issue(project)) is None


def test_shown_build_has_sample_values_the_inbox_row_and_staleness(project):
    folder = built(project)
    settings = load_settings(project)
    shown = shown_build(settings, folder)
    assert shown is not None and not shown.stale and shown.report.ok
    assert "Dear Alex Sample," in shown.text
    assert not any(m in shown.email or m in shown.text for m in PLACEHOLDERS.values())
    assert shown.inbox is not None
    assert shown.inbox.subject == "The UN-Business Focal Point: test issue"
    (folder / "intro.md").write_text("Dear colleagues, changed.\n", encoding="utf-8")
    assert shown_build(settings, folder).stale
    (folder / "issue.toml").write_text('title = "No number"\n', encoding="utf-8")
    after = shown_build(settings, folder)
    assert after.stale and after.inbox is None  # the files do not load: no inbox row
    (folder / "build" / "email.txt").unlink()
    assert shown_build(settings, folder) is None
