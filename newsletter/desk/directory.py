"""The desk's directory page: ``/directory``, the queue of proposed changes.

It lists what ``newsletter directory review`` lists (``directory.review``: each
pending proposal's kind, who, organisation, changes, source and date), each with
**Approve** and **Reject**. Approve does what ``directory approve`` does
(``directory.approve_welcoming``: the change, then the welcome of a successor it
added); Reject what ``directory reject`` does, with the reason given, if any.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.desk.app import Desk
from newsletter.directory import approve_welcoming, reject, review
from newsletter.errors import NewsletterError
from newsletter.schema import Invalid, line

HERE = "/directory"
# SQLite's largest row id: a larger number is no proposal, and cannot even be asked about.
MAX_ID = 2**63 - 1


def blueprint(desk: Desk) -> Blueprint:
    """The directory's review queue."""
    pages = Blueprint("desk_directory", __name__)

    @pages.get(HERE)
    def queue() -> Response:
        with desk.connection() as db:
            found = review(db)
        return desk.page("desk_directory.html.j2", {"pending": found, "here": "directory"})

    @pages.post(f"{HERE}/<int:proposal_id>/approve")
    def approve(proposal_id: int) -> BaseResponse:
        if proposal_id > MAX_ID:
            abort(404)
        said: list[str] = []  # what the welcome's send run reports as it goes
        try:
            with desk.connection() as db:
                done = approve_welcoming(desk.settings, db, [proposal_id], said.append)
        except NewsletterError as exc:  # decided already, or the change breaks a rule
            return desk.done(HERE, exc.message, "error")
        for text in said:
            flash(text, "notice")
        welcomed = done.welcomed
        if welcomed.line:
            flash(welcomed.line, "error" if welcomed.problem else "notice")
        kinds = ", ".join(f"#{p.id} approved: {p.kind}." for p in done.proposals)
        return desk.done(HERE, kinds)

    @pages.post(f"{HERE}/<int:proposal_id>/reject")
    def drop(proposal_id: int) -> BaseResponse:
        if proposal_id > MAX_ID:
            abort(404)
        reason = request.form.get("reason", "").strip()
        try:
            reason = line().parse(reason) if reason else ""  # the rule of --reason
        except Invalid as exc:
            return desk.done(HERE, f"#{proposal_id}: the reason {exc.reason}. {exc.fix}", "error")
        try:
            with desk.connection() as db:
                done = reject(db, [proposal_id], reason)
        except NewsletterError as exc:
            return desk.done(HERE, exc.message, "error")
        return desk.done(HERE, " ".join(f"#{p.id} rejected." for p in done))

    return pages
