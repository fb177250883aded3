"""newsletter/desk/issues.py: each issue's state and next step, as the desk lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from helpers import add_contacts, built, cli, make_issue, new_project, require_approval, serve_app

from newsletter.build import BuildReport
from newsletter.config import load_settings
from newsletter.desk import desk_app
from newsletter.desk.issues import IssueState, Next, state_of
from newsletter.store import open_db, reviews

REQUIRED = "required"


def state(root: Path, issue_id: str = "2026-Q4") -> IssueState:
    db = open_db(root / "contacts.db")
    try:
        return state_of(load_settings(root), db, root / "issues" / issue_id)
    finally:
        db.conn.close()


def digest(root: Path) -> str:
    report = BuildReport.read(root / "issues" / "2026-Q4")
    assert report is not None
    return report.inputs


def review(root: Path, kind: str, who: str = "director@example.org") -> None:
    db = open_db(root / "contacts.db")
    try:
        reviews.record(db, "2026-Q4", who, kind, digest(root))
    finally:
        db.conn.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = new_project(tmp_path / "project")
    open_db(root / "contacts.db").conn.close()
    return root


def test_an_issue_never_built_is_a_draft_to_build(project: Path):
    make_issue(project)
    assert state(project) == IssueState(
        "2026-Q4", "Test issue", "draft", "not built yet", Next("Build it", "build"), 0
    )


def test_a_built_issue_is_ready_to_send(project: Path):
    built(project)
    found = state(project)
    assert (found.state, found.detail, found.next) == (
        "built",
        "ready to send",
        Next("Send it", "send"),
    )


def test_a_build_older_than_its_files_is_built_again(project: Path):
    folder = built(project)
    (folder / "intro.md").write_text("Dear colleagues, a new welcome.\n", encoding="utf-8")
    found = state(project)
    assert (found.state, found.detail, found.next.page) == (
        "draft",
        "changed since it was built",
        "build",
    )


def test_a_failed_build_is_still_not_built(project: Path):
    folder = make_issue(project)
    (folder / "issue.toml").write_text('title = "No number"\n', encoding="utf-8")
    assert cli(project, "build", "2026-Q4").exit_code == 1  # it writes no report at all
    assert state(project).detail == "not built yet"


def test_a_build_whose_audit_found_errors_is_fixed_first(project: Path):
    folder = built(project)
    path = folder / "build" / "report.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    report |= {"ok": False, "errors": ["headings: found 2 <h1> elements; use exactly one."]}
    path.write_text(json.dumps(report), encoding="utf-8")
    found = state(project)
    assert (found.state, found.detail, found.next) == (
        "draft",
        "the build has 1 error(s)",
        Next("Fix the build", "build"),
    )


@pytest.mark.parametrize(
    ("settings", "rows", "expected"),
    [
        (REQUIRED, [], ("built", "needs a reviewer's approval", "review")),
        (REQUIRED, ["link"], ("in review", "waiting for director@example.org", "review")),
        (
            REQUIRED,
            ["link", "comment"],
            ("in review", "waiting for director@example.org", "review"),
        ),
        (REQUIRED, ["link", "approval"], ("approved", "this build is approved", "send")),
        ("", ["link", "approval"], ("approved", "this build is approved", "send")),
    ],
)
def test_review_states(project: Path, settings: str, rows: list[str], expected: tuple):
    if settings:
        require_approval(project)
    built(project)
    for kind in rows:
        review(project, kind)
    found = state(project)
    assert (found.state, found.detail, found.next.page) == expected


def test_an_approval_of_an_older_build_counts_for_nothing(project: Path):
    require_approval(project)
    folder = built(project)
    review(project, "link")
    review(project, "approval")
    (folder / "intro.md").write_text("Changed after the approval.\n", encoding="utf-8")
    cli(project, "build", "2026-Q4")
    found = state(project)
    assert (found.state, found.next.page) == ("in review", "review")


def test_a_sent_issue_is_published_and_points_at_its_report(project: Path):
    built(project)
    add_contacts(project, 3)
    result = cli(project, "send", "2026-Q4", "-y", "-q")
    assert result.exit_code == 0, result.output
    found = state(project)
    assert found.state == "published"
    assert found.next == Next("See how it was received", "report")


def test_a_sent_issue_taken_off_the_archive_is_sent(project: Path):
    built(project)
    add_contacts(project, 2)
    cli(project, "send", "2026-Q4", "-y", "-q")
    cli(project, "unpublish", "2026-Q4")
    found = state(project)
    assert (found.state, found.detail) == ("sent", "2 sent")


def test_the_issues_page_lists_newest_first_with_the_inbox(project: Path):
    make_issue(project, "2026-Q3")
    folder = built(project)
    (folder / "inbox").mkdir()
    (folder / "inbox" / "a.md").write_text(
        "---\ntitle: A candidate\nsection: news\nlink: https://example.org/a\n---\nText.\n",
        encoding="utf-8",
    )
    (project / "issues" / "not-an-issue").mkdir()  # no issue.toml
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as url:
        page = requests.get(url + "/", timeout=10).text
        one = requests.get(url + "/issues/2026-Q4/", timeout=10).text
    assert page.index("2026-Q4") < page.index("2026-Q3")
    assert "not-an-issue" not in page
    assert '<a href="/issues/2026-Q4/inbox">1 to triage</a>' in page
    assert '<a href="/issues/2026-Q4/send">Send it</a>' in one
    assert "1 candidate(s) wait in the inbox" in one
