"""The desk's directory page: ``/directory``, the queue of proposed changes.

It lists what ``newsletter directory review`` lists (``directory.review``: each
pending proposal's kind, who, organisation, changes, source and date), each with
**Approve** and **Reject**. Approve does what ``directory approve`` does
(``directory.approve_welcoming``: the change, then the welcome of a successor it
added); Reject what ``directory reject`` does, with the reason given, if any.
Without JavaScript a decision redirects to the queue with its notices; with
htmx, what it says replaces the proposal's row in place.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.desk.app import Desk
from newsletter.directory import approve_welcoming, reject, review
from newsletter.errors import NewsletterError
from newsletter.models import MAX_ROW_ID
from newsletter.schema import Invalid, line

HERE = "/directory"
MAX_NOTICES = 5  # lines of the welcome's send run shown after an approval


def blueprint(desk: Desk) -> Blueprint:
    """The directory's review queue."""
    pages = Blueprint("desk_directory", __name__)

    @pages.get(HERE)
    def queue() -> Response:
        with desk.connection() as db:
            found = review(db)
        return desk.page("desk_directory.html.j2", {"pending": found, "here": "directory"})

    def answer(proposal_id: int, said: list[tuple[str, str]]) -> BaseResponse:
        """What a decision says, (kind, text) pairs: in place of the proposal's row for
        htmx, else as notices on the queue after a redirect."""
        if request.headers.get("HX-Request") == "true":
            values = {"proposal_id": proposal_id, "notices": said}
            return desk.fragment("_desk_decided.html.j2", values)
        *before, (kind, text) = said
        for earlier_kind, earlier_text in before:
            flash(earlier_text, earlier_kind)
        return desk.done(HERE, text, kind)

    @pages.post(f"{HERE}/<int:proposal_id>/approve")
    def approve(proposal_id: int) -> BaseResponse:
        if proposal_id > MAX_ROW_ID:
            abort(404)
        said: list[str] = []  # what the welcome's send run reports as it goes
        try:
            with desk.connection() as db:
                done = approve_welcoming(desk.settings, db, [proposal_id], said.append)
        except NewsletterError as exc:  # decided already, or the change breaks a rule
            return answer(proposal_id, [("error", exc.message)])
        # A few lines at most: the notices travel in the session cookie.
        shown = [("notice", text) for text in list(dict.fromkeys(said))[:MAX_NOTICES]]
        welcomed = done.welcomed
        if welcomed.line:
            shown.append(("error" if welcomed.problem else "notice", welcomed.line))
        kinds = " ".join(f"#{p.id} approved: {p.kind}." for p in done.proposals)
        return answer(proposal_id, [*shown, ("notice", kinds)])

    @pages.post(f"{HERE}/<int:proposal_id>/reject")
    def drop(proposal_id: int) -> BaseResponse:
        if proposal_id > MAX_ROW_ID:
            abort(404)
        reason = request.form.get("reason", "").strip()
        try:
            reason = line().parse(reason) if reason else ""  # the rule of --reason
        except Invalid as exc:
            text = f"#{proposal_id}: the reason {exc.reason}. {exc.fix}"
            return answer(proposal_id, [("error", text)])
        try:
            with desk.connection() as db:
                done = reject(db, [proposal_id], reason)
        except NewsletterError as exc:
            return answer(proposal_id, [("error", exc.message)])
        return answer(proposal_id, [("notice", " ".join(f"#{p.id} rejected." for p in done))])

    return pages
