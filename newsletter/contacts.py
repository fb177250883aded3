"""The focal-point directory store: contacts, organisations, history, suppression.

Every change to a contact goes through ``record_change`` so the history table
is complete; the directory's "new / updated / left" badges are read from it.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlite_utils
from sqlite_utils.migrations import Migrations

STATUSES = ("subscribed", "unsubscribed", "bounced", "left")

migrations = Migrations("newsletter.contacts")


@migrations()
def m001_contacts(db: sqlite_utils.Database) -> None:
    db["organisations"].create(
        {"id": int, "name": str, "acronym": str, "website": str}, pk="id", not_null={"name"}
    )
    db["organisations"].create_index(["name"], unique=True)
    db["contacts"].create(
        {
            "id": int, "email": str, "name": str, "organisation_id": int, "job_title": str,
            "country": str, "city": str, "phone": str, "topics": str, "listed": int,
            "status": str, "source": str, "created_at": str, "updated_at": str,
        },
        pk="id",
        not_null={"email", "status"},
        defaults={"listed": 1, "status": "subscribed", "source": "manual"},
        foreign_keys=[("organisation_id", "organisations", "id")],
    )  # fmt: skip
    # Emails are stored normalised (lower-cased), and the index is NOCASE as a
    # second guard so two spellings of one address can never both exist.
    db.execute("CREATE UNIQUE INDEX idx_contacts_email ON contacts(email COLLATE NOCASE)")
    db["history"].create(
        {
            "id": int, "contact_id": int, "field": str, "old": str, "new": str,
            "at": str, "source": str, "actor": str,
        },
        pk="id",
    )  # fmt: skip
    db["history"].create_index(["contact_id"])
    db["history"].create_index(["at"])
    db["suppression"].create({"hash": str, "reason": str, "at": str}, pk="hash")


def now() -> str:
    """UTC timestamp as stored in every table: ISO 8601, second precision."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def address_hash(email: str) -> str:
    """The suppression key: a hash, so a purged person's address is not kept."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def is_suppressed(db: sqlite_utils.Database, email: str) -> bool:
    return bool(db.execute("SELECT 1 FROM suppression WHERE hash = ?", [address_hash(email)]).fetchone())


def record_change(
    db: sqlite_utils.Database,
    contact_id: int,
    field: str,
    old: object,
    new: object,
    source: str,
    actor: str,
    at: str | None = None,
) -> None:
    """Append one history row; callers run inside the command's transaction."""
    db["history"].insert(
        {
            "contact_id": contact_id, "field": field,
            "old": None if old is None else str(old), "new": None if new is None else str(new),
            "at": at or now(), "source": source, "actor": actor,
        }
    )  # fmt: skip
