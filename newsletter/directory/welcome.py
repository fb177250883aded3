"""The welcome email of a successor an approved proposal added.

Each contact whose "created" history row comes from an approved proposal
(source ``proposal:ID``) gets one welcome, once: a mailing (``send.mailing``)
keyed ``welcome`` in the ledger, with the latest issue (its web link and table of
contents) and their own "Check your entry" link. ``welcome`` is the stage the
editor's ``directory welcome`` runs, and what a caller runs right after
``approve`` to welcome the successors it added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from newsletter.build.render import longdate
from newsletter.config import Settings
from newsletter.directory.proposals import approve
from newsletter.errors import NewsletterError
from newsletter.models import Issue, plural
from newsletter.sanitize import neutralise
from newsletter.send import Tally, mailing
from newsletter.store import Database
from newsletter.store.contacts import created_by, created_from
from newsletter.store.proposals import Proposal

KEY = "welcome"
SOURCE = "proposal:"  # the history source of a contact an approved proposal added
TEMPLATE = "directory_welcome"


@dataclass(frozen=True)
class Contents:
    """What the welcome shows of the latest issue: untrusted text made safe."""

    title: str
    number: int
    date: str
    url: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]  # (section title, item titles)


def contents(settings: Settings, issue: Issue | None) -> Contents | None:
    if issue is None:
        return None
    return Contents(
        neutralise(issue.title),
        issue.number,
        longdate(issue.date),
        f"{settings.web_url}/{issue.id}/",
        tuple(
            (neutralise(s.title), tuple(neutralise(i.title) for i in s.items))
            for s in issue.sections
            if s.items
        ),
    )


def subject(settings: Settings) -> str:
    return f"Welcome to {settings.name}"


def prepare_welcome(
    settings: Settings,
    db: Database,
    sender: str | None = None,
    options: dict[str, str] | None = None,
    only: Sequence[int] | None = None,
    **overrides: Any,
) -> mailing.Ready:
    """The welcomes to send now (to those of ``only``, when given), checked as a send is."""
    name = mailing.sender_name(settings, sender)
    added = created_by(db, SOURCE)
    if only is not None:
        added = [c for c in added if c in set(only)]
    recipients = mailing.pending(db, KEY, name, added)
    latest = mailing.latest_issue(settings, db)
    ctx = {"subject": subject(settings), "latest": contents(settings, latest)}
    made = mailing.make(
        settings,
        KEY,
        subject(settings),
        TEMPLATE,
        ctx,
        recipients,
        latest.folder if latest else None,
    )
    return mailing.ready(settings, made, recipients, sender, options, **overrides)


def welcome(
    settings: Settings,
    db: Database,
    only: Sequence[int] | None = None,
    sender: str | None = None,
    options: dict[str, str] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Tally | None:
    """Send the welcomes not sent yet (to those of ``only``, when given), e.g. right after
    ``approve``; None when there is nothing to send. ``sender`` and ``options`` as for
    ``send``: the house's sender by default."""
    ready = prepare_welcome(settings, db, sender, options, only=only)
    if not ready.recipients and not mailing.left_queued(db, ready):
        return None
    return mailing.deliver(db, ready, notice=notice)


@dataclass(frozen=True)
class Welcomed:
    """The welcome of the successors some approvals added: who, and how it went."""

    added: tuple[int, ...]  # contact ids the approvals created
    tally: Tally | None  # None: nothing was sent (none added, or all welcomed already)
    problem: str = ""  # why it could not be sent now; ``directory welcome`` sends it later

    @property
    def sent(self) -> int:
        return self.tally.sent if self.tally else 0

    @property
    def line(self) -> str:
        """What became of the welcome, in one line ("" when no successor was added): the
        command prints it (a warning on stderr) and the desk shows it as a notice."""
        if self.problem:
            return (
                f"warning: the welcome of {plural(len(self.added), 'successor')} was not sent: "
                f"{self.problem} Send it with: newsletter directory welcome"
            )
        if not self.added:
            return ""
        return (
            f"Welcomed {plural(self.sent, 'successor')} with the latest issue and their entry link."
        )


@dataclass(frozen=True)
class Approved:
    """What ``approve_welcoming`` did: the proposals applied, and the welcome."""

    proposals: list[Proposal]
    welcomed: Welcomed


def welcome_approved(
    settings: Settings,
    db: Database,
    approved: Sequence[Proposal],
    notice: Callable[[str], None] | None = None,
) -> Welcomed:
    """Welcome the successors ``approved`` added, right after ``approve``, with the house's
    sender. The approvals stand whatever happens here: a welcome that cannot go now
    (no secret, the server down) is kept for ``directory welcome``, and said so."""
    added = tuple(created_from(db, [f"proposal:{p.id}" for p in approved]))
    if not added:
        return Welcomed(added, None)
    try:
        tally = welcome(settings, db, only=added, notice=notice)
    except NewsletterError as exc:
        return Welcomed(added, None, exc.message)
    if tally is not None and (tally.stopped or tally.failed or tally.uncertain):
        why = tally.stopped or "; ".join(tally.failures[:1]) or "a delivery was uncertain"
        return Welcomed(added, tally, f"{why}.")
    return Welcomed(added, tally)


def approve_welcoming(
    settings: Settings,
    db: Database,
    ids: Sequence[int],
    notice: Callable[[str], None] | None = None,
) -> Approved:
    """``approve`` the proposals ``ids``, then welcome the successors they added
    (``welcome_approved``): what ``directory approve`` and the desk's **Approve** do."""
    done = approve(db, ids)
    return Approved(done, welcome_approved(settings, db, done, notice))
