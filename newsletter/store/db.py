"""Open contacts.db: WAL mode, foreign keys, and every pending migration.

Each part of the tool owns a named sqlite-utils ``Migrations`` set in its own
module (contacts, feeds, the delivery ledger). They are applied on every open,
as llm does, so an old database is brought up to date the first time a newer
version touches it. A schema change is always a new migration.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from newsletter.errors import NewsletterError

# Modules that define a module-level ``migrations`` set, applied in this order.
MIGRATION_MODULES: tuple[str, ...] = (
    "newsletter.store.contacts",
    "newsletter.store.ledger",
    "newsletter.feeds.registry",
    "newsletter.returns.bounces",
)


def migration_sets() -> list[Migrations]:
    return [importlib.import_module(name).migrations for name in MIGRATION_MODULES]


def open_db(path: Path) -> sqlite_utils.Database:
    """Open (creating if missing) and migrate the database at ``path``."""
    if path.exists() and path.is_dir():
        raise NewsletterError(f"{path}: is a folder, not a database file. Pass --db FILE.")
    if not path.parent.is_dir():
        raise NewsletterError(f"{path}: folder {path.parent} does not exist. Create it first.")
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        # Freed bytes are zeroed on every write, not only during a purge: an
        # address changed or deleted earlier must not linger in free space.
        db.execute("PRAGMA secure_delete=ON")
        pending = [m for m in migration_sets() if m.pending(db)]
        if pending:
            # Under the write lock: Migrations.apply's deferred transactions
            # would fail at once, not wait, while another command writes.
            with writing(db):
                for migrations in pending:
                    migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise NewsletterError(
            f"{path}: not a usable SQLite database ({exc}). Pass --db with the right file."
        ) from None
    return db


@contextmanager
def writing(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction that holds the write lock from its first read.

    sqlite-utils' ``atomic()`` begins a deferred transaction. Two commands
    that each read and then write (an import, an edit) cannot both upgrade,
    and SQLite fails the later one at once with "database is locked" instead
    of waiting. ``BEGIN IMMEDIATE`` waits (busy_timeout) for the other to
    finish, then reads what it wrote. Inside a transaction: a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        path = next((row[2] for row in db.execute("PRAGMA database_list")), "") or "contacts.db"
        raise NewsletterError(
            f"{path}: another program is writing to it and did not finish in time. "
            "Run the command again when it has."
        ) from None
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
