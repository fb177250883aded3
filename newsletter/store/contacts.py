"""The focal-point directory store: contacts, organisations, history, suppression.

Every change to a contact goes through ``change_contact`` / ``record_change``
so the history table is complete; the directory's "new / updated / left"
badges are read from it. Consent only ever moves away from "subscribed" here:
``unsubscribe``, ``mark_bounced`` and ``mark_left`` never re-subscribe anyone.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlite_utils.migrations import Migrations

from newsletter.models import Contact
from newsletter.sanitize import one_line
from newsletter.store import seats
from newsletter.store.base import Database, now, writing

migrations = Migrations("newsletter.contacts")


@migrations()
def m001_contacts(db: Database) -> None:
    db.table("organisations").create(
        {"id": int, "name": str, "acronym": str, "website": str}, pk="id", not_null={"name"}
    )
    db.table("organisations").create_index(["name"], unique=True)
    db.table("contacts").create(
        {
            "id": int,
            "email": str,
            "name": str,
            "organisation_id": int,
            "job_title": str,
            "country": str,
            "city": str,
            "phone": str,
            "topics": str,
            "listed": int,
            "status": str,
            "source": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"email", "status"},
        defaults={"listed": 1, "status": "subscribed", "source": "manual"},
        foreign_keys=[("organisation_id", "organisations", "id")],
    )
    # Emails are stored normalised (lower-cased), and the index is NOCASE as a
    # second guard so two spellings of one address can never both exist.
    db.execute("CREATE UNIQUE INDEX idx_contacts_email ON contacts(email COLLATE NOCASE)")
    db.table("history").create(
        {
            "id": int,
            "contact_id": int,
            "field": str,
            "old": str,
            "new": str,
            "at": str,
            "source": str,
            "actor": str,
        },
        pk="id",
    )
    db.table("history").create_index(["contact_id"])
    db.table("history").create_index(["at"])
    db.table("suppression").create({"hash": str, "reason": str, "at": str}, pk="hash")


@migrations()
def m002_organisation_lookup(db: Database) -> None:
    # Imports match organisations without regard to case ("Unicef" is UNICEF),
    # so the uniqueness must too; the directory groups contacts by organisation.
    db.execute("DROP INDEX idx_organisations_name")
    db.execute("CREATE UNIQUE INDEX idx_organisations_name ON organisations(name COLLATE NOCASE)")
    db.table("contacts").create_index(["organisation_id"])


@migrations()
def m003_confirmed_at(db: Database) -> None:
    # When the person last said their entry is right (directory proposals).
    db.table("contacts").add_column("confirmed_at", str)


def default_actor() -> str:
    """Who is making a change, for the history: $NEWSLETTER_ACTOR or the login name."""
    try:
        return os.environ.get("NEWSLETTER_ACTOR") or getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


def address_hash(email: str) -> str:
    """The suppression key: a hash, so a purged person's address is not kept."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def is_suppressed(db: Database, email: str) -> bool:
    sql = "SELECT 1 FROM suppression WHERE hash = ?"
    return bool(db.execute(sql, [address_hash(email)]).fetchone())


def suppress(
    db: Database,
    contact: Contact,
    reason: str,
    source: str,
    actor: str | None = None,
    at: str | None = None,
) -> bool:
    """Put a contact's address on the suppression list, with a history row; False when it
    was on it already.

    The ledger checks the list just before each message, whatever the contact's
    status says, and an import or a sync never adds a suppressed address again
    (nor re-subscribes anyone), so nothing brings mail back to them.
    """
    with writing(db):
        at = at or now()
        added = db.execute(
            "INSERT OR IGNORE INTO suppression (hash, reason, at) VALUES (?, ?, ?)",
            [address_hash(contact.email), reason, at],
        ).rowcount
        if added and contact.id is not None:
            record_change(db, contact.id, "suppressed", None, reason, source, actor, at)
        return bool(added)


def history_text(value: object) -> str | None:
    """How a field value is written in the history table."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def record_change(
    db: Database,
    contact_id: int,
    field: str,
    old: object,
    new: object,
    source: str,
    actor: str | None = None,
    at: str | None = None,
) -> None:
    """Append one history row; callers run inside the command's transaction."""
    db.execute(
        "INSERT INTO history (contact_id, field, old, new, at, source, actor)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            contact_id,
            field,
            history_text(old),
            history_text(new),
            at or now(),
            source,
            actor or default_actor(),
        ],
    )


_SELECT = (
    "SELECT c.email, coalesce(c.name, ''), coalesce(o.name, ''), coalesce(c.job_title, ''),"
    " coalesce(c.country, ''), coalesce(c.city, ''), coalesce(c.phone, ''),"
    " coalesce(c.topics, ''), c.listed, c.status, coalesce(c.source, ''), c.id,"
    " coalesce(c.created_at, ''), coalesce(c.updated_at, '')"
    " FROM contacts c LEFT JOIN organisations o ON o.id = c.organisation_id"
)


def _contact(row: tuple[Any, ...]) -> Contact:
    values = list(row)
    values[8] = bool(values[8])
    return Contact(*values)


def get_contact(db: Database, who: int | str) -> Contact | None:
    """The contact with this id or (case-insensitively) this address."""
    if isinstance(who, int):
        row = db.execute(f"{_SELECT} WHERE c.id = ?", [who]).fetchone()
    else:
        row = db.execute(f"{_SELECT} WHERE c.email = ? COLLATE NOCASE", [who.strip()]).fetchone()
    return _contact(row) if row else None


def find_contacts(
    db: Database, organisation: str | None = None, status: str | None = None
) -> list[Contact]:
    """Contacts ordered by organisation, name and email; filters match case-insensitively."""
    where, params = [], []
    if organisation:
        where.append("(o.name = ? COLLATE NOCASE OR o.acronym = ? COLLATE NOCASE)")
        params += [organisation, organisation]
    if status:
        where.append("c.status = ?")
        params.append(status)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY coalesce(o.name, '') COLLATE NOCASE, c.name COLLATE NOCASE, c.email"
    return [_contact(row) for row in db.execute(sql, params)]


def contacts_by_email(db: Database, emails: Sequence[str]) -> dict[str, Contact]:
    """The stored contacts with these addresses, by lower-cased address (one query per 500)."""
    found: dict[str, Contact] = {}
    for n in range(0, len(emails), 500):
        part = emails[n : n + 500]
        sql = f"{_SELECT} WHERE c.email COLLATE NOCASE IN ({', '.join('?' * len(part))})"
        for row in db.execute(sql, part):
            contact = _contact(row)
            found[contact.email.lower()] = contact
    return found


class FirstRows:
    """The row of a file on which each address first appeared, in a temporary table.

    A million addresses take about 170 MB in a dict; SQLite's temporary
    database keeps them on disk, outside contacts.db (a dry run writes nothing
    there). One import at a time per connection; ``close`` drops the table.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS first_rows"
            " (email TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID"
        )
        db.execute("DELETE FROM temp.first_rows")

    def add(self, rows: Sequence[tuple[str, int]]) -> dict[str, int]:
        """Note (address, row) pairs, in file order; the first row of each address given."""
        self.db.conn.executemany("INSERT OR IGNORE INTO temp.first_rows VALUES (?, ?)", rows)
        emails = list({email for email, _ in rows})
        found: dict[str, int] = {}
        for n in range(0, len(emails), 500):
            part = emails[n : n + 500]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT email, line FROM temp.first_rows WHERE email IN ({marks})"
            found.update(self.db.execute(sql, part).fetchall())
        return found

    def close(self) -> None:
        self.db.execute("DROP TABLE IF EXISTS temp.first_rows")


def organisation_id(db: Database, name: str, acronym: str = "", website: str = "") -> int:
    """The organisation called ``name`` (or with that acronym), created if missing."""
    row = db.execute(
        "SELECT id FROM organisations WHERE name = ? COLLATE NOCASE"
        " OR (acronym = ? COLLATE NOCASE AND acronym != '') ORDER BY name = ? COLLATE NOCASE DESC",
        [name, name, name],
    ).fetchone()
    if row:
        return row[0]
    cursor = db.execute(
        "INSERT INTO organisations (name, acronym, website) VALUES (?, ?, ?)",
        [name, acronym or None, website or None],
    )
    assert cursor.lastrowid is not None  # sqlite3 sets it on every INSERT
    return cursor.lastrowid


def change_contact(
    db: Database,
    contact: Contact,
    changes: Mapping[str, object],
    source: str,
    actor: str | None = None,
    at: str | None = None,
) -> Contact:
    """Apply the fields that differ, one history row each; the caller holds the transaction."""
    diffs = {f: v for f, v in changes.items() if getattr(contact, f) != v}
    if not diffs or contact.id is None:
        return contact
    at = at or now()
    row: dict[str, object] = {"updated_at": at, "source": source}
    for field, value in diffs.items():
        if field == "organisation":
            row["organisation_id"] = organisation_id(db, str(value)) if value else None
        else:
            row[field] = int(value) if isinstance(value, bool) else value
    db.table("contacts").update(contact.id, row)
    for field, value in diffs.items():
        record_change(db, contact.id, field, getattr(contact, field), value, source, actor, at)
    if {"organisation", "status", "listed"} & set(diffs):
        seats.settle(db, contact.id, at, source)
    return replace(contact, **diffs, source=source, updated_at=at)  # type: ignore[arg-type]  # callers pass values checked for their field (contacts.fields.ROW)


def next_contact_id(db: Database) -> int:
    """A contact id never used before, even by a purged contact.

    SQLite would reuse the id of a deleted last row; the history (and the
    delivery ledger, and unsubscribe tokens) still refer to it, so a new person
    must not inherit it. A purge always leaves a history row with the id.
    """
    row = db.execute(
        "SELECT max(coalesce((SELECT max(id) FROM contacts), 0),"
        " coalesce((SELECT max(contact_id) FROM history), 0))"
    ).fetchone()
    return row[0] + 1


def create_contact(
    db: Database,
    contact: Contact,
    source: str,
    actor: str | None = None,
    at: str | None = None,
) -> Contact:
    """Insert a new contact and its "created" history row."""
    at = at or now()
    org_id = organisation_id(db, contact.organisation) if contact.organisation else None
    new_id = next_contact_id(db)
    db.execute(
        "INSERT INTO contacts (id, email, name, organisation_id, job_title, country, city, phone,"
        " topics, listed, status, source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            new_id,
            contact.email,
            contact.name,
            org_id,
            contact.job_title,
            contact.country,
            contact.city,
            contact.phone,
            contact.topics,
            int(contact.listed),
            contact.status,
            source,
            at,
            at,
        ],
    )
    record_change(db, new_id, "created", None, contact.email, source, actor, at)
    seats.settle(db, new_id, at, source)
    return replace(contact, id=new_id, source=source, created_at=at, updated_at=at)


def _set_status(
    db: Database,
    who: int | str,
    status: str,
    allowed_from: tuple[str, ...],
    source: str,
    actor: str | None,
    at: str | None,
) -> bool:
    with writing(db):
        contact = get_contact(db, who)
        if contact is None or contact.status not in allowed_from:
            return False
        change_contact(db, contact, {"status": status}, source, actor, at)
        return True


def unsubscribe(
    db: Database,
    who: int | str,
    source: str = "manual",
    actor: str | None = None,
    at: str | None = None,
) -> bool:
    """Mark a contact (id or email) unsubscribed; False when unknown or already so."""
    return _set_status(
        db, who, "unsubscribed", ("subscribed", "bounced", "left"), source, actor, at
    )


def unsubscribe_by_link(
    db: Database, contact_id: int, issue_id: str, at: str | None = None
) -> bool:
    """The recipient's own unsubscribe, through the signed link in ``issue_id``."""
    return unsubscribe(
        db, contact_id, source=f"unsubscribe-link:{issue_id}", actor="recipient", at=at
    )


def unlist_by_link(db: Database, contact_id: int, issue_id: str, at: str | None = None) -> bool:
    """The person's own request, through their link in ``issue_id``, to leave the directory.

    Only ``listed`` changes (one history row, by "recipient"): whether they get
    the newsletter is a separate choice. False when unknown or already unlisted.
    """
    with writing(db):
        contact = get_contact(db, contact_id)
        if contact is None or not contact.listed:
            return False
        source = f"directory-link:{issue_id}"
        change_contact(db, contact, {"listed": False}, source, "recipient", at)
        return True


def asked_unlisted(db: Database, contact: Contact) -> bool:
    """Whether ``contact`` is unlisted because they asked (``unlist_by_link``), not an editor.

    An import or a sync never lists them again, as none re-subscribes anyone.
    """
    if contact.listed or contact.id is None:
        return False
    row = db.execute(
        "SELECT actor FROM history WHERE contact_id = ? AND field = 'listed'"
        " ORDER BY id DESC LIMIT 1",
        [contact.id],
    ).fetchone()
    return row is not None and row[0] == "recipient"


def mark_bounced(
    db: Database,
    email: str,
    source: str = "send",
    actor: str | None = None,
    at: str | None = None,
) -> bool:
    """Mark a subscribed address bounced; other statuses are stronger and are kept."""
    return _set_status(db, email, "bounced", ("subscribed",), source, actor, at)


def mark_left(
    db: Database,
    who: int | str,
    source: str = "manual",
    actor: str | None = None,
    at: str | None = None,
) -> bool:
    """Mark a contact as having left the role; the record and its history stay."""
    return _set_status(
        db, who, "left", ("subscribed", "bounced", "unsubscribed"), source, actor, at
    )


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    field: str
    old: str | None
    new: str | None
    source: str
    actor: str


def history(db: Database, contact_id: int) -> list[HistoryEntry]:
    sql = "SELECT at, field, old, new, source, actor FROM history WHERE contact_id = ? ORDER BY id"
    return [HistoryEntry(*row) for row in db.execute(sql, [contact_id])]


def created_by(db: Database, prefix: str) -> list[int]:
    """The contacts whose "created" history row has a source starting with ``prefix``
    (``proposal:``: added by an approved proposal), in id order."""
    rows = db.execute(
        "SELECT DISTINCT contact_id FROM history WHERE field = 'created'"
        " AND substr(source, 1, ?) = ? ORDER BY 1",
        [len(prefix), prefix],
    )
    return [row[0] for row in rows]


def created_from(db: Database, sources: Sequence[str]) -> list[int]:
    """The contacts whose "created" history row has exactly one of ``sources``, in id order."""
    marks = ", ".join("?" * len(sources))
    rows = db.execute(
        f"SELECT DISTINCT contact_id FROM history WHERE field = 'created' AND source IN ({marks})"
        " ORDER BY 1",
        list(sources),
    )
    return [row[0] for row in rows] if sources else []


def canonical_organisation(db: Database, name: str) -> str:
    """The stored name of the organisation called (or abbreviated) ``name``, else ``name``."""
    row = db.execute(
        "SELECT name FROM organisations WHERE name = ? COLLATE NOCASE OR acronym = ? COLLATE NOCASE"
        " ORDER BY name = ? COLLATE NOCASE DESC",
        [name, name, name],
    ).fetchone()
    return row[0] if row else name


def organisation_key(db: Database, name: str) -> str:
    """One key per organisation however a contribution writes it: the directory's name
    (or the one its acronym stands for), case folded; "" for none. The tracker and the
    reminder match organisations by it, on the name as stored: never cut or stripped
    of a ZWNJ first, or a long or Persian name would miss its own organisation."""
    text = name.strip()
    if not one_line(text):  # nothing visible: no organisation at all
        return ""
    return canonical_organisation(db, text).casefold()


def organisation_names(db: Database) -> list[tuple[str, str | None]]:
    """(name, acronym) of every organisation, for matching names in a list."""
    return db.execute("SELECT name, acronym FROM organisations").fetchall()


def suppressed_hashes(db: Database) -> set[str]:
    return {row[0] for row in db.execute("SELECT hash FROM suppression")}


def all_addresses(db: Database) -> list[str]:
    """Every stored address, to check that none leaks into a public page."""
    return [row[0] for row in db.execute("SELECT email FROM contacts")]


def add_organisations(db: Database, organisations: Iterable[tuple[str, str, str]]) -> None:
    """Create each (name, acronym, website) unless it exists."""
    for name, acronym, website in organisations:
        organisation_id(db, name, acronym, website)


def create_contacts(
    db: Database, contacts: Iterable[Contact], source: str, actor: str, at: str
) -> None:
    """Insert many new contacts and their "created" history rows; the caller holds the lock.

    Bulk statements: a 100,000-row import would spend most of its time in
    per-row round trips otherwise. The new rows are exactly the ids from the
    first free one up, as the caller's transaction holds the write lock.
    """
    org_ids = {
        name.casefold(): id_ for id_, name in db.execute("SELECT id, name FROM organisations")
    }
    first = next_contact_id(db)
    rows = [
        (
            n,
            c.email,
            c.name,
            org_ids.get(c.organisation.casefold()),
            c.job_title,
            c.country,
            c.city,
            c.phone,
            c.topics,
            int(c.listed),
            c.status,
            source,
            at,
            at,
        )
        for n, c in enumerate(contacts, first)
    ]
    db.conn.executemany(
        "INSERT INTO contacts (id, email, name, organisation_id, job_title, country, city, phone,"
        " topics, listed, status, source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute(
        "INSERT INTO history (contact_id, field, new, at, source, actor)"
        " SELECT id, 'created', email, ?, ?, ? FROM contacts WHERE id >= ? ORDER BY id",
        [at, source, actor, first],
    )
    seats.settle_from(db, first, at, source)


# -- what the directory section reads -----------------------------------------


@dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    acronym: str
    website: str


@dataclass(frozen=True)
class Listed:
    """A contact the directory shows: listed, and subscribed or unsubscribed.

    Unsubscribing stops the mail, not the listing: a focal point who asked for
    no more email (or complained about it) still holds the role. Leaving the
    directory is its own choice, ``listed``.
    """

    id: int
    organisation_id: int | None
    name: str
    job_title: str
    email: str
    phone: str
    city: str
    country: str
    # When the entry was last confirmed (``confirmed_at``), or else created: ISO 8601.
    confirmed: str = ""
    never_confirmed: bool = False  # ``confirmed`` is then when it was created


@dataclass(frozen=True)
class Change:
    """One history row, as the directory reads it."""

    contact_id: int
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Gone:
    """A listed contact who left or bounced."""

    id: int
    name: str
    organisation: str
    status: str


def organisations(db: Database) -> list[Organisation]:
    rows = db.execute(
        "SELECT id, name, coalesce(acronym, ''), coalesce(website, '') FROM organisations"
    )
    return [Organisation(*row) for row in rows]


def listed_contacts(db: Database) -> list[Listed]:
    rows = db.execute(
        "SELECT id, organisation_id, coalesce(name, ''), coalesce(job_title, ''), email,"
        " coalesce(phone, ''), coalesce(city, ''), coalesce(country, ''),"
        " coalesce(confirmed_at, created_at, ''), confirmed_at IS NULL"
        " FROM contacts WHERE listed = 1 AND status IN ('subscribed', 'unsubscribed')"
    )
    return [Listed(*row) for row in rows]


def changes_between(db: Database, start: str, end: str) -> list[Change]:
    """History rows with ``start <= at < end``, in the order they were written."""
    sql = "SELECT contact_id, field, old, new FROM history WHERE at >= ? AND at < ? ORDER BY id"
    return [Change(*row) for row in db.execute(sql, [start, end])]


def gone(db: Database, recent: Iterable[int]) -> list[Gone]:
    """Listed contacts who bounced, and those of ``recent`` who left or bounced."""
    ids = sorted(set(recent))
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        "SELECT c.id, coalesce(c.name, ''), coalesce(o.name, ''), c.status FROM contacts c"
        " LEFT JOIN organisations o ON o.id = c.organisation_id WHERE c.listed = 1 AND"
        f" (c.status = 'bounced' OR (c.id IN ({marks}) AND c.status IN ('left', 'bounced')))",
        ids,
    )
    return [Gone(*row) for row in rows]


def first_added(db: Database) -> dict[int, str]:
    """When each organisation's first contact was added (``created_at``), by its row id:
    the contribution tracker counts no issue against an organisation that was not
    in the directory yet."""
    rows = db.execute(
        "SELECT organisation_id, min(created_at) FROM contacts"
        " WHERE organisation_id IS NOT NULL GROUP BY organisation_id"
    )
    return {org_id: at or "" for org_id, at in rows}
