"""Where the store is put together: its tables, their migrations, its purge steps.

Each table module owns a named sqlite-utils ``Migrations`` set; ``open_db``
applies every pending one on every open, as llm does, so an old database is
brought up to date the first time a newer version touches it. A schema change
is always a new migration, never an edit of one that has landed.

Both lists below are written out by hand, here and nowhere else: adding a
table module means adding its migrations (and, if it stores addresses, its
purge step) to them. Nothing registers itself by being imported.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlite_utils.migrations import Migrations

from newsletter.errors import NewsletterError
from newsletter.store import (
    bounces,
    calls,
    clicks,
    contacts,
    corrections,
    feeds,
    intake,
    journal,
    ledger,
    locks,
    proposals,
    publications,
    reviews,
    seats,
)
from newsletter.store.base import Busy, Database, cannot_write, lock_wait, writing

# Applied in this order.
MIGRATIONS: tuple[Migrations, ...] = (
    contacts.migrations,
    ledger.migrations,
    feeds.migrations,
    bounces.migrations,
    locks.migrations,
    publications.migrations,
    proposals.migrations,
    seats.migrations,
    corrections.migrations,
    clicks.migrations,
    reviews.migrations,
    intake.migrations,
    calls.migrations,
)

# A purge erases a person from every table that keeps their address: each step
# gets (db, address, contact id or None) inside the purge's transaction. The
# contacts and history tables are purged by ``purge.purge`` itself.
PURGE_STEPS: tuple[Callable[[Database, str, int | None], None], ...] = (
    ledger.forget_address,
    proposals.forget_address,
    seats.forget_address,
    reviews.forget_address,
)


def open_db(
    path: Path, migrations: Sequence[Migrations] = MIGRATIONS, wait: float | None = None
) -> Database:
    """Open (creating if missing) and migrate the database at ``path``.

    Then apply the unsubscribe journal beside it, so no command, ``send``
    first of all, reads a contact before a recorded unsubscribe is applied.
    ``wait``: seconds to wait for another writer (default ``lock_wait()``).
    """
    if path.exists() and path.is_dir():
        raise NewsletterError(f"{path}: is a folder, not a database file. Pass --db FILE.")
    if not path.parent.is_dir():
        raise NewsletterError(f"{path}: folder {path.parent} does not exist. Create it first.")
    wait = lock_wait() if wait is None else wait
    try:
        conn = sqlite3.connect(path, timeout=wait, isolation_level=None)
        db = Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        # Freed bytes are zeroed on every write, not only during a purge: an
        # address changed or deleted earlier must not linger in free space.
        db.execute("PRAGMA secure_delete=ON")
        pending = [m for m in migrations if m.pending(db)]
        if pending:
            # Under the write lock: Migrations.apply's deferred transactions
            # would fail at once, not wait, while another command writes.
            with writing(db):
                for each in pending:
                    each.apply(db)
        if journal.has_pending(path):
            journal.apply(db, path)
    except sqlite3.DatabaseError as exc:
        raise _unusable(path, exc) from None
    return db


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> NewsletterError:
    """The one line for a database that cannot be opened or written."""
    if refused := cannot_write(str(path), exc):
        return refused
    return NewsletterError(
        f"{path}: not a usable SQLite database ({exc}). Pass --db with the right file."
    )


def check_writable(db: Database, path: Path) -> None:
    """Raise NewsletterError unless ``db`` and a journal beside it can be written now.

    A write is tried and rolled back: SQLite opens a read-only file without a
    word and fails only at the first write. Another program holding the write
    lock proves nothing either way, and is not an error here.
    """
    try:
        with writing(db):
            db.execute("UPDATE contacts SET id = id WHERE 0")
            raise _RollBack
    except _RollBack:
        pass
    except sqlite3.DatabaseError as exc:
        raise _unusable(path, exc) from None
    except Busy:
        pass  # someone else is writing, so it is writable, and serve will wait
    try:
        journal.check_folder(path)
    except OSError as exc:
        raise NewsletterError(
            f"{path.resolve().parent}: cannot write in this folder ({exc.strerror or exc}), so an "
            "unsubscribe could not be recorded while the database is busy. Make it writable."
        ) from None


def discard_if_unused(db: Database, path: Path) -> bool:
    """Close ``db`` and delete its files when no table holds a row but the migrations' own.

    For a command that created the database by opening it and then failed (a
    usage error, a contact not found): a failed command leaves the project as it
    was, so the new, empty file goes. A database with any row in it is kept, and
    so is one that cannot be read or removed: as any command that opens it leaves it.
    """
    try:
        tables = [name for name in db.table_names() if name != "_sqlite_migrations"]
        if any(db.execute(f"SELECT 1 FROM [{name}] LIMIT 1").fetchone() for name in tables):
            return False
        db.conn.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    except (sqlite3.Error, OSError):
        return False
    return True


class _RollBack(Exception):
    """Ends the probe's transaction with a rollback."""


def readonly_db(path: Path) -> Database:
    """contacts.db for a dry run: opened read-only and never migrated, so not a byte changes.

    A missing database, one from before the ledger existed, or one with
    unsubscribes waiting in its journal, is read from an in-memory copy brought
    up to date instead; the file itself stays as it was.
    """
    memory = sqlite3.connect(":memory:", isolation_level=None)
    if path.is_file():
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            db = Database(conn)
            if {"contacts", "suppression", "deliveries"} <= set(db.table_names()):
                if not journal.has_pending(path):
                    return db
            conn.backup(memory)
            conn.close()
        except sqlite3.DatabaseError as exc:
            raise NewsletterError(f"{path}: not a usable SQLite database ({exc}).") from None
    db = Database(memory)
    for migrations in MIGRATIONS:
        migrations.apply(db)
    # Unsubscribes the web app recorded count as applied here too: in the copy.
    journal.apply_unsaved(db, path)
    return db


def set_durable(db: Database, durable: bool) -> None:
    """FULL syncs each commit, so a ledger mark survives a power cut, not only a crash."""
    db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
