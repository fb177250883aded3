"""A real send from start to end, as ``newsletter send`` and the desk both run it.

``deliver`` is the one sequence: the approval check, the issue's send lock
(and the recovery of what a stopped run left), the plan, the caller's
confirmation, the run, and the publication of a complete send. The caller only
shows what it is told (``confirm``, ``progress``, ``notice``) and what it gets
back (``Delivery``). ``progress_of`` reads how far a send has gone from the
ledger and the lock, so it is right whoever sends (a command, the desk) and
after the desk restarted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.send.delivery import Tally, publish_if_complete, run
from newsletter.send.lock import hold, is_running
from newsletter.send.preflight import Prepared, check_approval
from newsletter.send.rehearse import Plan, plan
from newsletter.store import Database, ledger
from newsletter.store.base import path_of

# Told what the run found before it sends anything: rows a stopped run left in
# flight (now uncertain) and the plan. Returns whether to go ahead.
Confirm = Callable[[int, Plan], bool]


@dataclass(frozen=True)
class Delivery:
    """What ``deliver`` did: the plan it made, the rows it recovered, and the run's
    tally, or None when nothing was sent (nothing to send, or not confirmed)."""

    plan: Plan
    recovered: int
    tally: Tally | None
    publication: str  # publish_if_complete's outcome, also when nothing was left to send
    confirmed: bool = True


def deliver(
    settings: Settings,
    db: Database,
    prep: Prepared,
    retry_failed: bool = False,
    retry_uncertain: bool = False,
    *,
    confirm: Confirm | None = None,
    progress: Callable[[int, int], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> Delivery:
    """Send ``prep``'s issue under its send lock: approval, recovery, plan, confirm, run.

    Raises NewsletterError for an unapproved build (``approval = "required"``), a
    send of this issue and sender already running, and no subscribed contacts at
    all. A KeyboardInterrupt from the run goes to the caller, the lock released.
    """
    check_approval(settings, db, prep.folder)
    with hold(db, prep) as held:
        found = plan(db, prep, retry_failed, retry_uncertain)
        go = confirm(held.recovered, found) if confirm else True
        if not found.to_send:
            if found.snapshot:
                raise NewsletterError(
                    f"{path_of(db)}: no subscribed contacts. Add or import contacts, then run "
                    "again."
                )
            return Delivery(found, held.recovered, None, publish_if_complete(db, prep))
        if not go:
            return Delivery(found, held.recovered, None, "", confirmed=False)
        tally = run(db, prep, retry_failed, retry_uncertain, progress, notice, held)
    return Delivery(found, held.recovered, tally, tally.publication)


@dataclass(frozen=True)
class Progress:
    """How far an issue's send through one sender has gone, as the ledger shows it."""

    sender: str
    sent: int = 0
    failed: int = 0
    uncertain: int = 0  # including rows being handed over now
    skipped: int = 0
    remaining: int = 0  # queued, not yet handed over
    running: bool = False  # a live run holds the send lock

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.uncertain + self.skipped + self.remaining

    @property
    def done(self) -> int:
        return self.total - self.remaining


def progress_of(db: Database, issue_id: str, sender: str) -> Progress:
    """The ledger's counts of ``issue_id`` via ``sender``, and whether a run is sending it."""
    counts = ledger.counts(db, issue_id).get(sender, {})
    return Progress(
        sender,
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0),
        uncertain=counts.get("uncertain", 0) + counts.get("sending", 0),
        skipped=counts.get("skipped", 0),
        remaining=counts.get("queued", 0),
        running=is_running(db, issue_id, sender),
    )
