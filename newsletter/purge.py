"""Erase a person on request: their contact row and history values go, a hash stays.

The hash on the suppression list is what keeps them from being imported,
synced or added again. ``secure_delete`` zeroes the freed bytes and the WAL
checkpoint moves those pages into the main file, so the address is gone from
disk, not only from query results.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from newsletter.contacts import PURGE_HOOKS, address_hash, now, record_change


@dataclass(frozen=True)
class PurgeResult:
    found: bool  # a contact row was erased
    newly_suppressed: bool  # False when the address was already on the list
    checkpointed: bool  # False when another process kept old pages in the WAL


def purge(
    db: sqlite_utils.Database,
    email: str,
    source: str = "manual",
    actor: str | None = None,
    at: str | None = None,
) -> PurgeResult:
    """Erase a person's data, keeping only the hash of their address on the suppression list."""
    address = email.strip().lower()
    db.execute("PRAGMA secure_delete = ON")
    with db.atomic():
        row = db.execute(
            "SELECT id FROM contacts WHERE email = ? COLLATE NOCASE", [address]
        ).fetchone()
        contact_id = row[0] if row else None
        if contact_id is not None:
            db.execute(
                "UPDATE history SET old = NULL, new = NULL WHERE contact_id = ?", [contact_id]
            )
            db.execute("DELETE FROM contacts WHERE id = ?", [contact_id])
            record_change(db, contact_id, "purged", None, None, source, actor, at)
        for hook in PURGE_HOOKS:
            hook(db, address, contact_id)
        added = db.execute(
            "INSERT OR IGNORE INTO suppression (hash, reason, at) VALUES (?, 'purged', ?)",
            [address_hash(address), at or now()],
        ).rowcount
    checkpointed = False
    if not db.conn.in_transaction:
        checkpointed = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    return PurgeResult(contact_id is not None, added == 1, checkpointed)
