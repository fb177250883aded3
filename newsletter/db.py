"""Open contacts.db: WAL mode, foreign keys, and every pending migration.

Each part of the tool owns a named sqlite-utils ``Migrations`` set in its own
module (contacts, feeds, the delivery ledger). They are applied on every open,
as llm does, so an old database is brought up to date the first time a newer
version touches it. A schema change is always a new migration.
"""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from newsletter.errors import NewsletterError

# Modules that define a module-level ``migrations`` set, applied in this order.
MIGRATION_MODULES: tuple[str, ...] = (
    "newsletter.contacts",
    "newsletter.ledger",
    "newsletter.feeds",
    "newsletter.bounces",
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
        for migrations in migration_sets():
            migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise NewsletterError(
            f"{path}: not a usable SQLite database ({exc}). Pass --db with the right file."
        ) from None
    return db
