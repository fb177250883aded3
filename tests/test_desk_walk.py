"""The editor's desk walked through in headless Chromium, as an editor uses it: from a
full inbox to a sent issue and its report (issue 14's "Done when").

Everything is real: the desk and `serve` are the real apps on 127.0.0.1, mail goes
to aiosmtpd on 127.0.0.1, the browser is Chromium through the project's own
DevTools client (newsletter/build/browser.py), and each step is read back from
the files and contacts.db the command line reads.

With NEWSLETTER_SCREENSHOTS set to a folder, the walk also saves a picture of each
page there (the README's screenshots in docs/screenshots/ are made this way:
NEWSLETTER_SCREENSHOTS=docs/screenshots pytest tests/test_desk_walk.py).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from helpers import (
    SECRET,
    add_contacts,
    make_issue,
    needs_chromium,
    new_project,
    parse,
    require_approval,
    serve_app,
)

from newsletter.build import BuildReport
from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.desk import desk_app
from newsletter.server import create_app

pytestmark = needs_chromium
# Read at import: the tests' own fixture clears every NEWSLETTER_ variable.
SHOTS = (
    os.environ.get("NEWSLETTER_SCREENSHOTS")
    and Path(os.environ["NEWSLETTER_SCREENSHOTS"]).resolve()
)

ISSUE = "2026-Q4"
BOSS = "director@example.org"
READERS = 12
CANDIDATES = {
    "un-supplier-code.md": ("A supplier code for the UN system", "news"),
    "sdg-investor-toolkit.md": ("An SDG investor toolkit", "news"),
    "weekly-digest-12.md": ("Weekly digest 12", "news"),
}


def candidate(title: str, section: str, slug: str) -> str:
    return (
        f"---\ntitle: {title}\nsection: {section}\nlink: https://example.org/{slug}\n"
        f"date: 2026-11-0{len(slug) % 9 + 1}\nsource: UN News\n---\nA short summary of {title}.\n"
    )


@pytest.fixture
def project(tmp_path: Path, smtp, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An issue not yet built, under approval = "required", three candidates waiting,
    twelve readers, and SMTP on 127.0.0.1 as the house sender (throttled, so the
    progress can be watched)."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    root = new_project(tmp_path / "project")
    require_approval(root)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    text += (
        '\n[tool.newsletter.send]\nsender = "local"\nretry_delay = 0.01\nrate = 6\n'
        '[tool.newsletter.senders.local]\nplugin = "smtp"\n'
        f'host = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\ntimeout = 10\n'
    )
    pyproject.write_text(text, encoding="utf-8")
    folder = make_issue(root, ISSUE)
    (folder / "inbox").mkdir()
    for name, (title, section) in CANDIDATES.items():
        (folder / "inbox" / name).write_text(
            candidate(title, section, name.removesuffix(".md")), encoding="utf-8"
        )
    add_contacts(root, READERS)
    return root


class Walk:
    """One browser on the desk, saving a screenshot of each step."""

    def __init__(self, browser: Browser, desk: str, shots: Path) -> None:
        self.browser, self.desk, self.shots = browser, desk, shots
        self.browser.call("Emulation.setEmulatedMedia", session=True, features=[])

    def open(self, url: str, width: int = 1280) -> None:
        self.browser.open(url if url.startswith("http") else self.desk + url, width)

    def js(self, expression: str):
        return self.browser.evaluate(expression)

    def until(self, expression: str, timeout: float = 20.0):
        from helpers import until

        return until(self.browser, expression, timeout)

    def text(self, selector: str) -> str:
        return self.js(f"document.querySelector({json.dumps(selector)}).textContent.trim()")

    def shot(self, name: str, whole: bool = True) -> None:
        """The page (``whole``), or the window only: Chromium leaves a frame blank in a
        whole-page picture when it was never in view."""
        if whole:
            self.browser.screenshot(self.shots / f"{name}.png")
            return
        data = self.browser.call("Page.captureScreenshot", session=True, format="png")["data"]
        (self.shots / f"{name}.png").write_bytes(base64.b64decode(data))


@pytest.fixture
def walk(project: Path, tmp_path: Path):
    settings = load_settings(project)
    shots = tmp_path / "shots"
    shots.mkdir()
    with (
        serve_app(desk_app(settings, project / "contacts.db")) as desk,
        serve_app(create_app(settings, project / "contacts.db", secret=SECRET.encode())) as web,
        Browser() as browser,
    ):
        yield Walk(browser, desk, shots), web
    if SHOTS:
        for shot in shots.glob("*.png"):
            shutil.copy(shot, Path(SHOTS) / f"desk-{shot.name}")


def test_an_editor_takes_an_issue_from_the_inbox_to_the_report(project: Path, smtp, walk):
    step, web = walk
    folder = project / "issues" / ISSUE

    # The issues page: a draft, never built, three candidates waiting.
    step.open("/")
    step.until("document.querySelector('tbody tr') !== null")
    assert "not built yet" in step.text("tbody tr")
    assert "3 to triage" in step.text("tbody tr")
    step.shot("issues")

    # Inbox: accept two candidates (one into another section) and reject one, each in
    # place with htmx: the page never reloads.
    step.open(f"/issues/{ISSUE}/inbox")
    step.until("!!window.htmx && document.querySelectorAll('form[action$=\"/accept\"]').length")
    step.shot("inbox")
    step.js("window.stayed = true; 0")

    def act(name: str, action: str, section: str | None = None) -> None:
        row = f"document.querySelector('input[name=name][value={name}]').closest('li')"
        if section:
            step.js(f"{row}.querySelector('select[name=section]').value = '{section}'; 0")
        step.js(f"{row}.querySelector('form[action$=\"/{action}\"] button').click(); 0")
        # The row is replaced by the answer: no form for this candidate is left.
        step.until(f"!document.querySelector('input[name=name][value={name}]')")

    act("un-supplier-code", "accept")
    act("sdg-investor-toolkit", "accept", section="tools")
    act("weekly-digest-12", "reject")
    answers = step.js(
        "[...document.querySelectorAll('main [role=status]')].map(p => p.textContent)"
    )
    assert sorted(answers) == [
        "Accepted sdg-investor-toolkit.md into items/sdg-investor-toolkit.md (section tools).",
        "Accepted un-supplier-code.md into items/un-supplier-code.md (section news).",
        "Rejected weekly-digest-12.md; it will not be proposed again.",
    ]
    assert step.js("window.stayed === true") is True
    assert sorted(p.name for p in (folder / "inbox").glob("*.md")) == []
    accepted = {p.name: p.read_text(encoding="utf-8") for p in (folder / "items").glob("*.md")}
    assert "section: tools" in accepted["sdg-investor-toolkit.md"]
    assert "section: news" in accepted["un-supplier-code.md"]
    assert "weekly-digest-12.md" not in accepted

    # Item editor: an impossible date is shown beside its field, with its line; the
    # file is unchanged; the fixed date is saved as a contributor would write it.
    before = (folder / "items" / "sdg-investor-toolkit.md").read_text(encoding="utf-8")
    step.open(f"/issues/{ISSUE}/items/sdg-investor-toolkit.md")
    step.until("document.querySelector('input[name=date]') !== null")
    step.js("document.querySelector('input[name=date]').value = '2026-02-30'; 0")
    step.js("document.querySelector('button[value=save]').click(); 0")
    step.until("document.querySelector('.field-error') !== null")
    error = step.js(
        "document.getElementById(document.querySelector('input[name=date]')"
        ".getAttribute('aria-describedby').split(' ').find(i => i.includes('problem')))"
        ".textContent"
    )
    assert re.fullmatch(r"Line \d+: .*2026-02-30.*", error.strip()), error
    step.shot("item-error")
    assert (folder / "items" / "sdg-investor-toolkit.md").read_text(encoding="utf-8") == before
    step.js("document.querySelector('input[name=date]').value = '2026-11-20'; 0")
    step.js("document.querySelector('button[value=save]').click(); 0")
    step.until("document.querySelector('.notice') !== null")
    assert step.text(".notice") == "Saved items/sdg-investor-toolkit.md."
    saved = (folder / "items" / "sdg-investor-toolkit.md").read_text(encoding="utf-8")
    front = yaml.safe_load(saved.split("---\n")[1])
    assert (str(front["date"]), front["section"]) == ("2026-11-20", "tools")

    # Build, and see the preview.
    step.open(f"/issues/{ISSUE}/build")
    step.until("document.querySelector('form[action$=\"/build\"]') !== null")
    step.js("document.querySelector('#offline').checked = true; 0")
    step.js("document.querySelector('form[action$=\"/build\"]').submit(); 0")
    step.until("document.querySelector('.notice') !== null", timeout=60)
    assert step.text(".notice").startswith("Built: ")
    step.until("document.querySelectorAll('iframe').length >= 2")
    step.shot("build", whole=False)
    step.js("document.querySelectorAll('iframe')[1].scrollIntoView(); 0")
    time.sleep(0.5)  # a frame is painted once in view
    step.shot("build-phone", whole=False)
    report = BuildReport.read(folder)
    assert report is not None and report.ok

    # Review: the desk mails a link; the reviewer approves through it on `serve`.
    step.open(f"/issues/{ISSUE}/review")
    step.until("document.querySelector('#to') !== null")
    assert step.text("#verdict").startswith("Send would refuse it:")
    step.js(f"document.querySelector('#to').value = {json.dumps(BOSS)}; 0")
    step.js("document.querySelector('form[action$=\"/review\"]').submit(); 0")
    step.until("document.querySelector('.notice') !== null", timeout=30)
    [mail] = [m for m in smtp.messages if BOSS in m.rcpt_tos]
    text = parse(mail.data).get_body(preferencelist=("plain",)).get_content()
    [token] = re.findall(r"https?://\S+/review/(\S+)", text)
    step.open(f"{web}/review/{token}")
    step.until("document.querySelector('form[action$=\"/approve\"]') !== null")
    step.shot("review-page")
    step.js("document.querySelector('form[action$=\"/approve\"] button').click(); 0")
    step.until("document.body.textContent.includes('your approval of this build is recorded')")
    step.open(f"/issues/{ISSUE}/review")
    step.until("document.querySelector('#verdict') !== null")
    assert step.text("#verdict") == "Approved: send would go."
    step.shot("review")

    # Send to the local SMTP server, and watch the progress reach the end.
    step.open(f"/issues/{ISSUE}/send")
    step.until("document.querySelector('#confirm') !== null")
    step.shot("send")
    step.js("document.querySelector('#confirm').click(); 0")
    step.js("document.querySelector('#confirm').form.submit(); 0")
    step.until("location.pathname.endsWith('/send/progress')")
    seen = step.until(
        "(() => { const b = document.querySelector('#sent-bar');"
        " return b && b.value > 0 && b.value < b.max && b.value; })()"
    )
    assert 0 < seen < READERS
    step.shot("send-progress")
    step.until(
        "(() => { const b = document.querySelector('#sent-bar');"
        f" return b && b.value === {READERS} && b.max === {READERS}; }})()",
        timeout=60,
    )
    step.until("document.querySelector('#tally') !== null")
    assert step.text("#remaining") == "0"
    readers = {k: v for k, v in smtp.per_recipient().items() if k != BOSS}
    assert sorted(readers.values()) == [1] * READERS

    # The report, as management reads it.
    step.open(f"/issues/{ISSUE}/report")
    step.until("document.querySelector('iframe') !== null")
    page = step.js("document.querySelector('iframe').srcdoc")
    assert f"Report on {ISSUE}" in page
    assert "person0@example.org" not in page
    step.shot("report")

    # And the issues page says where it went.
    step.open("/")
    step.until("document.querySelector('tbody tr') !== null")
    assert step.text("tbody tr .state") == "published"
    step.open("/", width=375)
    step.until("document.querySelector('tbody tr') !== null")
    assert step.js("document.documentElement.scrollWidth") <= 375
    step.shot("issues-phone")
