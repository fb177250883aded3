"""newsletter/desk/building.py: the build page, on the real app served on 127.0.0.1."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests
from helpers import built, make_issue, new_project
from helpers import desk_server as desk
from helpers import form_csrf as csrf

from newsletter.build import BuildReport
from newsletter.models import PLACEHOLDERS
from newsletter.store import open_db

ISSUE = "2026-Q4"
PAGE = f"/issues/{ISSUE}/build"
NOTICE = re.compile(r'<p class="(error|notice)" role="\w+">(.*?)</p>')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = new_project(tmp_path / "project")
    open_db(root / "contacts.db").conn.close()
    return root


def build_on_desk(url: str, offline: bool = True) -> tuple[requests.Response, list[tuple]]:
    """Press Build (offline: no picture is requested); the answer, then the notices shown."""
    session = requests.Session()
    form = {"csrf": csrf(session.get(url + PAGE, timeout=10).text)}
    form |= {"offline": "on"} if offline else {}
    answer = session.post(url + PAGE, data=form, allow_redirects=False, timeout=60)
    page = session.get(url + PAGE, timeout=10).text
    return answer, [(kind, html.unescape(text)) for kind, text in NOTICE.findall(page)]


def test_an_issue_not_built_yet_says_so_and_offers_the_button(project: Path):
    make_issue(project)
    with desk(project) as url:
        page = requests.get(url + PAGE, timeout=10)
    assert page.status_code == 200
    assert "Not built yet: build it to see the email as readers will." in page.text
    assert f'<form method="post" action="{PAGE}">' in page.text
    assert "<iframe" not in page.text


def test_the_build_button_builds_as_the_command_does(project: Path):
    folder = make_issue(project)
    with desk(project) as url:
        answer, notices = build_on_desk(url)
        page = requests.get(url + PAGE, timeout=10).text
    assert answer.status_code == 303 and answer.headers["Location"] == PAGE
    report = BuildReport.read(folder)
    assert report is not None and report.ok
    assert report.freshness  # built with the contacts' directory, as `newsletter build`
    assert notices == [
        ("notice", f"Built: {report.size_kb} KB, no findings, pictures not checked.")
    ]
    assert "Built " in page and 'id="stale"' not in page
    assert page.count("<iframe sandbox srcdoc=") == 2
    assert 'width="800"' in page and 'width="375"' in page
    assert "Dear Alex Sample," in page  # the text part, with the sample name
    assert "The UN-Business Focal Point: test issue" in page  # the inbox row
    assert f"<tr><th>Size</th><td>{report.size_kb} KB (Gmail clips above 102 KB)</td></tr>" in page


def test_the_preview_shows_sample_values_never_the_markers(project: Path):
    built(project)
    with desk(project) as url:
        page = requests.get(url + PAGE, timeout=10).text
    frame = html.unescape(re.search(r'srcdoc="([^"]*)"', page)[1])
    assert "alex.sample@example.org" in frame or "Alex Sample" in frame
    for marker in PLACEHOLDERS.values():
        assert marker not in page
        assert marker not in frame


def test_a_build_older_than_its_files_is_marked_stale(project: Path):
    folder = built(project)
    (folder / "intro.md").write_text("Dear colleagues, a new welcome.\n", encoding="utf-8")
    with desk(project) as url:
        page = requests.get(url + PAGE, timeout=10).text
    assert '<p class="state" id="stale">The issue\'s files changed since this build' in page


def test_a_broken_item_shows_its_line_and_keeps_the_last_build(project: Path):
    folder = built(project)
    before = (folder / "build" / "report.json").read_bytes()
    item = folder / "items" / "item-1.md"
    item.write_text(
        re.sub(r"section: \w+", "section: nonsense", item.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    with desk(project) as url:
        answer, notices = build_on_desk(url)
        page = requests.get(url + PAGE, timeout=10).text
    assert answer.status_code == 303
    [(kind, line), summary] = notices
    assert kind == "error"
    assert line.startswith(f"issues/{ISSUE}/items/item-1.md:3: ") and "unknown section" in line
    assert summary == (
        "error",
        f"1 error in issues/{ISSUE}; nothing was built. Fix the lines above and run again.",
    )
    assert (folder / "build" / "report.json").read_bytes() == before
    assert page.count("<iframe sandbox srcdoc=") == 2  # the last good build, still shown
    assert 'id="stale"' in page


def test_a_template_that_does_not_render_is_one_line_not_a_500(project: Path):
    make_issue(project)
    template = project / "templates" / "_intro.mjml.j2"
    template.write_text(template.read_text(encoding="utf-8") + "{% if %}", encoding="utf-8")
    with desk(project) as url:
        answer, notices = build_on_desk(url)
    assert answer.status_code == 303
    [(kind, line)] = notices
    assert kind == "error" and line.startswith("templates/_intro.mjml.j2")


def test_a_build_whose_audit_fails_shows_each_error(project: Path):
    folder = make_issue(project)
    header = project / "templates" / "_header.mjml.j2"
    text = header.read_text(encoding="utf-8")
    assert "View this issue in your browser</a>" in text
    header.write_text(text.replace("View this issue in your browser</a>", "click here</a>", 1))
    with desk(project) as url:
        _, notices = build_on_desk(url)
        page = requests.get(url + PAGE, timeout=10).text
    report = BuildReport.read(folder)
    assert report is not None and not report.ok and report.errors
    assert notices == [
        *[("error", f"error: {line}") for line in report.errors],
        (
            "error",
            f"issues/{ISSUE}/build/report.json: {len(report.errors)} accessibility or size "
            "errors. Fix the templates or content and build again.",
        ),
    ]
    assert "This build has errors in its report (below): it cannot be sent." in page


def test_a_missing_issue_is_404(project: Path):
    with desk(project) as url:
        assert requests.get(url + "/issues/2031-Q1/build", timeout=10).status_code == 404
