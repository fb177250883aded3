"""The item editor: an issue's items listed, and one item's front matter as a form
with its Markdown summary and a live preview.

Saving calls ``issue.save_item``, which writes the same ``.md`` file a
contributor would, after the check ``newsletter check`` makes; its problems
come back beside the field they concern, with their line, and nothing is
written (400). A file that changed since the form was opened is not written
over (409). The preview is the summary rendered as the build renders it
(``issue.summary_of``): with htmx as the editor types, without it by the
form's Preview button.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.desk.app import Desk
from newsletter.errors import NewsletterError
from newsletter.issue import (
    Changed,
    Draft,
    NoItem,
    Refused,
    form_fields,
    item_form,
    list_items,
    save_item,
    summary_of,
)


def blueprint(desk: Desk) -> Blueprint:
    """``/issues/ID/items``: the list; ``.../items/NAME.md`` and ``.../items/new``: the form."""
    pages = Blueprint("desk_editor", __name__)
    sections = desk.settings.section_keys

    @pages.get("/issues/<issue_id>/items")
    def items(issue_id: str) -> Response:
        listed, skipped = list_items(desk.settings, desk.issue_folder(issue_id))
        titles = {s.key: s.title for s in desk.settings.sections}
        values = {"issue_id": issue_id, "here": "items", "items": listed, "skipped": skipped}
        return desk.page("desk_items.html.j2", {**values, "titles": titles})

    @pages.get("/issues/<issue_id>/items/new")
    def new(issue_id: str) -> Response:
        desk.issue_folder(issue_id)
        return _form(desk, issue_id, Draft("", {}, "", ""))

    @pages.get("/issues/<issue_id>/items/<name>")
    def edit(issue_id: str, name: str) -> Response:
        try:
            draft = item_form(desk.settings, desk.issue_folder(issue_id), name)
        except NoItem as exc:
            abort(404, exc.format_message())
        return _form(desk, issue_id, draft)

    @pages.post("/issues/<issue_id>/items/new", defaults={"name": ""})
    @pages.post("/issues/<issue_id>/items/<name>")
    def save(issue_id: str, name: str) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        form = {f.name: request.form.get(f.name, "") for f in form_fields(sections)}
        summary, digest = request.form.get("summary", ""), request.form.get("digest", "")
        typed = Draft(name, form, summary, digest)
        if request.form.get("action") == "preview":
            return _form(desk, issue_id, typed, preview=True)
        try:
            saved = save_item(desk.settings, folder, form, summary, name, digest)
        except NoItem as exc:
            abort(404, exc.format_message())
        except Refused as exc:
            return _form(desk, issue_id, typed, exc.problems, status=400)
        except Changed as exc:
            return _form(desk, issue_id, typed, notice=exc.format_message(), status=409)
        except NewsletterError as exc:  # a full disk, a lock: said, and the form kept
            return _form(desk, issue_id, typed, notice=exc.format_message(), status=503)
        return desk.done(f"/issues/{issue_id}/items/{saved.name}", f"Saved items/{saved.name}.")

    @pages.post("/issues/<issue_id>/items/preview")
    def preview(issue_id: str) -> Response:
        desk.issue_folder(issue_id)
        shown = summary_of(request.form.get("summary", ""))
        return desk.fragment("_desk_preview.html.j2", {"preview": shown})

    return pages


def _form(
    desk: Desk,
    issue_id: str,
    draft: Draft,
    problems: tuple[Any, ...] | None = None,
    *,
    preview: bool = False,
    notice: str = "",
    status: int = 200,
) -> Response:
    """The item form with ``draft``'s text, the problems beside their fields, the preview."""
    values = {
        "issue_id": issue_id,
        "here": "items",
        "draft": draft,
        "fields": form_fields(desk.settings.section_keys),
        "titles": {s.key: s.title for s in desk.settings.sections},
        "problems": draft.problems if problems is None else problems,
        "preview": summary_of(draft.summary),
        "previewed": preview,
        "notice": notice,
    }
    return desk.page("desk_item.html.j2", values, status)
