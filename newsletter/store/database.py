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
from newsletter.store import bounces, contacts, feeds, ledger, locks
from newsletter.store.base import Database, cannot_write, lock_wait, writing

# Applied in this order.
MIGRATIONS: tuple[Migrations, ...] = (
    contacts.migrations,
    ledger.migrations,
    feeds.migrations,
    bounces.migrations,
    locks.migrations,
)

# A purge erases a person from every table that keeps their address: each step
# gets (db, address, contact id or None) inside the purge's transaction. The
# contacts and history tables are purged by ``purge.purge`` itself.
PURGE_STEPS: tuple[Callable[[Database, str, int | None], None], ...] = (ledger.forget_address,)


def open_db(path: Path, migrations: Sequence[Migrations] = MIGRATIONS) -> Database:
    """Open (creating if missing) and migrate the database at ``path``."""
    if path.exists() and path.is_dir():
        raise NewsletterError(f"{path}: is a folder, not a database file. Pass --db FILE.")
    if not path.parent.is_dir():
        raise NewsletterError(f"{path}: folder {path.parent} does not exist. Create it first.")
    wait = lock_wait()
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
    except sqlite3.DatabaseError as exc:
        if path.is_file() and (refused := cannot_write(str(path), exc)):
            raise refused from None
        raise NewsletterError(
            f"{path}: not a usable SQLite database ({exc}). Pass --db with the right file."
        ) from None
    return db


def readonly_db(path: Path) -> Database:
    """contacts.db for a dry run: opened read-only and never migrated, so not a byte changes.

    A missing database, or one from before the ledger existed, is read from an
    in-memory copy brought up to date instead; the file itself stays as it was.
    """
    memory = sqlite3.connect(":memory:", isolation_level=None)
    if path.is_file():
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            db = Database(conn)
            if {"contacts", "suppression", "deliveries"} <= set(db.table_names()):
                return db
            conn.backup(memory)
            conn.close()
        except sqlite3.DatabaseError as exc:
            raise NewsletterError(f"{path}: not a usable SQLite database ({exc}).") from None
    db = Database(memory)
    for migrations in MIGRATIONS:
        migrations.apply(db)
    return db


def set_durable(db: Database, durable: bool) -> None:
    """FULL syncs each commit, so a ledger mark survives a power cut, not only a crash."""
    db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
