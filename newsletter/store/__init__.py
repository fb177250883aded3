"""The store: contacts.db, its tables, the write lock, migrations, and the only SQL.

Stages call these functions; no module outside this package writes SQL. The
table modules are public as namespaces (``store.contacts.get_contact``,
``store.ledger.snapshot``), as sqlite-utils exposes ``Database`` and ``Table``.
"""

from newsletter.store import (
    bounces,
    clicks,
    contacts,
    corrections,
    feeds,
    journal,
    ledger,
    locks,
    proposals,
    publications,
    purge,
    seats,
)
from newsletter.store.base import Database, DatabaseError, lock_wait, now, reading, writing
from newsletter.store.database import (
    MIGRATIONS,
    PURGE_STEPS,
    check_writable,
    discard_if_unused,
    open_db,
    readonly_db,
    set_durable,
)

__all__ = [
    "MIGRATIONS",
    "PURGE_STEPS",
    "Database",
    "DatabaseError",
    "bounces",
    "check_writable",
    "clicks",
    "contacts",
    "corrections",
    "discard_if_unused",
    "feeds",
    "journal",
    "ledger",
    "locks",
    "lock_wait",
    "now",
    "open_db",
    "proposals",
    "publications",
    "purge",
    "readonly_db",
    "reading",
    "seats",
    "set_durable",
    "writing",
]
