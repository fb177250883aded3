"""Asking a reviewer: a signed, expiring link to the preview of an issue's current build,
mailed through ``send`` (the same senders, address checks and composer as any copy),
and what the reviewers said (``entries``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from newsletter import tokens
from newsletter.build.render import small_mail
from newsletter.build.report import BuildReport
from newsletter.config import Settings
from newsletter.errors import BadUsage, NewsletterError
from newsletter.issue import load_issue
from newsletter.issue.load import CheckFailed
from newsletter.schema import shown
from newsletter.send import SENT, check_approval, send_tests
from newsletter.send.headers import check_address
from newsletter.send.preflight import Mailing, check_build, prepare_mailing
from newsletter.store import Database, reviews

TEMPLATE = "review_link"
FOLDER = "mailings"  # where the outbox sender writes the request, as the directory's mailings


@dataclass(frozen=True)
class Asked:
    """A review link that went out: to whom, the link, the sender's reply."""

    reviewer: str
    url: str
    reply: str


def review_url(settings: Settings, secret: bytes, issue_id: str, reviewer: str, days: int) -> str:
    """The reviewer's own link to ``issue_id``'s preview on ``serve``."""
    token = tokens.make_review_token(secret, issue_id, reviewer, time.time(), days)
    return f"{settings.web_url}/review/{token}"


def ask(
    settings: Settings,
    db: Database,
    folder: Path,
    reviewer: str,
    days: int = tokens.REVIEW_DAYS,
    sender: str | None = None,
    options: dict[str, str] | None = None,
) -> Asked:
    """Mail ``reviewer`` a link to the current build of the issue in ``folder`` and record
    that they were asked; a NewsletterError when there is no clean, current build or the
    sender refuses it."""
    issue_id = folder.name
    # Checked before the token is made from it: the same rule and message as send_tests.
    reviewer = check_reviewer(reviewer)
    report = check_build(settings, folder)
    issue, problems = load_issue(settings, folder)
    if issue is None:
        raise CheckFailed(issue_id, problems, "no review link was sent")
    secret = tokens.secret_from_env()  # serve checks the link with the same secret
    url = review_url(settings, secret, issue_id, reviewer, days)
    subject = f"Please review: {issue.subject}"
    ctx = {"issue": issue, "url": url, "days": days, "subject": subject}
    text, html = small_mail(settings, folder, TEMPLATE, ctx)
    mailing_id = f"review-{issue_id}"
    mailing = Mailing(mailing_id, settings.root / FOLDER / mailing_id, subject, text, html, ())
    prep = prepare_mailing(settings, mailing, sender, options)
    [(address, result)] = send_tests(prep, (reviewer,), prefix="")
    if result.status != SENT:
        raise NewsletterError(
            f"--to {address}: the review link was not sent ({result.status}: {result.reply}). "
            "Check the sender (newsletter senders), then run the command again."
        )
    reviews.record(db, issue_id, address, reviews.LINK, report.inputs)
    return Asked(address, url, result.reply)


def check_reviewer(address: str) -> str:
    """``address`` as every address is checked (``send.headers.check_address``); BadUsage,
    as for ``--to``, when it is not one, such as one with a line break in it."""
    address = address.strip()
    try:
        return check_address(address, f"--to {shown(address, 60)}")
    except NewsletterError as exc:
        raise BadUsage(exc.message) from None


def entries(db: Database, issue_id: str) -> list[reviews.Entry]:
    """Every review row of ``issue_id``: links sent, comments, approvals, oldest first."""
    return reviews.entries(db, issue_id)


@dataclass(frozen=True)
class Standing:
    """Where an issue's review stands: what the reviewers did, and what ``send`` says."""

    entries: list[reviews.Entry]  # oldest first
    digest: str  # the input digest of the build on disk; "" when there is none
    refusal: str  # why ``send`` would refuse it under the approval rule; "" when it would go


def standing(settings: Settings, db: Database, folder: Path) -> Standing:
    """The review rows of the issue in ``folder``, the build they may apply to, and
    ``send.check_approval``'s verdict on it."""
    report = BuildReport.read(folder)
    try:
        check_approval(settings, db, folder)
        refusal = ""
    except NewsletterError as exc:
        refusal = exc.message
    return Standing(entries(db, folder.name), report.inputs if report else "", refusal)
