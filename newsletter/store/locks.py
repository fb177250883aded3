"""Who is sending: one row per issue and sender while a send runs, in contacts.db.

The lock lives in the database, not beside a checkout, so two folders that
share one contacts.db cannot send the same issue through the same sender at
once. A row names its holder (pid, host, when it started, and the process's
start time where the system tells it, so a reused pid is not taken for the
holder) and when the holder last showed it was alive; the caller decides
whether that holder is gone, and whoever takes the lock over from a gone
holder does so in one transaction with whatever it recovers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database

migrations = Migrations("newsletter.locks")


@migrations()
def m001_send_locks(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE send_locks (
            issue TEXT NOT NULL,
            sender TEXT NOT NULL,
            token TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            process TEXT NOT NULL DEFAULT '',
            started TEXT NOT NULL,
            beat TEXT NOT NULL,
            PRIMARY KEY (issue, sender)
        )"""
    )


@dataclass(frozen=True)
class Holder:
    """A send holding (or asking for) the lock of one issue and sender."""

    token: str  # random per run: only the run that took the lock renews or releases it
    pid: int
    host: str
    process: str  # the process's start time as the system counts it; "" where unknown
    started: str
    beat: str  # when the holder last showed it was alive


_COLUMNS = "token, pid, host, process, started, beat"


def holder(db: Database, issue: str, sender: str) -> Holder | None:
    sql = f"SELECT {_COLUMNS} FROM send_locks WHERE issue = ? AND sender = ?"
    row = db.execute(sql, [issue, sender]).fetchone()
    return Holder(*row) if row else None


def take(
    db: Database, issue: str, sender: str, me: Holder, gone: Callable[[Holder], bool]
) -> tuple[bool, Holder | None]:
    """(True, the gone holder replaced or None) when taken; (False, the live holder) if not.

    The caller holds the write transaction, so two runs cannot both take it.
    """
    current = holder(db, issue, sender)
    if current is not None and not gone(current):
        return False, current
    db.execute(
        f"INSERT OR REPLACE INTO send_locks (issue, sender, {_COLUMNS})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [issue, sender, me.token, me.pid, me.host, me.process, me.started, me.beat],
    )
    return True, current


def renew(db: Database, issue: str, sender: str, token: str, at: str) -> bool:
    """Show the holder is alive; False when the lock is no longer ours (taken over)."""
    sql = "UPDATE send_locks SET beat = ? WHERE issue = ? AND sender = ? AND token = ?"
    return db.execute(sql, [at, issue, sender, token]).rowcount == 1


def release(db: Database, issue: str, sender: str, token: str) -> None:
    sql = "DELETE FROM send_locks WHERE issue = ? AND sender = ? AND token = ?"
    db.execute(sql, [issue, sender, token])
