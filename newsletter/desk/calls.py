"""The desk's Call page: the call for contributions to an issue and its reminder.

Every step calls what ``newsletter call`` calls: ``intake.sent_call`` for the call
already recorded, ``intake.prepare_call`` (``--deadline DATE``) and
``intake.prepare_reminder`` (``--reminder``) for the mailing and its recipients, and
``send.deliver_mailing`` for the send, as ``cli/mailings.py`` runs it: the send lock,
recovery, the ledger (``call-ID``), never twice to anyone. A refusal (a past or
impossible deadline, a reminder before any call, another deadline after the call went)
is the stage's own message, shown as the page's notice; nothing is sent.

The send runs in the request, not in a thread of the desk as an issue's send does: a
call goes to the listed focal points (tens to a few hundred), the mailing has no
confirmation hook for a thread to wait on, and its ledger key is not an issue's, so
``send.progress_of`` does not read it. The page waits for the tally and shows it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
from flask import Blueprint, Response, flash, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.desk.app import Desk
from newsletter.desk.sending import is_count, sender_names
from newsletter.intake import prepare_call, prepare_reminder, sent_call
from newsletter.send import Ready, deliver_mailing, left_queued
from newsletter.store import Database


def _to_send(db: Database, ready: Ready) -> int:
    """What a run of the mailing sends now, as the command counts it."""
    return len(ready.recipients) + left_queued(db, ready)


def looked(desk: Desk, db: Database, folder: Path, sender: str) -> dict[str, Any]:
    """The call recorded via ``sender``, whom the call would reach now and whom the
    reminder would (each a count, or the stage's refusal)."""
    issue_id = folder.name
    call = sent_call(desk.settings, db, issue_id, sender)
    today = dt.datetime.now(dt.UTC).date()
    # The call's own deadline; today's when it has none, or when its day has passed and
    # the stage still lets it change (no message of it went).
    days = dict.fromkeys(day.isoformat() for day in (call.deadline if call else today, today))
    to_call = to_remind = None
    call_refused = remind_refused = ""
    for deadline in days:
        try:
            ready = prepare_call(desk.settings, db, sender, None, folder, deadline)
        except click.ClickException as exc:
            call_refused = call_refused or exc.format_message()
            continue
        to_call, call_refused = _to_send(db, ready), ""
        break
    else:
        deadline = next(iter(days))
    if call:
        try:
            to_remind = _to_send(db, prepare_reminder(desk.settings, db, sender, None, folder))
        except click.ClickException as exc:
            remind_refused = exc.format_message()
    return {
        "call": call,
        "deadline": deadline,
        "to_call": to_call,
        "to_remind": to_remind,
        "call_refused": call_refused,
        "remind_refused": remind_refused,
    }


def _deliver(db: Database, ready: Ready, expected: str) -> tuple[str, str]:
    """Send the mailing if its count is still the one the editor confirmed: (text, kind)."""
    name = ready.prep.spec.name
    total = _to_send(db, ready)
    if not total:
        return f"{ready.id} via {name}: nothing to send; everyone has it.", "notice"
    if total != int(expected):
        return (
            f"The numbers changed since the page was shown: now {total:,} to send via "
            f"{name}. Check them and confirm again.",
            "error",
        )
    t = deliver_mailing(db, ready, notice=lambda text: flash(text, "notice"))
    for line in t.failures:
        flash(f"failed: {line}", "error")
    text = (
        f"Sent {t.sent:,} via {name}; {t.failed:,} failed, {t.uncertain:,} uncertain, "
        f"{t.skipped:,} skipped."
    )
    if t.stopped:
        text += f" Stopped: {t.stopped} ({t.remaining:,} still queued); send again to continue."
    return text, "error" if t.stopped or t.failed else "notice"


def blueprint(desk: Desk) -> Blueprint:
    """The Call page (``/issues/ID/call``), the call's send and the reminder's."""
    pages = Blueprint("desk_calls", __name__)

    def back(issue_id: str, sender: str) -> str:
        return f"/issues/{issue_id}/call?sender={quote(sender, safe='')}"

    @pages.get("/issues/<issue_id>/call")
    def call_page(issue_id: str) -> Response:
        folder = desk.issue_folder(issue_id)
        sender = request.args.get("sender") or desk.settings.send.sender
        with desk.connection() as db:
            values = looked(desk, db, folder, sender)
        values |= {
            "issue_id": issue_id,
            "sender": sender,
            "senders": sender_names(desk),
            "here": "call",
        }
        return desk.page("desk_call.html.j2", values)

    def send(issue_id: str, reminder: bool) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        sender = request.form.get("sender") or desk.settings.send.sender
        expected = request.form.get("expected", "")
        with desk.connection() as db:
            try:
                if reminder:
                    ready = prepare_reminder(desk.settings, db, sender, None, folder)
                else:
                    deadline = request.form.get("deadline", "")
                    ready = prepare_call(desk.settings, db, sender, None, folder, deadline)
                # ASCII digits, and few, as the Send page reads its count.
                if request.form.get("confirm") != "yes" or not is_count(expected):
                    text = "Tick the box to confirm the send, then press the button again."
                    return desk.done(back(issue_id, sender), text, "error")
                text, kind = _deliver(db, ready, expected)
            except click.ClickException as exc:
                return desk.done(back(issue_id, sender), exc.format_message(), "error")
        return desk.done(back(issue_id, sender), text, kind)

    @pages.post("/issues/<issue_id>/call")
    def send_call(issue_id: str) -> BaseResponse:
        return send(issue_id, reminder=False)

    @pages.post("/issues/<issue_id>/call/reminder")
    def send_reminder(issue_id: str) -> BaseResponse:
        return send(issue_id, reminder=True)

    return pages
