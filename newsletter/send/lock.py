"""One send per issue and sender at a time, wherever it was started from.

The lock is a row in contacts.db (``store.locks``), so two checkouts sharing
one database cannot both send the same issue, and a second run never takes
the first run's messages in flight for a crash's. A holder is gone when its
process no longer exists on this host, in this pid namespace (the pid, checked
against the process's start time so a reused pid does not count), or, for a
holder on another host or in another container,
when it has not shown it was alive for ``LEASE`` seconds. Only then does the
next run take the lock over and turn the rows left ``sending`` into
``uncertain``, in the same transaction.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from newsletter.errors import NewsletterError
from newsletter.send.preflight import Prepared
from newsletter.store import Database, ledger, locks, now, writing

# A holder on another host that has not renewed its lock for this long is gone.
# The run renews far more often (``RENEW``), also while it waits.
LEASE = 15 * 60.0
RENEW = 30.0


# The kernel's own pid namespace (PROC_PID_INIT_INO): a process outside any container.
_INIT_PID_NAMESPACE = 0xEFFFFFFC


def this_host() -> str:
    """This machine as the lock records it: where a holder's pid can be checked.

    Two containers may share a host name and a database but not their pids, so a
    process in its own pid namespace adds that namespace to the name.
    """
    name = socket.gethostname()
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return name
    return name if namespace == _INIT_PID_NAMESPACE else f"{name}/pidns:{namespace}"


def process_start(pid: int) -> str:
    """When process ``pid`` started, as the system counts it; "" where it does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = stat.rpartition(")")[2].split()  # the name may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else ""  # field 22, starttime


def is_gone(holder: locks.Holder) -> bool:
    """True when the holder's process is certainly no longer running."""
    if holder.host != this_host():
        try:
            beat = datetime.fromisoformat(holder.beat)
        except ValueError:  # not a time we wrote: nothing shows the holder is alive
            return True
        return datetime.fromisoformat(now()) - beat > timedelta(seconds=LEASE)
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, run by another user
    started = process_start(holder.pid)
    return bool(holder.process and started and started != holder.process)


@dataclass(frozen=True)
class Held:
    """The lock this run holds, and how many rows a stopped run had left ``sending``."""

    issue: str
    sender: str
    token: str
    recovered: int


def _refusal(prep: Prepared, other: locks.Holder) -> NewsletterError:
    lapse = ""
    if other.host != this_host():  # its pid cannot be checked from here
        lapse = f" If it is gone, its lock lapses {LEASE / 60:g} minutes after {other.beat}."
    return NewsletterError(
        f"issues/{prep.issue_id}: another send of this issue via {prep.spec.name} is running "
        f"(pid {other.pid} on {other.host}, since {other.started}), from this or another "
        f"folder sharing the database. Wait for it to finish or stop it, then run again.{lapse}"
    )


@contextmanager
def hold(db: Database, prep: Prepared) -> Iterator[Held]:
    """Hold the send lock of this issue and sender; recover what a stopped run left."""
    at = now()
    pid = os.getpid()
    me = locks.Holder(secrets.token_hex(8), pid, this_host(), process_start(pid), at, at)
    issue, sender = prep.issue_id, prep.spec.name
    with writing(db):
        taken, other = locks.take(db, issue, sender, me, is_gone)
        if not taken:
            assert other is not None
            raise _refusal(prep, other)
        # Only now, with no other run alive: rows left `sending` were in flight when a
        # run died, and may have arrived.
        recovered = ledger.recover(db, issue, sender)
    try:
        yield Held(issue, sender, me.token, recovered)
    finally:
        # Best effort: with a full disk this fails, and the next run finds this
        # process gone and takes the lock over.
        with suppress(Exception):
            with writing(db):
                locks.release(db, issue, sender, me.token)


def is_running(db: Database, issue: str, sender: str) -> bool:
    """Whether a live run (of this process or any other) holds ``issue``'s send lock
    via ``sender``: a lock a dead run left does not count."""
    holder = locks.holder(db, issue, sender)
    return holder is not None and not is_gone(holder)


def renew(db: Database, held: Held) -> bool:
    """Show this run is alive (inside the caller's transaction); False if the lock was lost."""
    return locks.renew(db, held.issue, held.sender, held.token, now())
