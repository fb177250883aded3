"""The send run: snapshot, resume, throttle, retry, and the ledger.

The calling thread owns the database; each connection has a worker thread
(``dispatch.work``). A row is committed as ``sending`` only when a worker is
free to take it at once, so no more rows than connections are ever in
flight: that is all a crash can leave uncertain. Results that arrive
together are recorded in one transaction with the next claims (a group
commit). Recipients stream from SQLite a page at a time; nothing is built
ahead, so memory stays flat however long the list.
"""

from __future__ import annotations

import heapq
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from newsletter import errors, store
from newsletter.models import ENHANCED_STATUS, MIN_GROUP, severity
from newsletter.send.dispatch import INVALID, ClickParts, Job, Outcome, close_quietly, work
from newsletter.send.lock import RENEW, Held, hold, renew
from newsletter.send.message import id_label
from newsletter.send.preflight import Prepared
from newsletter.send.senders import (
    PERMANENT,
    SENT,
    TEMPORARY,
    Limits,
    Result,
    Sender,
    SenderError,
)
from newsletter.send.throttle import DAY, HOUR, TokenBucket, Window, backoff, strictest
from newsletter.store import Database, ledger, now

PAGE = 256
CLOSE_WAIT = 5.0  # seconds for the connections' goodbyes (QUIT) after a clean end
SHOWN = 10  # failures kept for the summary; `status` lists them all
# Seconds between looks at the unsubscribe journal: a stat or two, cheap, but not per message.
JOURNAL_EVERY = 1.0


@dataclass
class Tally:
    """What one run did; ``stopped`` says why it ended early ("" when it finished)."""

    total: int = 0  # queued when the run started
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    skipped: int = 0
    retries: int = 0
    retired: int = 0  # contacts marked bounced: their server said the address is gone
    remaining: int = 0  # still queued at the end
    elapsed: float = 0.0
    stopped: str = ""
    failures: list[str] = field(default_factory=list)  # the first few
    # Set when this run completed a real send: "published", or "unpublished" when
    # the editor's `newsletter unpublish` stands.
    publication: str = ""


class Run:
    def __init__(
        self,
        db: Database,
        prep: Prepared,
        progress: Callable[[int, int], None] | None,
        notice: Callable[[str], None] | None,
        held: Held | None = None,
    ) -> None:
        self.db, self.prep, self.cfg = db, prep, prep.config
        self.held, self.renewed = held, time.monotonic()
        self.journal_read = time.monotonic()
        self.issue, self.sender = prep.issue_id, prep.spec.name
        self.progress: Callable[[int, int], None] = progress or (lambda done, total: None)
        self.notice: Callable[[str], None] = notice or (lambda text: None)
        self.tally = Tally()
        self.click_parts = ClickParts(prep.secret, prep.issue_id, ())
        self.stopping = self.hard = False  # hard: a second Ctrl-C, leave at once
        self.in_flight = self.after_id = self.consecutive = 0
        self.limit = self.cfg.concurrency  # connections actually open
        self.page: list[ledger.Queued] = []
        self.exhausted = False
        # (due, row id, row, attempts so far): the row id keeps rows from being compared.
        self.retry: list[tuple[float, int, ledger.Queued, int]] = []
        # The settings' limits, and the mail service's own (a provider preset's), whichever
        # is stricter.
        limits = prep.spec.limits
        self.rate = strictest(self.cfg.rate, limits.rate)
        self.bucket = TokenBucket(self.rate)
        self.window = Window(self.cfg.max_per_hour, self._sent_within(HOUR, self.cfg.max_per_hour))
        self.day = Window(limits.per_day, self._sent_within(DAY, limits.per_day), span=DAY)

    def _sent_within(self, seconds: float, limit: int) -> list[float]:
        """When this sender's messages went out in the last ``seconds``, when a cap needs it."""
        if not limit:
            return []
        since = datetime.now(UTC) - timedelta(seconds=seconds)
        earlier = ledger.sent_since(self.db, self.sender, since.replace(microsecond=0).isoformat())
        return [datetime.fromisoformat(t).timestamp() for t in earlier]

    def stop(self, why: str) -> None:
        if not self.stopping:
            self.stopping, self.tally.stopped = True, why

    def _keep_lock(self) -> None:
        """Now and then, inside the caller's transaction, show this run is alive."""
        if self.held is None or time.monotonic() - self.renewed < RENEW:
            return
        self.renewed = time.monotonic()
        if not renew(self.db, self.held):
            self.stop(
                "another run took this issue's send lock over, as if this one had died; "
                "this run stopped sending"
            )

    def _catch_up(self) -> None:
        """Now and then, apply unsubscribes the web app recorded while this run held the lock."""
        if time.monotonic() - self.journal_read >= JOURNAL_EVERY:
            self.journal_read = time.monotonic()
            store.journal.catch_up(self.db)

    # -- claiming rows --------------------------------------------------------
    def _ready_in(self) -> float | None:
        """Seconds until a row may be claimed: 0 now, more when throttled, None when none left."""
        if self.stopping:
            return None
        if not self.page and not self.exhausted:
            self.page = ledger.queued(self.db, self.issue, self.sender, self.after_id, PAGE)[::-1]
            self.exhausted = len(self.page) < PAGE
        if self.page:
            ready = 0.0
        elif self.retry:
            ready = max(0.0, self.retry[0][0] - time.monotonic())
        else:
            return None
        if (day := self.day.wait()) > 0:
            # Hours away: stop now rather than hold the lock; the ledger keeps the rest queued.
            until = datetime.now(UTC) + timedelta(seconds=day + 60)
            self.stop(
                f"the sender's cap of {self.day.limit:,} messages in 24 hours is reached. "
                f"Run the same command after {until:%Y-%m-%d %H:%M} UTC to send the rest"
            )
            return None
        return max(ready, self.bucket.wait(), self.window.wait())

    def _next_row(self) -> tuple[ledger.Queued, int]:
        """The next row to claim, and its attempts so far (row.attempts stays as at the start)."""
        if self.retry and self.retry[0][0] <= time.monotonic():
            _, _, row, attempts = heapq.heappop(self.retry)
            return row, attempts
        row = self.page.pop()
        self.after_id = row.id
        return row, row.attempts

    def _claim(self, row: ledger.Queued, attempts: int, at: str) -> Job | None:
        """Mark the row ``sending`` if its contact is still subscribed and not suppressed."""
        claim = ledger.claim(self.db, row, at)
        if claim.skipped:
            self.tally.skipped += 1
        if claim.row is None:
            return None
        return Job(claim.row, attempts + 1, self.click_parts(claim.row.organisation))

    # -- recording results ------------------------------------------------------
    def _retire_if_gone(self, job: Job, reply: str, at: str) -> None:
        """A server's permanent "no such address" marks the contact bounced, as a bounce
        report would (same rule, models.severity, on the code and the server's words), so
        the next issue does not try again.

        Only a reply with an enhanced code counts (5.1.1, 5.1.10...): a bare 550 is also
        what servers say for spam and policy, and one policy rejection must not retire
        a focal point.
        """
        code = ENHANCED_STATUS.search(reply)
        if code and severity(".".join(code.groups()), reply) == "hard" and job.row.email:
            source = f"rejected:{self.issue}"
            if store.contacts.mark_bounced(self.db, job.row.email, source=source, at=at):
                self.tally.retired += 1

    def _done(self, job: Job, status: str, error: str | None, reply: str | None, at: str) -> None:
        ledger.mark_done(self.db, job.row_id, status, error, reply, at)
        if status == "failed" and len(self.tally.failures) < SHOWN:
            who = "" if (error or "").startswith("contact ") else f"{job.row.email}: "
            self.tally.failures.append(who + (error or ""))  # a server's reply names no one
        if status != "queued":
            setattr(self.tally, status, getattr(self.tally, status) + 1)

    def _record(self, job: Job, result: Result | None, exc: BaseException | None, at: str) -> None:
        self.in_flight -= 1
        if exc is not None:
            # A SenderError comes before the message is handed over; anything else, who knows.
            if isinstance(exc, SenderError):
                text, status = exc.message, "queued"
            else:
                text, status = f"sender {self.sender} raised {exc!r}", "uncertain"
            self._done(job, status, text, None, at)
            return self.stop(text)
        assert result is not None
        if result.status == SENT:
            self.consecutive = 0
            return self._done(job, "sent", None, result.reply, at)
        if result.status == INVALID:  # the contact's data, not the server: no pause for it
            return self._done(job, "failed", result.reply, None, at)
        self.consecutive += 1
        # Attempts in this run: --retry-failed gives a row that gave up a full set again.
        tries = job.attempt - job.row.attempts
        if result.status == TEMPORARY and tries < self.cfg.max_attempts:
            self._done(job, "queued", result.reply, None, at)
            self.tally.retries += 1
            wait = backoff(tries, self.cfg.retry_delay, self.cfg.retry_delay_max)
            heapq.heappush(self.retry, (time.monotonic() + wait, job.row_id, job.row, job.attempt))
        elif result.status == TEMPORARY:
            error = f"gave up after {tries} attempts: {result.reply}"
            self._done(job, "failed", error, None, at)
        else:
            status = "failed" if result.status == PERMANENT else "uncertain"
            self._done(job, status, result.reply, None, at)
            if result.status == PERMANENT:
                self._retire_if_gone(job, result.reply, at)
        if self.consecutive >= self.cfg.max_consecutive_failures:
            self.stop(
                f"paused after {self.consecutive} failures in a row; the last: {result.reply}. "
                "Check the sender and the server, then run the same command to continue."
            )

    # -- the loop -----------------------------------------------------------------
    def _collect(self, results: queue.SimpleQueue[Outcome], timeout: float | None) -> list[Outcome]:
        """Results that have arrived, waiting up to ``timeout`` (None: until one does)."""
        items: list[Outcome] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        while not items and not self.hard:
            left = 0.5 if deadline is None else min(0.5, deadline - time.monotonic())
            try:  # in slices, so a second Ctrl-C is noticed even while a server hangs
                items.append(results.get(timeout=left) if left > 0 else results.get_nowait())
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    break
        while True:
            try:
                items.append(results.get_nowait())
            except queue.Empty:
                return items

    def _wait(self, seconds: float) -> None:
        if seconds > 5:
            until = datetime.fromtimestamp(time.time() + seconds).strftime("%H:%M:%S")
            self.notice(f"Waiting until {until} for the hourly cap or a retry delay.")
        deadline = time.monotonic() + seconds
        while not self.stopping and not self.hard and time.monotonic() < deadline:
            time.sleep(min(0.25, deadline - time.monotonic()))
            if time.monotonic() - self.renewed >= RENEW:
                with store.writing(self.db):  # an hour's wait must not look like a dead run
                    self._keep_lock()

    def _loop(
        self, jobs: queue.SimpleQueue[Job | None], results: queue.SimpleQueue[Outcome]
    ) -> None:
        limit, reported = self.limit, 0
        while not self.hard:
            ready = self._ready_in()
            if not self.in_flight:
                if ready is None:
                    return
                if ready > 0:
                    self._wait(ready)
                    continue
                batch = []
            else:
                full = self.in_flight >= limit or ready is None
                batch = self._collect(results, None if full else ready)
            self._catch_up()
            at = now()
            claimed: list[Job] = []
            with store.writing(self.db):  # a group commit: results and the next claims
                self._keep_lock()
                for job, result, exc in batch:
                    self._record(job, result, exc, at)
                while self.in_flight + len(claimed) < limit and self._ready_in() == 0:
                    claim = self._claim(*self._next_row(), at)
                    if claim:
                        claimed.append(claim)
                        self.bucket.take()
                        self.window.take()
                        self.day.take()
            for job in claimed:  # only now: a row is committed as sending before it goes
                jobs.put(job)
            self.in_flight += len(claimed)
            t = self.tally
            if (finished := t.sent + t.failed + t.uncertain + t.skipped) != reported:
                self.progress(finished - reported, t.total)
                reported = finished
        raise KeyboardInterrupt  # a second Ctrl-C: rows in flight stay `sending`

    def _open(self) -> list[Sender]:
        """Open every connection the server lets us have (at least one)."""
        senders: list[Sender] = []
        try:
            for _ in range(self.cfg.concurrency):
                sender = self.prep.spec.new()
                try:
                    sender.open()  # a refused login stops here, before the ledger is touched
                except SenderError as exc:
                    if not senders:
                        raise
                    # Many servers cap connections per client ("421 too many
                    # connections"): send with those that opened rather than not at all.
                    self.notice(
                        f"Sending with {len(senders)} of {self.cfg.concurrency} connections; "
                        f"the next could not be opened: {exc.message}"
                    )
                    break
                senders.append(sender)
        except BaseException:
            for sender in senders:
                close_quietly(sender)
            raise
        return senders

    def _keep_under(self, senders: list[Sender]) -> None:
        """A sender that learned its service's caps when it opened (SES's MaxSendRate,
        ``limits.per_second``, for all its connections together) lowers the run's
        rate, so messages are not sent only to be throttled and retried."""
        found = (getattr(s, "limits", None) for s in senders)
        quota = strictest(*(limits.rate for limits in found if isinstance(limits, Limits)))
        if quota and (not self.rate or quota < self.rate):
            self.rate, self.bucket = quota, TokenBucket(quota)
            self.notice(f"Sending at most {quota:g} messages a second, the {self.sender} limit.")

    def send_all(self, retry_failed: bool, retry_uncertain: bool) -> Tally:
        """Open every connection, then snapshot and send.

        Each worker thread closes its own connection when it is told to stop, so
        a connection is never used by two threads: after a clean end the run
        waits (briefly) for those polite goodbyes; after a second Ctrl-C or an
        error it leaves at once, and the messages in flight stay ``sending``.
        """
        started = time.monotonic()
        senders = self._open()
        self.limit = len(senders)
        self._keep_under(senders)
        workers: list[threading.Thread] = []
        try:
            self._begin(retry_failed, retry_uncertain)
            if self.tally.total:
                jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
                results: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
                for n, sender in enumerate(senders):
                    args = (self.prep, sender, jobs, results)
                    worker = threading.Thread(target=work, args=args, name=f"send-{n}", daemon=True)
                    worker.start()
                    workers.append(worker)
                try:
                    with interruptible(self):
                        self._loop(jobs, results)
                finally:
                    for _ in workers:
                        jobs.put(None)
                deadline = time.monotonic() + CLOSE_WAIT
                for worker in workers:
                    worker.join(max(0.0, deadline - time.monotonic()))
        finally:
            for sender in senders[len(workers) :]:  # never handed to a worker
                close_quietly(sender)
        self.tally.remaining = ledger.count(self.db, self.issue, self.sender, "queued")
        self.tally.elapsed = time.monotonic() - started
        self.tally.publication = publish_if_complete(self.db, self.prep)
        return self.tally

    def _begin(self, retry_failed: bool, retry_uncertain: bool) -> None:
        with store.writing(self.db):
            again = ("failed",) * retry_failed + ("uncertain",) * retry_uncertain
            if again:
                ledger.requeue(self.db, self.issue, self.sender, again)
        label, domain = id_label(self.issue), self.prep.composer.layout.domain
        ledger.snapshot(self.db, self.issue, self.sender, label, domain, self.prep.audience)
        if self.prep.composer.uses("click_org"):  # readership = "aggregate"
            found = ledger.organisations_of_at_least(self.db, self.issue, self.sender, MIN_GROUP)
            self.click_parts = ClickParts(self.prep.secret, self.issue, found)
        self.tally.total = ledger.count(self.db, self.issue, self.sender, "queued")


def publish_if_complete(db: Database, prep: Prepared) -> str:
    """Publish the issue once a real send of it is complete, as the ledger shows it: no
    row queued or in flight, and some sent (failed, uncertain and skipped rows are done).

    "published" when this call published it; "unpublished" when the editor's
    unpublish stands; "" otherwise (a rehearsal, a send not complete, or already
    published). Asked after every run, and by a run that finds nothing to send, so
    a send stopped after its last message still publishes when run again.
    """
    if not prep.spec.delivers or not prep.publishes:
        return ""
    found = ledger.counts(db, prep.issue_id).get(prep.spec.name, {})
    if found.get("queued") or found.get("sending") or not found.get("sent"):
        return ""
    record, new = store.publications.sent(db, prep.issue_id, f"sent via {prep.spec.name}")
    if not record.published:
        return "unpublished"
    return "published" if new else ""


@contextmanager
def interruptible(run: Run) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) once: finish the messages in flight, then stop. Twice: stop now."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if run.stopping and run.tally.stopped == "interrupted":
            run.hard = True
            return
        run.stop("interrupted")
        run.notice("Stopping after the messages in flight (Ctrl-C again to stop at once).")

    # A Ctrl-C while the command loaded that CPython dropped (``errors.watch``): asked
    # before the first message, so nothing is handed over. Looked for before the
    # handler is set, so one Ctrl-C is never counted twice (a second one stops hard).
    dropped = errors.ctrl_c_seen()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    if dropped:
        handler(signal.SIGINT, None)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(
    db: Database,
    prep: Prepared,
    retry_failed: bool = False,
    retry_uncertain: bool = False,
    progress: Callable[[int, int], None] | None = None,
    notice: Callable[[str], None] | None = None,
    held: Held | None = None,
) -> Tally:
    """Send the issue to every queued recipient: resumable, never twice to anyone.

    ``held``: the send lock, when the caller took it first (``lock.hold``).
    """
    if held is None:
        with hold(db, prep) as taken:
            return run(db, prep, retry_failed, retry_uncertain, progress, notice, taken)
    store.set_durable(db, prep.config.durable)
    return Run(db, prep, progress, notice, held).send_all(retry_failed, retry_uncertain)
