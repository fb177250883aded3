"""Import a contact list: validate every row, plan the upsert, then apply it.

A plan is computed first and written second, inside one transaction, so a
dry run shows exactly what a real run would do. Rules that keep consent:

* an import never moves a contact from unsubscribed, bounced or left back to
  subscribed; a file that asks for it gets a note, and the status stays;
* an address on the suppression list (erased on request) is never re-added;
* an empty cell never erases a stored value (use ``contacts edit`` for that);
* a rejected row is reported as ``FILE:ROW: reason`` and touches nothing.
"""

from __future__ import annotations

import itertools
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from newsletter import store
from newsletter.contacts.fields import (
    CONTACT_TEXT,
    PREVIEW,
    RowError,
    clean_row,
    normalise_email,
    unformula,
)
from newsletter.contacts.tabular import ReadError, Records, Row, stream_records
from newsletter.errors import NewsletterError, where
from newsletter.models import Contact
from newsletter.schema import shown
from newsletter.store import Database
from newsletter.store.contacts import (
    FirstRows,
    address_hash,
    change_contact,
    default_actor,
    find_contacts,
)

CHUNK = 2000  # rows checked, looked up and written together
STORED = (*CONTACT_TEXT, "listed", "status")  # the fields a row can set, in display order


class Lines:
    """Report lines in order: the first thousand in memory, the rest in a temporary file.

    A million-row file can reject or change every row; its report must not
    need a million strings in memory. A line with a line break in it (a file
    name) reads back as two lines, which print the same.
    """

    KEEP = 1000

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self.head: list[str] = []
        self.spill: IO[str] | None = None
        self.count = 0
        for line in lines:
            self.append(line)

    def append(self, line: str) -> None:
        self.count += 1
        if len(self.head) < self.KEEP:
            self.head.append(line)
            return
        if self.spill is None:
            self.spill = tempfile.TemporaryFile(
                "w+", encoding="utf-8", errors="surrogatepass", newline="\n"
            )
            weakref.finalize(self, self.spill.close)
        self.spill.write(line + "\n")

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        yield from self.head
        if self.spill is not None:
            self.spill.seek(0)
            for line in self.spill:
                yield line[:-1]


@dataclass(frozen=True)
class Plan:
    """What an import or one sync source changes (or would), and what it refused."""

    display: str
    source: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: Lines = field(default_factory=Lines)  # "FILE:ROW: reason"
    notes: tuple[str, ...] = ()
    left: tuple[Contact, ...] = ()  # sync only: missing from an authoritative source
    organisations: tuple[tuple[str, str, str], ...] = ()  # new: name, acronym, website
    present: frozenset[str] = field(default_factory=frozenset)  # sync only: addresses in the file
    additions: Lines = field(default_factory=Lines)  # a dry run's "+" lines
    changes: Lines = field(default_factory=Lines)  # a dry run's "~" lines

    def summary(self) -> str:
        text = (
            f"{self.display}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected"
        )
        return text + (f", {len(self.left)} marked left" if self.left else "")

    def diff(self) -> Iterator[str]:
        """The changes, one line each, as a dry run shows them."""
        yield from (f"+ organisation {shown(name, PREVIEW)}" for name, _, _ in self.organisations)
        yield from self.additions
        yield from self.changes
        for c in self.left:
            yield f"- {c.email}  {shown(c.name, PREVIEW)}: marked left (missing from the source)"


@dataclass(frozen=True)
class Write:
    """Write a plan as it is made: who, and when, for the history."""

    actor: str
    at: str


class _Organisations:
    """Name and acronym lookup, so "UNICEF" and its full name are one organisation."""

    def __init__(self, db: Database) -> None:
        self.index: dict[str, str] = {}
        self.new: list[tuple[str, str, str]] = []
        for name, acronym in store.contacts.organisation_names(db):
            self.index.setdefault(name.casefold(), name)
            if acronym:
                self.index.setdefault(acronym.casefold(), name)

    def resolve(self, name: str, acronym: str = "", website: str = "", create: bool = True) -> str:
        found = self.index.get(name.casefold()) or (acronym and self.index.get(acronym.casefold()))
        if found or not create:
            return found or ""
        self.new.append((name, acronym, website))
        self.index[name.casefold()] = name
        if acronym:
            self.index.setdefault(acronym.casefold(), name)
        return name


def owner(db: Database, authority: str) -> str:
    """The stored name of the organisation a sync source owns (by name or acronym)."""
    return _Organisations(db).resolve(authority, create=False) or authority


class _Rejected(Exception):
    """This row changes nothing; the message is its ``FILE:ROW: reason. Fix.`` line."""


@dataclass
class _Planner:
    """The state of one comparison of a file with the store, a chunk of rows at a time."""

    db: Database
    display: str
    source: str
    suppressed: set[str]
    orgs: _Organisations
    owned: str | None  # the organisation a sync source owns
    write: Write | None  # None: plan only (a dry run), keeping the diff lines
    first: FirstRows
    present: set[str] = field(default_factory=set)  # sync only
    added: list[Contact] = field(default_factory=list)  # not yet written
    updated: list[tuple[Contact, dict[str, object]]] = field(default_factory=list)
    counts: list[int] = field(default_factory=lambda: [0, 0, 0])  # added, updated, unchanged
    rejected: Lines = field(default_factory=Lines)
    notes: list[str] = field(default_factory=list)
    additions: Lines = field(default_factory=Lines)
    changes: Lines = field(default_factory=Lines)
    written_orgs: int = 0

    def chunk(self, rows: list[Row], labels: dict[str, str]) -> None:
        """Plan (and write) a chunk of rows: addresses are looked up a chunk at a time."""
        cleaned: list[tuple[int, dict[str, object] | str, str | None, bool]] = []
        for line, raw, extra in rows:
            if raw.get("email") is None:  # a JSON null, or no such key: an empty cell
                raw = {**raw, "email": ""}
            try:
                values = clean_row(raw, labels)
                cleaned.append((line, values, str(values["email"]), extra))
            except RowError as exc:
                # A row with a usable address still counts: for sync, and for repeats.
                cleaned.append((line, f"{where(self.display, line)}: {exc}", _address(raw), extra))
        first = self.first.add([(email, line) for line, _, email, _ in cleaned if email])
        if self.owned is not None:
            self.present.update(first)
        fresh = [e for line, v, e, _ in cleaned if e and isinstance(v, dict) and first[e] == line]
        existing = store.contacts.contacts_by_email(self.db, fresh)
        for line, outcome, email, extra in cleaned:
            if isinstance(outcome, str):
                self.rejected.append(outcome)
                continue
            try:
                self.row(line, outcome, extra, first[str(email)], existing.get(str(email)))
            except _Rejected as exc:
                self.rejected.append(str(exc))
        self.flush()

    def row(
        self,
        line: int,
        values: dict[str, object],
        extra_cells: bool,
        first: int,
        current: Contact | None,
    ) -> None:
        email = str(values["email"])
        here = f"{self.display}:{line}"  # a row number is never 0
        if first != line:
            raise _Rejected(
                f"{here}: {email} is already on row {first}. "
                "Keep one row per address and delete the other."
            )
        if extra_cells:
            raise _Rejected(
                f"{here}: more cells than the header has columns. "
                "Quote cells that contain the delimiter."
            )
        # Before the organisation is looked up: a refused row creates nothing.
        if current is None and self.suppressed and address_hash(email) in self.suppressed:
            reason = "was erased on request and is on the suppression list"
            raise _Rejected(f"{here}: {email} {reason}; it is never re-added. Delete the row.")
        values["organisation"] = self._organisation(here, values)
        if current is None:
            fields = {k: v for k, v in values.items() if k in STORED}
            # Each value was checked for its field by contacts.fields.ROW.
            contact = Contact(email=email, source=self.source, **fields)  # type: ignore[arg-type]
            self.counts[0] += 1
            if self.write:
                self.added.append(contact)
            else:
                org = f", {shown(contact.organisation, PREVIEW)}" if contact.organisation else ""
                self.additions.append(
                    f"+ {email}  {shown(contact.name, PREVIEW)}{org}, {contact.status}"
                )
        else:
            self._compare(here, current, values)

    def _organisation(self, here: str, values: dict[str, object]) -> str:
        org = str(values.get("organisation") or "")
        acronym = str(values.get("acronym", ""))
        if self.owned is not None:
            if org and self.orgs.resolve(org, acronym, create=False) != self.owned:
                reason = (
                    f"organisation {shown(org, PREVIEW)} is not {shown(self.owned, PREVIEW)}, "
                    "which this source owns"
                )
                raise _Rejected(f"{here}: {reason}. Remove the row from the source.")
            return self.owned
        return self.orgs.resolve(org, acronym, str(values.get("website", ""))) if org else ""

    def _compare(self, here: str, current: Contact, values: dict[str, object]) -> None:
        email = current.email
        if self.owned is not None and current.status in ("left", "bounced"):
            reason = f"is {current.status} in contacts.db but listed by this source"
            fix = "If they are back, use contacts edit --resubscribe"
            self.notes.append(f"{here}: note: {email} {reason}. {fix}.")
        changes: dict[str, object] = {}
        for name in STORED:
            value = values.get(name)
            if value is None or value == "" or getattr(current, name) == value:
                continue  # an empty cell never erases a stored value
            if name == "status" and value == "subscribed":
                reason = f"stays {current.status}; an import never re-subscribes anyone"
                fix = "Use contacts edit --resubscribe if they asked"
                self.notes.append(f"{here}: note: {email} {reason}. {fix}.")
                continue
            if name == "listed" and value and store.contacts.asked_unlisted(self.db, current):
                reason = "stays out of the directory, as they asked on their unsubscribe page"
                fix = "Use contacts edit --listed if they ask to be listed again"
                self.notes.append(f"{here}: note: {email} {reason}. {fix}.")
                continue
            changes[name] = value
        if not changes:
            self.counts[2] += 1
            return
        self.counts[1] += 1
        if self.write:
            self.updated.append((current, changes))
        for f, v in changes.items() if not self.write else ():
            self.changes.append(
                f"~ {email}  {f}: {shown(getattr(current, f), PREVIEW)} → {shown(v, PREVIEW)}"
            )

    def flush(self) -> None:
        """Write what the rows so far added and changed; the caller holds the transaction."""
        if not self.write:
            return
        actor, at = self.write.actor, self.write.at
        store.contacts.add_organisations(self.db, self.orgs.new[self.written_orgs :])
        self.written_orgs = len(self.orgs.new)
        store.contacts.create_contacts(self.db, self.added, self.source, actor, at)
        for contact, changes in self.updated:
            store.contacts.change_contact(self.db, contact, changes, self.source, actor, at)
        self.added, self.updated = [], []

    def left(self, keep: frozenset[str] | None) -> tuple[Contact, ...]:
        """The owned organisation's contacts missing from the file (and from ``keep``)."""
        if self.owned is None or keep is None:
            return ()
        gone = tuple(
            c
            for c in find_contacts(self.db, self.owned)
            if c.organisation == self.owned
            and c.email.lower() not in self.present
            and c.email.lower() not in keep
            and c.status in ("subscribed", "bounced")
        )
        if self.write:
            actor, at = self.write.actor, self.write.at
            for contact in gone:
                change_contact(self.db, contact, {"status": "left"}, self.source, actor, at)
        return gone


def _address(raw: dict[str, object]) -> str | None:
    """The address of a rejected row, when it has a valid one."""
    try:
        return normalise_email(unformula(str(raw.get("email", ""))))
    except ValueError:
        return None


def plan_import(
    db: Database,
    records: Records,
    source: str,
    authority: str | None = None,
    keep: frozenset[str] | None = frozenset(),
    write: Write | None = None,
) -> Plan:
    """Compare a file with the store, and write the changes when ``write`` says who and when.

    ``authority``: the organisation a sync source owns. Its contacts missing
    from the file are marked left, except the addresses in ``keep`` (listed
    by another source for the same organisation); with ``keep=None`` nobody
    is, as another source for it could not be read. Rows are read, checked
    and written a chunk at a time, so a long file needs little memory; the
    caller holds the transaction, so a file refused half-way writes nothing.
    """
    orgs = _Organisations(db)
    planner = _Planner(
        db,
        records.display,
        source,
        store.contacts.suppressed_hashes(db),
        orgs,
        orgs.resolve(authority) if authority else None,
        write,
        FirstRows(db),
    )
    labels = {name: f"column '{header}'" for name, header in records.columns.items()}
    try:
        rows = iter(records.rows)
        while chunk := list(itertools.islice(rows, CHUNK)):
            planner.chunk(chunk, labels)
    finally:
        planner.first.close()
    added, updated, unchanged = planner.counts
    return Plan(
        records.display,
        source,
        added,
        updated,
        unchanged,
        planner.rejected,
        tuple(planner.notes),
        planner.left(keep),
        tuple(orgs.new),
        frozenset(planner.present),
        planner.additions,
        planner.changes,
    )


def load_records(path: Path, display: str | None = None, fmt: str | None = None) -> Records:
    """Open a contact file (its rows are read as they are used); NewsletterError when unusable."""
    display = display or str(path)
    if path.exists() and not path.is_file():
        raise NewsletterError(
            f"{display}: not a regular file (a folder, a device or a pipe). "
            "Give the path of a CSV or JSON file."
        )
    if fmt is None and path.suffix.lower() == ".json":
        fmt = "json"
    try:
        return stream_records(path, display, fmt)
    except OSError as exc:
        raise NewsletterError(
            f"{display}: cannot read it ({exc.strerror}). Check the path."
        ) from None
    except ReadError as exc:
        raise NewsletterError(str(exc)) from None


def import_file(
    db: Database,
    path: Path,
    source: str | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    at: str | None = None,
    display: str | None = None,
) -> Plan:
    """Import one CSV/JSON file in one transaction (none at all for a dry run).

    The file is read twice: once to check that all of it can be used (a quote
    never closed, a line too long, a byte that is not UTF-8 refuse the whole
    file), keeping nothing; then again to plan and write, a chunk at a time.
    """
    records = load_records(path, display)
    source = source or f"import:{path.name}"
    write = None if dry_run else Write(actor or default_actor(), at or store.now())
    try:
        for _ in records.rows:
            pass
        # A real run takes the write lock before planning, so the plan is made
        # from what it will change; a dry run only reads.
        with store.reading(db) if dry_run else store.writing(db):
            plan = plan_import(db, records, source, write=write)
    except ReadError as exc:  # the file changed between the two readings
        raise NewsletterError(str(exc)) from None
    if records.ignored:
        ignored = ", ".join(shown(column, PREVIEW) for column in records.ignored)
        note = f"{records.display}: note: ignored columns: {ignored}"
        plan = replace(plan, notes=(note, *plan.notes))
    return plan
