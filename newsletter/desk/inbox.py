"""The inbox page: an issue's candidates, each accepted into a section or rejected
with one click, as ``newsletter inbox``, ``accept`` and ``reject`` do.

Without JavaScript a button posts its form and the page comes back (303) with a
notice; with htmx the candidate's row alone is replaced by that notice. A
candidate that is already gone (another editor took it) is a notice too.
"""

from __future__ import annotations

import click
from flask import Blueprint, Response, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.desk.app import Desk
from newsletter.feeds import accept, reject
from newsletter.issue import list_inbox


def blueprint(desk: Desk) -> Blueprint:
    """``/issues/ID/inbox``: the candidates; ``.../accept`` and ``.../reject``: one each."""
    pages = Blueprint("desk_inbox", __name__)

    @pages.get("/issues/<issue_id>/inbox")
    def inbox(issue_id: str) -> Response:
        folder = desk.issue_folder(issue_id)
        listed, skipped = list_inbox(desk.settings, folder)
        values = {
            "issue_id": issue_id,
            "here": "inbox",
            "candidates": listed,
            "skipped": skipped,
            "sections": desk.settings.sections,
        }
        return desk.page("desk_inbox.html.j2", values)

    @pages.post("/issues/<issue_id>/inbox/accept")
    def accept_one(issue_id: str) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        name, section = request.form.get("name", ""), request.form.get("section", "")
        try:
            with desk.connection() as db:
                moved = accept(db, desk.settings, folder, (name,), False, section)
        except click.ClickException as exc:  # gone, a forged section, the lock busy
            return _answer(desk, issue_id, exc.format_message(), "error")
        text = "".join(
            f"Accepted {old} into items/{new} (section {section})." for old, new in moved
        )
        return _answer(desk, issue_id, text)

    @pages.post("/issues/<issue_id>/inbox/reject")
    def reject_one(issue_id: str) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        name = request.form.get("name", "")
        try:
            with desk.connection() as db:
                gone = reject(db, folder, (name,), False)
        except click.ClickException as exc:
            return _answer(desk, issue_id, exc.format_message(), "error")
        text = "".join(f"Rejected {old}; it will not be proposed again." for old in gone)
        return _answer(desk, issue_id, text)

    return pages


def _answer(desk: Desk, issue_id: str, text: str, kind: str = "notice") -> BaseResponse:
    """htmx: the notice in the candidate's place; a plain form: back to the inbox."""
    if request.headers.get("HX-Request") == "true":
        return desk.fragment("_desk_inbox_done.html.j2", {"kind": kind, "text": text})
    return desk.done(f"/issues/{issue_id}/inbox", text, kind)
