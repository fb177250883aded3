"""The desk's first page: every issue with its state and the next thing to do.

An issue's state is read from what the stages recorded, newest step first:
sending or sent (the ledger, through ``returns.delivery_report``), and
published once sent (``publish.status_of``: a sent issue the editor did not
take off the archive); else approved or in review (``review.entries`` against
the build's ``inputs`` digest), built, or a draft with no build yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response

from newsletter.build import BuildReport, input_digest
from newsletter.config import Settings
from newsletter.desk.app import Desk
from newsletter.issue import issue_ids, list_inbox, read_meta
from newsletter.publish import status_of
from newsletter.returns import delivery_report
from newsletter.review import entries
from newsletter.store import Database


@dataclass(frozen=True)
class Next:
    """The next thing to do with an issue: a sentence and the desk page that does it."""

    text: str
    page: str  # the issue's page: build, review, send, report, inbox


@dataclass(frozen=True)
class IssueState:
    """One issue as the desk lists it."""

    issue_id: str
    title: str
    state: str  # draft, built, in review, approved, sending, sent, published
    detail: str  # one line: why this state
    next: Next
    candidates: int  # files waiting in the inbox


def state_of(settings: Settings, db: Database, folder: Path) -> IssueState:
    """``folder``'s issue: its state, why, and what to do next."""
    issue_id = folder.name
    meta = read_meta(folder, settings.section_keys).meta
    title = meta.title if meta else issue_id
    listed, _ = list_inbox(settings, folder)
    waiting = len(listed)
    published = status_of(db, folder)
    delivered = delivery_report(db, issue_id)
    counts: dict[str, int] = {}
    for sender in delivered.senders:
        for status, n in sender.counts:
            counts[status] = counts.get(status, 0) + n

    def state(name: str, detail: str, text: str, page: str) -> IssueState:
        return IssueState(issue_id, title, name, detail, Next(text, page), waiting)

    pending, sent = counts.get("queued", 0) + counts.get("sending", 0), counts.get("sent", 0)
    if pending:
        return state("sending", f"{sent:,} sent, {pending:,} to go", "Watch the send", "send")
    if sent and published.published:
        return state("published", published.why, "See how it was received", "report")
    if sent:
        return state("sent", f"{sent:,} sent", "See the delivery report", "report")
    report = BuildReport.read(folder)
    if report is None:
        return state("draft", "not built yet", "Build it", "build")
    if not report.ok:
        errors = len(report.errors)
        return state("draft", f"the build has {errors} error(s)", "Fix the build", "build")
    rows = entries(db, issue_id)
    current = input_digest(settings, folder)
    if report.inputs != current:
        return state("draft", "changed since it was built", "Build it again", "build")
    if any(r.kind == "approval" and r.digest == current for r in rows):
        return state("approved", "this build is approved", "Send it", "send")
    asked = sorted({r.reviewer for r in rows if r.kind == "link"})
    if asked:
        detail = f"waiting for {', '.join(asked)}"
        return state("in review", detail, "See the comments, or ask again", "review")
    if settings.approval == "required":
        return state("built", "needs a reviewer's approval", "Ask a reviewer", "review")
    return state("built", "ready to send", "Send it", "send")


def blueprint(desk: Desk) -> Blueprint:
    """The issues list (``/``) and each issue's overview (``/issues/ID/``)."""
    pages = Blueprint("desk_issues", __name__)

    @pages.get("/")
    def overview() -> Response:
        with desk.connection() as db:
            folders = [desk.issue_folder(i) for i in issue_ids(desk.root)]
            found = [state_of(desk.settings, db, folder) for folder in folders]
        return desk.page("desk_issues.html.j2", {"issues": found, "here": "issues"})

    @pages.get("/issues/<issue_id>/")
    def issue(issue_id: str) -> Response:
        folder = desk.issue_folder(issue_id)
        with desk.connection() as db:
            found = state_of(desk.settings, db, folder)
        values = {"issue": found, "issue_id": issue_id, "here": "overview"}
        return desk.page("desk_issue.html.j2", values)

    return pages
