"""The desk's Report page: the report for management of an issue, the very page
``newsletter report ID --html`` writes (``returns.management_report``), shown in the
desk's frame and offered as a file to forward to management."""

from __future__ import annotations

from flask import Blueprint, Response

from newsletter.desk.app import Desk
from newsletter.returns import management_report


def blueprint(desk: Desk) -> Blueprint:
    """``/issues/ID/report`` (in the desk) and ``/issues/ID/report.html`` (the page alone)."""
    pages = Blueprint("desk_report", __name__)

    def page_of(issue_id: str) -> str:
        desk.issue_folder(issue_id)
        with desk.connection() as db:
            return management_report(desk.settings, db, issue_id)

    @pages.get("/issues/<issue_id>/report")
    def report(issue_id: str) -> Response:
        values = {"report": page_of(issue_id), "issue_id": issue_id, "here": "report"}
        return desk.page("desk_report.html.j2", values)

    @pages.get("/issues/<issue_id>/report.html")
    def report_file(issue_id: str) -> Response:
        # A file to forward: saved under the name the README's example gives it.
        return Response(
            page_of(issue_id),
            mimetype="text/html",
            headers={"Content-Disposition": f'attachment; filename="report-{issue_id}.html"'},
        )

    return pages
