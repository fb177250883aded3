"""The desk's Contributions page: ``/contributions``, the table ``newsletter
contributions`` prints (``returns.track``: per organisation, submitted/accepted over
the last issues, and the silent organisations), in the markup the report for
management shares (``_contributions.html.j2``)."""

from __future__ import annotations

from flask import Blueprint, Response

from newsletter.desk.app import Desk
from newsletter.returns import track


def blueprint(desk: Desk) -> Blueprint:
    """The contribution tracker over the last issues (the command's default number)."""
    pages = Blueprint("desk_contributions", __name__)

    @pages.get("/contributions")
    def contributions() -> Response:
        with desk.connection() as db:
            found = track(desk.settings, db)
        return desk.page(
            "desk_contributions.html.j2",
            {"tracker": found, "here": "contributions"},
        )

    return pages
