"""Erase a person on request: their contact row and history values go, hashes stay.

The hashes on the suppression list (of the address asked for and of every
address the contact had before) keep them from being imported, synced or
added again. ``secure_delete`` zeroes the freed bytes and the WAL
checkpoint moves those pages into the main file, so the address is gone from
disk, not only from query results.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.store.base import Database, now, writing
from newsletter.store.contacts import address_hash, record_change
from newsletter.store.database import PURGE_STEPS


@dataclass(frozen=True)
class PurgeResult:
    found: bool  # a contact row was erased
    newly_suppressed: bool  # False when the address was already on the list
    checkpointed: bool  # False when another process kept old pages in the WAL


def purge(
    db: Database,
    email: str,
    source: str = "manual",
    actor: str | None = None,
    at: str | None = None,
) -> PurgeResult:
    """Erase a person's data, keeping only the hashes of their addresses on the suppression list."""
    address = email.strip().lower()
    db.execute("PRAGMA secure_delete = ON")
    with writing(db):
        row = db.execute(
            "SELECT id FROM contacts WHERE email = ? COLLATE NOCASE", [address]
        ).fetchone()
        contact_id = row[0] if row else None
        addresses = [address]
        if contact_id is not None:
            # Every address the person had (contacts edit --email) is theirs
            # too: an old list must not bring them back under a former one.
            addresses += [a for a in former_addresses(db, contact_id) if a != address]
            db.execute(
                "UPDATE history SET old = NULL, new = NULL WHERE contact_id = ?", [contact_id]
            )
            db.execute("DELETE FROM contacts WHERE id = ?", [contact_id])
            record_change(db, contact_id, "purged", None, None, source, actor, at)
        for each in addresses:
            for step in PURGE_STEPS:
                step(db, each, contact_id)
        stamp = at or now()
        added = [
            db.execute(
                "INSERT OR IGNORE INTO suppression (hash, reason, at) VALUES (?, 'purged', ?)",
                [address_hash(each), stamp],
            ).rowcount
            for each in addresses
        ]
    checkpointed = False
    if not db.conn.in_transaction:
        checkpointed = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    return PurgeResult(contact_id is not None, added[0] == 1, checkpointed)


def former_addresses(db: Database, contact_id: int) -> list[str]:
    """The addresses a contact was created with or changed from/to, from its history."""
    sql = (
        "SELECT new FROM history WHERE contact_id = ? AND field IN ('created', 'email')"
        " UNION SELECT old FROM history WHERE contact_id = ? AND field = 'email'"
    )
    rows = db.execute(sql, [contact_id, contact_id])
    return sorted({str(value).strip().lower() for (value,) in rows if value})
