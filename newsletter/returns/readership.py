"""Readership without tracking pixels: ``/r/<token>`` on ``serve`` counts a click and redirects.

With ``readership = "aggregate"`` the build sends each link of the email through
``{web_url}/r/<token>`` (``build.readership``). The token (``tokens.CLICK``)
names the issue, the link's number and its address, and nothing about the
reader. A genuine one is answered at once with a 302 to the signed address
(never to one from the query: no open redirect) and adds one to that link's
count (``store.clicks``); nothing else is stored. A forged, altered or
other-purpose token gets 400 and counts nothing. A busy database loses the
click, never the reader's way to the page.

``/r/<token>/<organisation part>``: the copies sent to an organisation of at
least ``models.MIN_GROUP`` recipients carry its part (``tokens.CLICK_ORG``,
signed for the issue and the organisation's row id, the same in each of their
copies). A genuine part made for the click token's issue adds one to that
organisation's count of the link too; any other (forged, altered, of another
issue) is ignored: the click counts for the link only, as one without a part,
and the reader still goes on to the page.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, redirect
from werkzeug.wrappers import Response as BaseResponse

from newsletter import tokens
from newsletter.errors import NewsletterError
from newsletter.returns.webapp import HEADERS, Site
from newsletter.store import DatabaseError, clicks

log = logging.getLogger(__name__)
MAX_CLICK_TOKEN = 2900
NOT_VALID = "This link is not valid. Copy the whole link from the email, or open the web edition."


def blueprint(site: Site) -> Blueprint:
    """The click route on ``site``; the app registers it (``newsletter.server``)."""
    pages = Blueprint("readership", __name__)

    @pages.route("/r/<token>", methods=["GET", "HEAD"])
    @pages.route("/r/<token>/<part>", methods=["GET", "HEAD"])
    def click(token: str, part: str = "") -> BaseResponse:
        found = None
        if len(token) <= MAX_CLICK_TOKEN:
            found = tokens.read_click_token(site.secret, token)
        if found is None:
            return Response(NOT_VALID, status=400, mimetype="text/plain", headers=HEADERS)
        organisation = None
        if part and len(part) <= tokens.MAX_CLICK_ORG:
            organisation = tokens.read_click_org_token(site.secret, part, found.issue_id)
        try:
            if not site.clicks.hit(token):  # over the limit: still redirected, not counted
                with site.connection() as db:
                    clicks.count_click(db, found.issue_id, found.index, found.url, organisation)
        except (DatabaseError, NewsletterError) as exc:
            log.warning("a click on %s was not counted: %s", found.issue_id, exc)
        response = redirect(found.url, 302)
        response.headers["Cache-Control"] = "no-store"  # each click reaches us to be counted
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return pages
