"""The desk's build page: ``/issues/ID/build``.

GET shows the issue's current build as ``newsletter preview`` does (the inbox row,
the email at desktop and phone widths in sandboxed frames with harmless sample
values, the text part, the build report) and whether the issue's files changed
since (``build.shown_build``). **Build** (POST) runs the build ``newsletter
build`` runs (``build.build_issue``). A build that fails leaves the last one on
disk, and the page says why, one problem a line, with its file and line.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.build import WIDTHS, build_issue, sample_values, shown_build
from newsletter.desk.app import Desk
from newsletter.errors import NewsletterError
from newsletter.issue import CheckFailed

# Problems shown after a failed build: the notices travel in the session cookie,
# which a browser drops above 4 KB; ``newsletter check`` lists them all.
MAX_PROBLEMS = 10


def blueprint(desk: Desk) -> Blueprint:
    """The build page of each issue."""
    pages = Blueprint("desk_building", __name__)

    @pages.get("/issues/<issue_id>/build")
    def show(issue_id: str) -> Response:
        folder = desk.issue_folder(issue_id)
        values = {
            "issue_id": issue_id,
            "here": "build",
            "shown": shown_build(desk.settings, folder),
            "widths": WIDTHS,
            "sample": sample_values(desk.settings),
        }
        return desk.page("desk_build.html.j2", values)

    @pages.post("/issues/<issue_id>/build")
    def run(issue_id: str) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        here = f"/issues/{issue_id}/build"
        offline = request.form.get("offline") == "on"
        try:
            result = build_issue(desk.settings, folder, desk.db_path, pictures=not offline)
        except CheckFailed as exc:
            errors = [p for p in exc.problems if p.severity == "error"]
            for problem in errors[:MAX_PROBLEMS]:
                flash(str(problem), "error")
            if len(errors) > MAX_PROBLEMS:
                more = len(errors) - MAX_PROBLEMS
                flash(f"… and {more} more: newsletter check {issue_id} lists them all.", "error")
            return desk.done(here, exc.message, "error")
        except NewsletterError as exc:  # a template that does not render, a full disk
            return desk.done(here, exc.message, "error")
        if not result.ok:
            for line in result.report.errors[:MAX_PROBLEMS]:
                flash(f"error: {line}", "error")
            return desk.done(here, result.failure, "error")
        rep = result.report
        findings = f"{len(rep.warnings)} warning(s)" if rep.warnings else "no findings"
        pictures = "pictures not checked" if offline else "pictures checked"
        return desk.done(here, f"Built: {rep.size_kb} KB, {findings}, {pictures}.")

    return pages
