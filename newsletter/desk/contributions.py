"""The desk's Contributions page: ``/contributions``, the table ``newsletter
contributions`` prints (``returns.track``: per organisation, submitted/accepted over
the last issues, and the silent organisations), in the markup the report for
management shares (``_contributions.html.j2``). ``?issues=N`` is ``--issues N``, read
by the same range (``models.LIMITS["issues"]``); a number outside it is shown beside
the field, with the table for the default."""

from __future__ import annotations

from flask import Blueprint, Response, request

from newsletter.desk.app import Desk
from newsletter.models import LIMITS
from newsletter.returns import SHOWN, track
from newsletter.schema import Invalid, ranged, shown

ASKED_CHARS = 40  # of ?issues= shown back in an error


def parse_issues(text: str) -> tuple[int, str]:
    """``?issues=`` as ``--issues`` reads it: (the number, "") or (the default, the error)."""
    if not text.strip():
        return SHOWN, ""
    kind = ranged(LIMITS["issues"])
    assert kind.text_parse is not None  # whole() reads text
    try:
        return int(kind.text_parse(text)), ""
    except Invalid as exc:
        return SHOWN, f"{shown(text[:ASKED_CHARS])} {exc.reason}."


def blueprint(desk: Desk) -> Blueprint:
    """The contribution tracker over the last issues (4 unless ``?issues=`` says)."""
    pages = Blueprint("desk_contributions", __name__)

    @pages.get("/contributions")
    def contributions() -> Response:
        asked = request.args.get("issues", "")
        count, error = parse_issues(asked)
        with desk.connection() as db:
            found = track(desk.settings, db, count)
        values = {
            "tracker": found,
            "here": "contributions",
            "asked": asked[:ASKED_CHARS] if error else str(count),
            "error": error,
            "limit": LIMITS["issues"],
        }
        return desk.page("desk_contributions.html.j2", values)

    return pages
