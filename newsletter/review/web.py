"""A reviewer's page on ``newsletter serve``: ``/review/<token>`` (``tokens.REVIEW``).

It shows the issue's current build read-only (the email with its personal
markers replaced by harmless stand-ins, and its text part) with two forms, each
a POST with a CSRF token for that link: a comment, and **Approve**. Both are
recorded in contacts.db (``store.reviews``) with the build's input digest, so an
approval counts for the build the reviewer saw and no other. A GET changes
nothing; a token that is forged, damaged, expired, made for another purpose or
for an issue with no build gets 400 and changes nothing.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, request

from newsletter import tokens
from newsletter.build.preview import shown_build
from newsletter.build.report import BuildReport
from newsletter.errors import NewsletterError
from newsletter.models import ISSUE_ID
from newsletter.returns.webapp import Site
from newsletter.store import Database, DatabaseError, reviews

log = logging.getLogger(__name__)
MAX_COMMENT = 4000  # characters: a comment is a note, not a manuscript
MAX_REVIEW_TOKEN = 700
# The email may show pictures from the web; nothing else loads, and no script runs.
REVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def blueprint(site: Site) -> Blueprint:
    """The reviewer's pages on ``site``; the app registers it (``newsletter.server``)."""
    pages = Blueprint("review", __name__)

    def page(state: str, status: int = 200, **values: object) -> Response:
        defaults: dict[str, object] = {"state": state, "base": "../", "notice": ""}
        response = site.page("review.html.j2", defaults | values, status)
        response.headers["Content-Security-Policy"] = REVIEW_CSP
        return response

    def read(token: str) -> tuple[tokens.Review, BuildReport, str, str] | None:
        """The review, the build's report, its email and its text; None when the link
        or the build is not there."""
        if len(token) > MAX_REVIEW_TOKEN:
            return None
        found = tokens.read_review_token(site.secret, token, time.time())
        if found is None or not ISSUE_ID.fullmatch(found.issue_id):
            return None
        shown = shown_build(site.settings, site.settings.root / "issues" / found.issue_id)
        if shown is None:
            return None
        return found, shown.report, shown.email, shown.text

    def show(token: str, status: int = 200, notice: str = "", base: str = "../") -> Response:
        found = read(token)
        if found is None:
            return page("invalid", 400, base=base)
        review, report, email, text = found

        def act(db: Database) -> Response:
            rows = reviews.entries(db, review.issue_id)
            approved = any(
                r.kind == reviews.APPROVAL
                and r.digest == report.inputs
                and r.reviewer == review.reviewer
                for r in rows
            )
            comments = [r for r in rows if r.kind == reviews.COMMENT and r.digest == report.inputs]
            return page(
                "review",
                status,
                base=base,
                link=token,
                csrf=site.form_token(token),
                review=review,
                email=email,
                text=text,
                comments=comments,
                approved=approved,
                notice=notice,
            )

        return site.guarded(act, lambda: page("unavailable", 503, base=base), "the review page")

    @pages.get("/review/<token>", merge_slashes=False)
    def review_page(token: str) -> Response:
        return show(token)

    @pages.get("/review/<token>/<any(comment, approve):action>", merge_slashes=False)
    def review_again(token: str, action: str) -> Response:  # a form's URL opened: show only
        return show(token, base="../../")

    @pages.post("/review/<token>/<any(comment, approve):action>", merge_slashes=False)
    def review_post(token: str, action: str) -> Response:
        base = "../../"
        found = read(token)
        if found is None:
            return page("invalid", 400, base=base)
        if limited := site.too_often(token, base):
            return limited
        if not site.form_ok(token):
            return page("expired", 400, base=base, link=token)
        review, report, _, _ = found
        body = ""
        if action == "comment":
            body = request.form.get("comment", "").strip()
            if not body or len(body) > MAX_COMMENT:
                return show(token, 400, "empty" if not body else "long", base)
        kind = reviews.COMMENT if action == "comment" else reviews.APPROVAL
        try:
            with site.connection() as db:
                reviews.record(db, review.issue_id, review.reviewer, kind, report.inputs, body)
        except (NewsletterError, DatabaseError, OSError) as exc:
            log.warning("the review page could not record a %s: %s", kind, exc)
            return page("unavailable", 503, base=base)
        return show(token, notice="approved" if action == "approve" else "commented", base=base)

    @pages.route("/review", methods=["GET", "POST"])
    @pages.route("/review/<rest:token>", methods=["GET", "POST"], merge_slashes=False)
    def damaged_review(token: str = "") -> Response:
        return page("invalid", 400)

    return pages
