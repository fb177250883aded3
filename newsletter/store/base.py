"""What every table module shares: the database type, the clock and the write lock.

Every command that writes goes through ``writing``: one helper, one wait, one
message, whichever table it touches.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from newsletter.errors import NewsletterError

Database = sqlite_utils.Database

# How long a command waits for another program that is writing, before it
# gives up with one line. NEWSLETTER_LOCK_WAIT changes it (seconds).
LOCK_WAIT = 30.0


def lock_wait() -> float:
    """Seconds to wait for the write lock: $NEWSLETTER_LOCK_WAIT, else 30."""
    raw = os.environ.get("NEWSLETTER_LOCK_WAIT", "").strip()
    if not raw:
        return LOCK_WAIT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 3600:  # also refuses nan and inf
        raise NewsletterError(
            f"NEWSLETTER_LOCK_WAIT: {raw[:40]!r} is not a number of seconds from 0 to 3600. "
            "Set it to e.g. 30, or unset it."
        )
    return value


def now() -> str:
    """UTC timestamp as stored in every table: ISO 8601, second precision."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def path_of(db: Database) -> str:
    """The database's file, for messages."""
    return next((row[2] for row in db.execute("PRAGMA database_list")), "") or "contacts.db"


# SQLite's words for a write the disk or the file refused, and what to do about it.
_REFUSED = (
    ("full", "the disk is full. Free some space"),
    ("readonly", "the file or its folder is read-only. Make both writable"),
    ("disk I/O error", "the disk reported an error. Check the disk and free space"),
    # On opening: SQLite cannot make its -wal and -shm files beside a read-only file.
    ("unable to open", "it cannot be opened for writing. Make the file and its folder writable"),
)


def cannot_write(where: str, exc: sqlite3.Error) -> NewsletterError | None:
    """The one-line error for a write the disk or the file refused; None for other errors."""
    text = str(exc)
    for words, fix in _REFUSED:
        if words in text:
            return NewsletterError(
                f"{where}: cannot write ({text}): {fix}, then run the command again. "
                "Nothing of the step that failed was saved."
            )
    return None


# What a store call raises when SQLite itself refuses (a lock, a full disk, a broken
# file), for callers outside the store, which never import sqlite3 themselves.
DatabaseError = sqlite3.Error


class Busy(NewsletterError):
    """Another program held the write lock longer than ``lock_wait``: the file is fine."""


@contextmanager
def writing(db: Database) -> Iterator[Database]:
    """One write transaction that holds the write lock from its first read.

    sqlite-utils' ``atomic()`` begins a deferred transaction. Two commands
    that each read and then write (an import, an edit) cannot both upgrade,
    and SQLite fails the later one at once with "database is locked" instead
    of waiting. ``BEGIN IMMEDIATE`` waits (busy_timeout, see ``lock_wait``)
    for the other to finish, then reads what it wrote. Inside a transaction:
    a savepoint. A full disk or a read-only file is one line (``cannot_write``),
    with the transaction rolled back whole.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if refused := cannot_write(path_of(db), exc):
            raise refused from None
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise Busy(
            f"{path_of(db)}: another program is writing to it and did not finish in time. "
            "Run the command again when it has."
        ) from None
    try:
        yield db
        db.execute("COMMIT")
    except BaseException as exc:
        if db.conn.in_transaction:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite already rolled back on its own (a full disk does that)
        if isinstance(exc, sqlite3.Error) and (refused := cannot_write(path_of(db), exc)):
            raise refused from None
        raise


@contextmanager
def reading(db: Database) -> Iterator[Database]:
    """One read transaction: every query inside sees the same state (a dry run's plan)."""
    with db.atomic():
        yield db
