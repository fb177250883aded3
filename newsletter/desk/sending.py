"""The desk's Send page: test sends, what a real send would do, the real send and its
progress.

Every step calls what ``newsletter send`` calls: ``send.prepare`` and
``send.send_tests`` for a test (``send --to``), ``send.plan`` and
``send.check_approval`` for what a real send would do (``send --dry-run``), and
``send.deliver`` for the real send, the same sequence as the command: approval,
the issue's send lock in contacts.db, recovery, plan, confirmation, run,
publication. Its progress is read from the ledger (``send.progress_of``), so it
is right whoever sends (this desk, another desk, the command line) and after the
desk restarted.

A real send runs in a thread of the desk process, not of the request: closing
the page does not stop it. One per issue and sender, kept in ``desk.jobs``; the
lock refuses a second process. Ctrl-C of the desk ends the process and its send
at once, as a second Ctrl-C ends the command's: the messages being handed over
stay ``sending`` and the next run of the send (desk or command) recovers them as
uncertain; the rest stay queued, and sending again continues where it stopped.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
from flask import Blueprint, Response, flash, request
from werkzeug.wrappers import Response as BaseResponse

from newsletter.desk.app import Desk
from newsletter.errors import NewsletterError
from newsletter.send import (
    SENT,
    Delivery,
    Plan,
    Prepared,
    Progress,
    check_approval,
    deliver,
    installed,
    plan,
    prepare,
    progress_of,
    send_tests,
)
from newsletter.store import Database

MAX_TESTS = 10  # addresses a test send takes: the request waits until each is sent
# Seconds a start waits for the send to take its lock and plan: the lock waits up to
# NEWSLETTER_LOCK_WAIT (30 s by default) for another writer.
START_WAIT = 60.0
SEPARATORS = re.compile(r"[\s,;]+")
MAX_COUNT_DIGITS = 12  # a list of a trillion recipients is not a mistake to read


def addresses(text: str) -> tuple[str, ...]:
    """The addresses in a test send's field: separated by commas, semicolons, spaces or
    lines; each is checked by ``send.send_tests``, as ``send --to`` is."""
    return tuple(dict.fromkeys(part for part in SEPARATORS.split(text) if part))


@dataclass
class SendJob:
    """A real send started from the desk, running (or run) in a thread of the desk."""

    issue_id: str
    sender: str
    expected: int  # the count the editor confirmed
    ready: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    sending: bool = False  # confirmed, with something to send: the run has begun
    plan: Plan | None = None
    delivery: Delivery | None = None
    error: str = ""
    notices: list[str] = field(default_factory=list)


def is_count(text: str) -> bool:
    """Whether the form's ``expected`` is a count of recipients int() reads (the Send
    and Call pages)."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_COUNT_DIGITS


def job_key(issue_id: str, sender: str) -> str:
    return f"send:{issue_id}:{sender}"


def sender_names(desk: Desk) -> list[str]:
    """The senders a send may go through: the house default, the configured ones, then
    every installed plugin."""
    names = [desk.settings.send.sender, *desk.settings.senders, *(s.name for s in installed())]
    return list(dict.fromkeys(names))


def _message(exc: click.ClickException) -> str:
    return exc.format_message()


def looked(desk: Desk, db: Database, folder: Path, sender: str) -> dict[str, Any]:
    """What a real send via ``sender`` would do now, as ``send --dry-run`` says it."""
    found: Plan | None = None
    refused = approval = ""
    try:
        prep = prepare(desk.settings, folder, sender)
        found = plan(db, prep, False, False)
    except click.ClickException as exc:
        refused = _message(exc)
    if not refused and desk.settings.approval == "required":
        try:
            check_approval(desk.settings, db, folder)
            approval = "A reviewer approved this build."
        except NewsletterError as exc:
            refused = approval = _message(exc)
    return {"plan": found, "refused": refused, "approval": approval}


def _run(desk: Desk, job: SendJob, prep: Prepared) -> None:
    """The thread of one real send: ``send.deliver``, as the command runs it."""

    def confirm(recovered: int, found: Plan) -> bool:
        job.plan = found
        if recovered:
            job.notices.append(
                f"{recovered:,} message(s) were being handed over when the last run stopped; "
                "they are now uncertain (newsletter send --retry-uncertain resends them)."
            )
        job.sending = found.to_send == job.expected and found.to_send > 0
        if job.sending:
            job.ready.set()  # the page may go to the progress now
        return job.sending

    try:
        with desk.connection() as db:
            job.delivery = deliver(
                desk.settings, db, prep, confirm=confirm, notice=job.notices.append
            )
    except click.ClickException as exc:
        job.error = _message(exc)
    except Exception:  # a bug: said on the page, and its traceback in the desk's terminal
        job.error = "The send stopped on an unexpected error: see the desk's terminal."
        raise
    finally:
        job.finished = True
        job.ready.set()


def start(desk: Desk, folder: Path, sender: str, expected: int) -> tuple[SendJob, bool]:
    """Start a real send in a thread of the desk, or find the one running: (job, new).

    Waits until the send has taken its lock and confirmed its plan, or ended, so a
    refusal (no approval, another send running, nothing to send) is the page's to show.
    """
    issue_id = folder.name
    prep = prepare(desk.settings, folder, sender)  # a NewsletterError before any thread
    key = job_key(issue_id, prep.spec.name)
    with desk.jobs_lock:
        job = desk.jobs.get(key)
        if isinstance(job, SendJob) and not job.finished:
            return job, False
        job = SendJob(issue_id, prep.spec.name, expected)
        desk.jobs[key] = job
    # A daemon: Ctrl-C of the desk ends the send with the process (see the docstring).
    worker = threading.Thread(target=_run, args=(desk, job, prep), name=f"desk-{key}", daemon=True)
    worker.start()
    job.ready.wait(START_WAIT)
    return job, True


def _refusal(job: SendJob) -> str:
    """Why a send that ended before sending sent nothing; "" when it is sending or sent."""
    if job.sending or not job.finished:
        return ""
    if job.error or job.delivery is None:
        return job.error
    p = job.delivery.plan
    if not job.delivery.confirmed:
        return (
            f"The numbers changed since the page was shown: now {p.to_send:,} to send via "
            f"{p.sender}. Check them and confirm again."
        )
    return f"Nothing to send via {p.sender}: {p.sent:,} sent already. See the report."


def progress_values(desk: Desk, db: Database, issue_id: str, sender: str) -> dict[str, Any]:
    """The progress of ``issue_id``'s send via ``sender``: the ledger's counts, and this
    desk's run of it when there is one (its notices, its error, its final tally)."""
    found = progress_of(db, issue_id, sender)
    job = desk.jobs.get(job_key(issue_id, sender))
    job = job if isinstance(job, SendJob) else None
    running = found.running or (job is not None and not job.finished)
    if running and job and job.plan and not found.total:
        # Started, but the run has not yet queued its snapshot: the plan's count is the queue.
        found = Progress(sender, remaining=job.plan.to_send, running=found.running)
    tally = job.delivery.tally if job and job.delivery else None
    return {
        "progress": found,
        "running": running,
        "job": job,
        "tally": tally,
        "issue_id": issue_id,
        "sender": sender,
    }


def blueprint(desk: Desk) -> Blueprint:
    """The Send page (``/issues/ID/send``), its test and real sends, and the progress."""
    pages = Blueprint("desk_sending", __name__)

    def back(issue_id: str, sender: str, page: str = "send") -> str:
        return f"/issues/{issue_id}/{page}?sender={quote(sender, safe='')}"

    @pages.get("/issues/<issue_id>/send")
    def send_page(issue_id: str) -> Response:
        folder = desk.issue_folder(issue_id)
        sender = request.args.get("sender") or desk.settings.send.sender
        with desk.connection() as db:
            values = looked(desk, db, folder, sender)
            values |= progress_values(desk, db, issue_id, sender)
        values |= {"senders": sender_names(desk), "here": "send", "max_tests": MAX_TESTS}
        return desk.page("desk_send.html.j2", values)

    @pages.post("/issues/<issue_id>/send/test")
    def test_send(issue_id: str) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        sender = request.form.get("sender") or desk.settings.send.sender
        to = addresses(request.form.get("to", ""))
        if not to:
            return desk.done(back(issue_id, sender), "Enter one or more addresses.", "error")
        if len(to) > MAX_TESTS:
            text = f"{len(to)} addresses: a test goes to at most {MAX_TESTS} at once."
            return desk.done(back(issue_id, sender), text, "error")
        try:
            prep = prepare(desk.settings, folder, sender, rehearsal=True)
            results = send_tests(prep, to)
        except click.ClickException as exc:
            return desk.done(back(issue_id, sender), _message(exc), "error")
        for problem in prep.placeholders:  # as the command warns: a real send refuses them
            flash(str(problem), "error")
        for address, result in results:
            line = f"Test to {address}: {result.status} ({result.reply})"
            flash(line, "notice" if result.status == SENT else "error")
        return desk.done(back(issue_id, sender), f"{len(results)} test message(s) tried.")

    @pages.post("/issues/<issue_id>/send")
    def real_send(issue_id: str) -> BaseResponse:
        folder = desk.issue_folder(issue_id)
        sender = request.form.get("sender") or desk.settings.send.sender
        expected = request.form.get("expected", "")
        # ASCII digits, and few: int() refuses "²" and 4,300 digits, which isdigit() takes.
        if request.form.get("confirm") != "yes" or not is_count(expected):
            text = "Tick the box to confirm the send, then press Send again."
            return desk.done(back(issue_id, sender), text, "error")
        try:
            job, new = start(desk, folder, sender, int(expected))
        except click.ClickException as exc:
            return desk.done(back(issue_id, sender), _message(exc), "error")
        if not new:
            text = f"This send via {job.sender} is already running: here is its progress."
            return desk.done(back(issue_id, job.sender, "send/progress"), text)
        if refused := _refusal(job):
            with desk.jobs_lock:
                desk.jobs.pop(job_key(issue_id, job.sender), None)
            return desk.done(back(issue_id, job.sender), refused, "error")
        text = (
            f"Sending to {job.expected:,} recipients via {job.sender}. Closing this page "
            "does not stop the send."
        )
        return desk.done(back(issue_id, job.sender, "send/progress"), text)

    def progress_of_request(issue_id: str) -> dict[str, Any]:
        desk.issue_folder(issue_id)
        sender = request.args.get("sender") or desk.settings.send.sender
        with desk.connection() as db:
            return progress_values(desk, db, issue_id, sender)

    @pages.get("/issues/<issue_id>/send/progress")
    def progress_page(issue_id: str) -> Response:
        values = progress_of_request(issue_id)
        return desk.page("desk_send_progress.html.j2", values | {"here": "send"})

    @pages.get("/issues/<issue_id>/send/progress/part")
    def progress_part(issue_id: str) -> Response:
        return desk.fragment("_desk_send_progress.html.j2", progress_of_request(issue_id))

    return pages
