"""The delivery ledger: one row per issue, sender and contact, in contacts.db.

A row moves queued → sending → sent | failed | skipped. ``sending`` is
committed before a message is handed to the sender and ``sent`` only after
the server accepted it, so a crash leaves at most one row per connection in
``sending``; the next run turns those into ``uncertain``, which are resent
only on request. ``skipped`` records a contact who unsubscribed, bounced,
left or was suppressed after the snapshot. Rows are kept per issue *and*
sender, so a rehearsal into the outbox never blocks the real send.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now, writing
from newsletter.store.contacts import address_hash, is_suppressed

STATUSES = ("queued", "sending", "sent", "failed", "uncertain", "skipped")

migrations = Migrations("newsletter.ledger")


@migrations()
def m001_deliveries(db: Database) -> None:
    # No foreign key to contacts: a purged contact's row must survive, minus the address.
    db.execute(
        """
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            issue TEXT NOT NULL,
            sender TEXT NOT NULL,
            contact_id INTEGER NOT NULL,
            email TEXT,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                ('queued', 'sending', 'sent', 'failed', 'uncertain', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            reply TEXT,
            message_id TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (issue, sender, contact_id)
        )"""
    )
    # Bounce processing looks a message up by Message-ID, whichever sender sent it,
    # or by contact. No index includes status or a timestamp: those change with
    # every message, and keeping such an index current halved the send rate.
    db.execute("CREATE INDEX idx_deliveries_message_id ON deliveries(message_id)")
    db.execute("CREATE INDEX idx_deliveries_contact ON deliveries(contact_id)")


@migrations()
def m002_deliveries_indexes(db: Database) -> None:
    # Databases made before m001 settled (the shipped sample among them) carry two
    # indexes m001 no longer makes, each rewritten on every status change, and lack
    # the contact index: bring them to the same set as a new database.
    db.execute("DROP INDEX IF EXISTS idx_deliveries_todo")
    db.execute("DROP INDEX IF EXISTS idx_deliveries_sent_at")
    db.execute("CREATE INDEX IF NOT EXISTS idx_deliveries_contact ON deliveries(contact_id)")


@dataclass(frozen=True)
class Delivery:
    id: int
    issue: str
    sender: str
    contact_id: int
    email: str | None
    status: str
    attempts: int
    last_error: str | None
    reply: str | None
    message_id: str
    queued_at: str
    updated_at: str
    sent_at: str | None


_COLUMNS = (
    "id, issue, sender, contact_id, email, status, attempts, last_error, reply, message_id,"
    " queued_at, updated_at, sent_at"
)


def has_snapshot(db: Database, issue: str, sender: str) -> bool:
    sql = "SELECT 1 FROM deliveries WHERE issue = ? AND sender = ? LIMIT 1"
    return db.execute(sql, [issue, sender]).fetchone() is not None


def _recipients(columns: str, audience: Sequence[int] | None = None) -> tuple[str, list[str]]:
    """Who gets a mailing, with its arguments: every subscribed contact, in id order;
    for a mailing to some (``audience``: a directory round, a welcome), those of them.

    The one place this rule is written: the snapshot, the dry run's count and
    its sample message all ask here.
    """
    if audience is None:
        return f"SELECT {columns} FROM contacts WHERE status = 'subscribed' ORDER BY id", []
    return (
        f"SELECT {columns} FROM contacts WHERE status = 'subscribed'"
        " AND id IN (SELECT value FROM json_each(?)) ORDER BY id",
        [json.dumps(list(audience))],
    )


def count_recipients(db: Database, audience: Sequence[int] | None = None) -> int:
    """How many contacts would get a mailing if its snapshot were taken now."""
    sql, args = _recipients("id", audience)
    return db.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0]


def first_recipient(
    db: Database, audience: Sequence[int] | None = None
) -> tuple[int, str, str, bool] | None:
    """(contact id, address, name, listed) of the first contact who would get a mailing."""
    sql, args = _recipients("id, email, coalesce(name, ''), coalesce(listed, 0) = 1", audience)
    row = db.execute(sql + " LIMIT 1", args).fetchone()
    return (row[0], row[1], row[2], bool(row[3])) if row else None


def snapshot(
    db: Database,
    issue: str,
    sender: str,
    label: str,
    domain: str,
    audience: Sequence[int] | None = None,
) -> int:
    """Queue every recipient, once per issue and sender; the count queued.

    Taken on the first run only: a resumed send keeps its original recipients.
    A mailing to some (``audience``) queues those of them not queued before, on
    every run: the UNIQUE (issue, sender, contact) row is what makes it once.
    Each row gets its Message-ID now (``<label.RANDOM@domain>``), so a retry
    reuses it and receivers can recognise a duplicate.
    """
    with writing(db):
        if audience is None and has_snapshot(db, issue, sender):
            return 0
        at = now()
        sql, args = _recipients("id, email", audience)
        return db.execute(
            "INSERT OR IGNORE INTO deliveries (issue, sender, contact_id, email, status,"
            " message_id, queued_at, updated_at)"
            " SELECT ?, ?, id, email, 'queued',"
            " '<' || ? || '.' || lower(hex(randomblob(8))) || '@' || ? || '>', ?, ?"
            f" FROM ({sql})",
            [issue, sender, label, domain, at, at, *args],
        ).rowcount


def addressed(db: Database, issue: str, sender: str) -> set[int]:
    """The contacts a mailing is already for: a row via ``sender`` (any status), or a
    message that went (or may have gone) via any sender that delivers."""
    rows = db.execute(
        "SELECT DISTINCT contact_id FROM deliveries WHERE issue = ? AND (sender = ?"
        " OR (sender != ? AND status IN ('sent', 'sending', 'uncertain')))",
        [issue, sender, REHEARSAL],
    )
    return {row[0] for row in rows}


def latest_open(db: Database, prefix: str, sender: str) -> str | None:
    """The latest mailing whose key starts with ``prefix`` that still has messages
    queued or in flight via ``sender``: a run stopped half-way, to resume."""
    row = db.execute(
        "SELECT max(issue) FROM deliveries WHERE substr(issue, 1, ?) = ? AND sender = ?"
        " AND status IN ('queued', 'sending')",
        [len(prefix), prefix, sender],
    ).fetchone()
    return row[0] if row else None


def counts(db: Database, issue: str) -> dict[str, dict[str, int]]:
    """{sender: {status: count}} for one issue, every status present."""
    out: dict[str, dict[str, int]] = {}
    sql = "SELECT sender, status, count(*) FROM deliveries WHERE issue = ? GROUP BY 1, 2"
    for sender, status, n in db.execute(sql, [issue]):
        out.setdefault(sender, dict.fromkeys(STATUSES, 0))[status] = n
    return dict(sorted(out.items()))


def send_window(db: Database, issue: str, sender: str | None = None) -> tuple[str, str] | None:
    """(first, last) time a message of the issue was accepted (``sender``'s only when
    given), or None when none was."""
    sql = (
        "SELECT min(sent_at), max(sent_at) FROM deliveries WHERE issue = ? AND status = 'sent'"
        " AND (? IS NULL OR sender = ?)"
    )
    first, last = db.execute(sql, [issue, sender, sender]).fetchone()
    return (first, last) if first else None


def rows(db: Database, issue: str, sender: str, statuses: tuple[str, ...]) -> list[Delivery]:
    marks = ", ".join("?" * len(statuses))
    sql = (
        f"SELECT {_COLUMNS} FROM deliveries WHERE issue = ? AND sender = ?"
        f" AND status IN ({marks}) ORDER BY id"
    )
    return [Delivery(*row) for row in db.execute(sql, [issue, sender, *statuses])]


def find_message(db: Database, message_id: str) -> Delivery | None:
    """The delivery with this Message-ID (angle brackets optional), for bounce processing."""
    mid = message_id.strip()
    mid = mid if mid.startswith("<") else f"<{mid}>"
    row = db.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE message_id = ?", [mid]).fetchone()
    return Delivery(*row) if row else None


def recover(db: Database, issue: str, sender: str) -> int:
    """Rows a crash left in ``sending`` become ``uncertain``; the count."""
    return db.execute(
        "UPDATE deliveries SET status = 'uncertain', updated_at = ?, last_error = "
        "'the send stopped while this message was being handed over; it may have arrived'"
        " WHERE issue = ? AND sender = ? AND status = 'sending'",
        [now(), issue, sender],
    ).rowcount


def requeue(db: Database, issue: str, sender: str, statuses: tuple[str, ...]) -> int:
    marks = ", ".join("?" * len(statuses))
    return db.execute(
        f"UPDATE deliveries SET status = 'queued', updated_at = ?"
        f" WHERE issue = ? AND sender = ? AND status IN ({marks})",
        [now(), issue, sender, *statuses],
    ).rowcount


@dataclass(frozen=True)
class Queued:
    """A queued row as the send run claims it: the address as snapshotted, the name as now."""

    id: int
    contact_id: int
    message_id: str
    attempts: int
    email: str
    name: str | None
    listed: bool = False  # a listed focal point: their copy links the members' directory
    organisation: int | None = None  # the contact's organisation now (its row id), if any


def queued(db: Database, issue: str, sender: str, after_id: int, limit: int) -> list[Queued]:
    """The next queued rows after ``after_id``, in id order."""
    # NOT INDEXED: walk the rowid range from after_id, rows of one snapshot are
    # contiguous, rather than sort an index scan of the whole issue per page.
    rows = db.execute(
        "SELECT d.id, d.contact_id, d.message_id, d.attempts, d.email, c.name,"
        " coalesce(c.listed, 0) = 1, c.organisation_id"
        " FROM deliveries d NOT INDEXED LEFT JOIN contacts c ON c.id = d.contact_id"
        " WHERE d.issue = ? AND d.sender = ? AND d.status = 'queued' AND d.id > ?"
        " ORDER BY d.id LIMIT ?",
        [issue, sender, after_id, limit],
    )
    return [Queued(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7]) for r in rows]


def organisations_of_at_least(db: Database, issue: str, sender: str, size: int) -> list[int]:
    """The organisations (row ids) with at least ``size`` recipients of ``issue`` via
    ``sender`` (its snapshot: a row in any status), by the organisation each has now."""
    rows = db.execute(
        "SELECT c.organisation_id FROM deliveries d JOIN contacts c ON c.id = d.contact_id"
        " WHERE d.issue = ? AND d.sender = ? AND c.organisation_id IS NOT NULL"
        " GROUP BY c.organisation_id HAVING count(DISTINCT d.contact_id) >= ?"
        " ORDER BY c.organisation_id",
        [issue, sender, size],
    )
    return [row[0] for row in rows]


def count(db: Database, issue: str, sender: str, status: str) -> int:
    sql = "SELECT count(*) FROM deliveries WHERE issue = ? AND sender = ? AND status = ?"
    return db.execute(sql, [issue, sender, status]).fetchone()[0]


def latest_issue(db: Database, contact_id: int) -> str | None:
    """The issue this contact was most recently sent (or queued for), if any."""
    row = db.execute(
        "SELECT issue FROM deliveries WHERE contact_id = ? AND status != 'skipped'"
        " ORDER BY coalesce(sent_at, queued_at) DESC, id DESC LIMIT 1",
        [contact_id],
    ).fetchone()
    return row[0] if row else None


def issues_of(db: Database, contact_id: int) -> list[str]:
    """Every issue this contact has a delivery row for, most recent first."""
    rows = db.execute(
        "SELECT issue FROM deliveries WHERE contact_id = ?"
        " GROUP BY issue ORDER BY max(coalesce(sent_at, queued_at)) DESC, issue",
        [contact_id],
    )
    return [row[0] for row in rows]


# The sender that only writes files (a rehearsal): its rows are not a real send.
REHEARSAL = "outbox"


def send_finished(db: Database, issue: str) -> str | None:
    """When the last message of ``issue``'s real send was accepted; None if none was.

    Rehearsals into the outbox do not count: nobody received those.
    """
    sql = "SELECT max(sent_at) FROM deliveries WHERE issue = ? AND sender != ? AND status = 'sent'"
    return db.execute(sql, [issue, REHEARSAL]).fetchone()[0]


def sent_since(db: Database, sender: str, since: str) -> list[str]:
    """When this sender's messages were accepted since ``since``, for the hourly cap."""
    sql = "SELECT sent_at FROM deliveries WHERE sender = ? AND sent_at >= ? ORDER BY sent_at"
    return [row[0] for row in db.execute(sql, [sender, since])]


# The run's per-message statements. CLAIM checks consent and suppression in the
# same statement that marks the row, just before the message goes: one statement
# per message keeps a send fast.
_CLAIM = (
    "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated_at = ?"
    " WHERE id = ? AND status = 'queued'"
    " AND EXISTS (SELECT 1 FROM contacts WHERE id = ? AND email = ? AND status = 'subscribed')"
    " AND NOT EXISTS (SELECT 1 FROM suppression WHERE hash = ?)"
)
_MARK_SENDING = (
    "UPDATE deliveries SET status = 'sending', email = ?, attempts = attempts + 1,"
    " updated_at = ? WHERE id = ? AND status = 'queued'"
)
_MARK_DONE = (
    "UPDATE deliveries SET status = ?, last_error = ?, reply = ?, updated_at = ?,"
    " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?"
)
_MARK_SKIPPED = (
    "UPDATE deliveries SET status = 'skipped', last_error = ?, updated_at = ?"
    " WHERE id = ? AND status = 'queued'"
)


@dataclass(frozen=True)
class Claim:
    """What claiming a queued row gave: the row to send, or why it was skipped."""

    row: Queued | None  # to send now (its address as it is now); None: not to be sent
    skipped: str = ""  # set when this call marked the row skipped: why


def claim(db: Database, row: Queued, at: str) -> Claim:
    """Mark ``row`` sending if its contact is still subscribed and not suppressed.

    A contact whose address changed since the snapshot is mailed at the new one.
    The caller holds the transaction.
    """
    args = [at, row.id, row.contact_id, row.email, address_hash(row.email or "")]
    if db.conn.execute(_CLAIM, args).rowcount:
        return Claim(row)
    # The rare cases, worked out one by one: skipped, or a changed address.
    found = db.conn.execute(
        "SELECT email, name, status FROM contacts WHERE id = ?", [row.contact_id]
    ).fetchone()
    reason = "the contact was deleted" if found is None else ""
    if found and found[2] != "subscribed":
        reason = f"the contact is {found[2]}"
    elif found and is_suppressed(db, found[0]):
        reason = "the address is on the suppression list"
    if reason:
        marked = db.conn.execute(_MARK_SKIPPED, [reason, at, row.id]).rowcount
        return Claim(None, reason if marked else "")
    if not db.conn.execute(_MARK_SENDING, [found[0], at, row.id]).rowcount:
        return Claim(None)  # no longer queued: changed by someone else
    return Claim(replace(row, email=found[0], name=found[1]))


def mark_done(
    db: Database, row_id: int, status: str, error: str | None, reply: str | None, at: str
) -> None:
    """Record what became of one message (``queued`` again for a retry)."""
    db.conn.execute(_MARK_DONE, [status, error, reply, at, status, at, row_id])


def forget_address(db: Database, address: str, contact_id: int | None) -> None:
    """Purge step: erase the address from the ledger, keep the counts."""
    db.execute(
        "UPDATE deliveries SET email = NULL, last_error = replace(last_error, ?, '(erased)'),"
        " reply = replace(reply, ?, '(erased)') WHERE email = ? OR contact_id = ?",
        [address, address, address, contact_id if contact_id is not None else -1],
    )
