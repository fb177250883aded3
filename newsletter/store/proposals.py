"""Proposed changes to the directory: kept until an editor approves or rejects them.

A proposal never touches a contact by itself; ``directory.proposals`` applies an
approved one through the contact rules. ``propose`` is the one way in, for every
source: the self-service pages, a departure notice read by ``returns``, a steward.
Rows are kept after the decision, with who decided, when and why, so the queue is
its own history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now, writing
from newsletter.store.contacts import get_contact

migrations = Migrations("newsletter.proposals")


@migrations()
def m001_proposals(db: Database) -> None:
    db.table("proposals").create(
        {
            "id": int,
            "contact_id": int,
            "organisation": str,
            "kind": str,
            "fields": str,
            "source": str,
            "created_at": str,
            "state": str,
            "decided_at": str,
            "reason": str,
            "actor": str,
        },
        pk="id",
        not_null={"kind", "fields", "source", "created_at", "state"},
        defaults={"state": "pending", "fields": "{}"},
    )
    db.table("proposals").create_index(["state"])
    db.table("proposals").create_index(["contact_id"])


@migrations()
def m002_proposed_by(db: Database) -> None:
    # Who proposed it, when a person did through their link: themselves, or
    # their organisation's steward. None for an auto-reply, a sync, an editor.
    db.table("proposals").add_column("proposed_by", int)


@dataclass(frozen=True)
class Proposal:
    """One proposed change as stored."""

    id: int
    contact_id: int | None
    organisation: str
    kind: str
    fields: dict[str, str]
    source: str
    created_at: str
    state: str
    decided_at: str
    reason: str
    actor: str
    proposed_by: int | None = None


_SELECT = (
    "SELECT id, contact_id, coalesce(organisation, ''), kind, fields, source, created_at,"
    " state, coalesce(decided_at, ''), coalesce(reason, ''), coalesce(actor, ''), proposed_by"
    " FROM proposals"
)


def _proposal(row: tuple[Any, ...]) -> Proposal:
    values = list(row)
    values[4] = json.loads(values[4])
    return Proposal(*values)


def add_proposal(
    db: Database,
    contact_id: int | None,
    organisation: str,
    kind: str,
    fields: dict[str, str],
    source: str,
    at: str | None = None,
    proposed_by: int | None = None,
) -> int:
    """Insert one pending proposal; the caller holds the transaction. Its id."""
    cursor = db.execute(
        "INSERT INTO proposals (contact_id, organisation, kind, fields, source, created_at,"
        " proposed_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            contact_id,
            organisation,
            kind,
            json.dumps(fields, sort_keys=True),
            source,
            at or now(),
            proposed_by,
        ],
    )
    assert cursor.lastrowid is not None  # sqlite3 sets it on every INSERT
    return cursor.lastrowid


def get_proposals(db: Database, ids: list[int]) -> dict[int, Proposal]:
    """The stored proposals among ``ids``, by id."""
    marks = ", ".join("?" * len(ids))
    rows = db.execute(f"{_SELECT} WHERE id IN ({marks})", ids).fetchall() if ids else []
    return {row[0]: _proposal(row) for row in rows}


def pending_proposals(db: Database) -> list[Proposal]:
    """Every pending proposal, oldest first."""
    rows = db.execute(f"{_SELECT} WHERE state = 'pending' ORDER BY id").fetchall()
    return [_proposal(row) for row in rows]


def decide(db: Database, proposal_id: int, state: str, reason: str, actor: str, at: str) -> None:
    """Record the decision on a pending proposal; the caller holds the transaction."""
    db.execute(
        "UPDATE proposals SET state = ?, reason = ?, actor = ?, decided_at = ?"
        " WHERE id = ? AND state = 'pending'",
        [state, reason, actor, at, proposal_id],
    )


def set_confirmed(db: Database, contact_id: int, at: str) -> str | None:
    """Set a contact's ``confirmed_at``; the value it had before."""
    row = db.execute("SELECT confirmed_at FROM contacts WHERE id = ?", [contact_id]).fetchone()
    db.execute("UPDATE contacts SET confirmed_at = ? WHERE id = ?", [at, contact_id])
    return row[0] if row else None


def confirmed_at(db: Database, contact_id: int) -> str:
    """When the contact last confirmed their entry; "" if never (or no such contact)."""
    row = db.execute("SELECT confirmed_at FROM contacts WHERE id = ?", [contact_id]).fetchone()
    return (row[0] or "") if row else ""


def pending_about(db: Database, contact_id: int) -> list[Proposal]:
    """The pending proposals about ``contact_id``, oldest first."""
    rows = db.execute(
        f"{_SELECT} WHERE state = 'pending' AND contact_id = ? ORDER BY id", [contact_id]
    ).fetchall()
    return [_proposal(row) for row in rows]


def pending_new(db: Database, organisation: str) -> list[Proposal]:
    """The pending proposals of a new person for ``organisation``, oldest first."""
    rows = db.execute(
        f"{_SELECT} WHERE state = 'pending' AND kind = 'new' AND contact_id IS NULL"
        " AND organisation = ? COLLATE NOCASE ORDER BY id",
        [organisation],
    ).fetchall()
    return [_proposal(row) for row in rows]


def forget_address(db: Database, address: str, contact_id: int | None) -> None:
    """Purge step: a purged person's proposals go, and so do those naming their address
    (as a whole value: "jo.bob@ilo.org" is no mention of "bob@ilo.org")."""
    db.execute(
        "DELETE FROM proposals WHERE contact_id = ? OR EXISTS (SELECT 1 FROM json_each(fields)"
        " WHERE lower(trim(json_each.value)) = lower(?))",
        [contact_id if contact_id is not None else -1, address],
    )


# -- proposing: the one rule every source goes through (self-service, auto-replies...)

KINDS = ("correct", "confirm", "left", "new")
SOURCES = ("self-service", "auto-reply", "steward", "sync", "editor")
# What a correction may change: the fields a focal point sees on their entry.
CORRECTABLE = ("name", "job_title", "phone", "city", "email")
# What a successor ("new") may carry.
NEW_FIELDS = ("email", "name", "job_title", "phone", "city", "country")
# What a departure ("left") may carry: the successor it names, if any. Approving
# it hands the seat to them (directory.proposals).
SUCCESSOR_FIELDS = ("successor_email", "successor_name", "successor_job_title")


def propose(
    db: Database,
    kind: str,
    source: str,
    contact_id: int | None = None,
    organisation: str = "",
    fields: dict[str, str] | None = None,
    proposed_by: int | None = None,
) -> int:
    """Queue one proposed change; its id. Raises ValueError on a caller's mistake."""
    fields = dict(fields or {})
    if kind not in KINDS or source not in SOURCES:
        raise ValueError(f"kind {kind!r} or source {source!r} is not one of {KINDS}/{SOURCES}")
    allowed = {"new": NEW_FIELDS, "correct": CORRECTABLE, "left": SUCCESSOR_FIELDS}.get(kind, ())
    if unknown := sorted(set(fields) - set(allowed)):
        raise ValueError(f"a {kind!r} proposal cannot carry {unknown}")
    if (contact_id is None) != (kind == "new"):
        raise ValueError("a 'new' proposal names no contact; every other kind names one")
    if kind == "new" and not fields.get("email"):
        raise ValueError("a 'new' proposal needs the successor's email")
    if kind == "left" and fields and not fields.get("successor_email"):
        raise ValueError("a successor named in a 'left' proposal needs their email")
    with writing(db):
        if contact_id is not None:
            contact = get_contact(db, contact_id)
            if contact is None:
                raise ValueError(f"no contact {contact_id}")
            organisation = organisation or contact.organisation
        return add_proposal(
            db, contact_id, organisation, kind, fields, source, proposed_by=proposed_by
        )
