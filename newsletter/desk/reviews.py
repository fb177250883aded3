"""The desk's review page: ``/issues/ID/review``.

It shows what ``newsletter review ID --status`` shows (the links sent, the
comments, the approvals, each with the build it was given on) and what ``send``
would say under the approval rule in force (``review.standing``), with a form
that sends a reviewer a link as ``newsletter review ID --to`` does
(``review.ask``). A reviewer's comment is a stranger's text: one safe line here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.desk.app import Desk
from newsletter.errors import BadUsage, NewsletterError
from newsletter.review import ask, standing
from newsletter.sanitize import one_line
from newsletter.tokens import MAX_REVIEW_DAYS, REVIEW_DAYS

WHAT = {"link": "was sent a link", "comment": "commented", "approval": "approved"}


def parse_days(text: str) -> int | None:
    """The form's days, as ``--days`` takes them (1 to ``MAX_REVIEW_DAYS``); None if not."""
    # ASCII digits only (int() would take "٣"), and few: int() refuses 4,300 digits.
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    days = int(text)
    return days if 1 <= days <= MAX_REVIEW_DAYS else None


def blueprint(desk: Desk) -> Blueprint:
    """The review page of each issue."""
    pages = Blueprint("desk_reviews", __name__)

    def show(issue_id: str, form: dict[str, str], errors: dict[str, str], status: int) -> Response:
        folder = desk.issue_folder(issue_id)
        with desk.connection() as db:
            found = standing(desk.settings, db, folder)
        rows = [
            {
                "at": row.at,
                "who": one_line(row.reviewer, 80),
                "what": WHAT[row.kind],
                "build": row.digest[:12],
                "current": bool(found.digest) and row.digest == found.digest,
                "body": one_line(row.body, 1000),
            }
            for row in found.entries
        ]
        values: dict[str, Any] = {
            "issue_id": issue_id,
            "here": "review",
            "rows": rows,
            "refusal": found.refusal,
            "built": bool(found.digest),
            "form": form,
            "errors": errors,
            "max_days": MAX_REVIEW_DAYS,
        }
        return desk.page("desk_review.html.j2", values, status)

    @pages.get("/issues/<issue_id>/review")
    def review(issue_id: str) -> Response:
        return show(issue_id, {"to": "", "days": str(REVIEW_DAYS)}, {}, 200)

    @pages.post("/issues/<issue_id>/review")
    def send_link(issue_id: str) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        form = {
            "to": request.form.get("to", "").strip(),
            "days": request.form.get("days", "").strip(),
        }
        errors = {}
        if not form["to"]:
            errors["to"] = "Give the reviewer's address."
        days = parse_days(form["days"])
        if days is None:
            errors["days"] = f"Give a whole number of days from 1 to {MAX_REVIEW_DAYS}."
        if errors or days is None:
            return show(issue_id, form, errors, 400)
        try:
            with desk.connection() as db:
                asked = ask(desk.settings, db, folder, form["to"], days)
        except BadUsage as exc:  # the address itself, by the rule of every address
            return show(issue_id, form, {"to": exc.message}, 400)
        except NewsletterError as exc:  # no build, no secret, the sender refused it
            return desk.done(f"/issues/{issue_id}/review", exc.message, "error")
        text = f"Sent {asked.reviewer} a review link to {issue_id}, good for {days} days."
        return desk.done(f"/issues/{issue_id}/review", text)

    return pages
