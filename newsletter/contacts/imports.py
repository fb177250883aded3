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

from dataclasses import dataclass, field, replace
from pathlib import Path

from newsletter import store
from newsletter.contacts.fields import (
    CONTACT_TEXT,
    RowError,
    clean_row,
    normalise_email,
    show,
    unformula,
)
from newsletter.contacts.tabular import ReadError, Records, read_records
from newsletter.errors import NewsletterError, where
from newsletter.models import Contact
from newsletter.store import Database
from newsletter.store.contacts import address_hash, default_actor, find_contacts

STORED = (*CONTACT_TEXT, "listed", "status")  # the fields a row can set, in display order


@dataclass(frozen=True)
class Plan:
    """What an import or one sync source would change, and what it refused."""

    display: str
    source: str
    added: tuple[Contact, ...] = ()
    updated: tuple[tuple[Contact, dict[str, object]], ...] = ()  # stored contact, new values
    unchanged: int = 0
    rejected: tuple[str, ...] = ()  # "FILE:ROW: reason"
    notes: tuple[str, ...] = ()
    left: tuple[Contact, ...] = ()  # sync only: missing from an authoritative source
    organisations: tuple[tuple[str, str, str], ...] = ()  # new: name, acronym, website
    present: frozenset[str] = field(default_factory=frozenset)  # valid addresses in the file

    def summary(self) -> str:
        text = (
            f"{self.display}: {len(self.added)} added, {len(self.updated)} updated, "
            f"{self.unchanged} unchanged, {len(self.rejected)} rejected"
        )
        return text + (f", {len(self.left)} marked left" if self.left else "")

    def diff(self) -> list[str]:
        lines = [f"+ organisation {show(name)}" for name, _, _ in self.organisations]
        for c in self.added:
            org = f", {show(c.organisation)}" if c.organisation else ""
            lines.append(f"+ {c.email}  {show(c.name)}{org}, {c.status}")
        for c, changes in self.updated:
            lines += [
                f"~ {c.email}  {f}: {show(getattr(c, f))} → {show(v)}" for f, v in changes.items()
            ]
        lines += [
            f"- {c.email}  {show(c.name)}: marked left (missing from the source)" for c in self.left
        ]
        return lines


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
    """The state of one comparison of a file with the store, row by row."""

    display: str
    source: str
    existing: dict[str, Contact]  # by address, lower-cased like the NOCASE index
    suppressed: set[str]
    orgs: _Organisations
    owned: str | None  # the organisation a sync source owns
    added: list[Contact] = field(default_factory=list)
    updated: list[tuple[Contact, dict[str, object]]] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # valid address -> its row

    def row(self, line: int, values: dict[str, object], extra_cells: bool) -> None:
        email = str(values["email"])
        here = f"{self.display}:{line}"  # a row number is never 0
        if email in self.seen:
            raise _Rejected(
                f"{here}: {email} is already on row {self.seen[email]}. "
                "Keep one row per address and delete the other."
            )
        self.seen[email] = line
        if extra_cells:
            raise _Rejected(
                f"{here}: more cells than the header has columns. "
                "Quote cells that contain the delimiter."
            )
        current = self.existing.get(email)
        # Before the organisation is looked up: a refused row creates nothing.
        if current is None and self.suppressed and address_hash(email) in self.suppressed:
            reason = "was erased on request and is on the suppression list"
            raise _Rejected(f"{here}: {email} {reason}; it is never re-added. Delete the row.")
        values["organisation"] = self._organisation(here, values)
        if current is None:
            fields = {k: v for k, v in values.items() if k in STORED}
            # Each value was checked for its field by contacts.fields.ROW.
            contact = Contact(email=email, source=self.source, **fields)  # type: ignore[arg-type]
            self.added.append(contact)
        else:
            self._compare(here, current, values)

    def _organisation(self, here: str, values: dict[str, object]) -> str:
        org = str(values.get("organisation") or "")
        acronym = str(values.get("acronym", ""))
        if self.owned is not None:
            if org and self.orgs.resolve(org, acronym, create=False) != self.owned:
                reason = (
                    f"organisation {show(org)} is not {show(self.owned)}, which this source owns"
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
            changes[name] = value
        if changes:
            self.updated.append((current, changes))
        else:
            self.unchanged += 1

    def left(self, keep: frozenset[str] | None) -> tuple[Contact, ...]:
        """The owned organisation's contacts missing from the file (and from ``keep``)."""
        if self.owned is None or keep is None:
            return ()
        return tuple(
            c
            for email, c in self.existing.items()
            if c.organisation == self.owned
            and email not in self.seen
            and email not in keep
            and c.status in ("subscribed", "bounced")
        )


def plan_import(
    db: Database,
    records: Records,
    source: str,
    authority: str | None = None,
    keep: frozenset[str] | None = frozenset(),
) -> Plan:
    """Compare a file with the store. ``authority``: the organisation a sync source owns.

    Its contacts missing from the file are marked left, except the addresses
    in ``keep`` (listed by another source for the same organisation); with
    ``keep=None`` nobody is, as another source for it could not be read.
    """
    orgs = _Organisations(db)
    planner = _Planner(
        records.display,
        source,
        {c.email.lower(): c for c in find_contacts(db)},
        store.contacts.suppressed_hashes(db),
        orgs,
        orgs.resolve(authority) if authority else None,
    )
    labels = {name: f"column '{header}'" for name, header in records.columns.items()}
    extra = set(records.extra_cells)
    for line, raw in records.rows:
        try:
            planner.row(line, clean_row(raw, labels), line in extra)
        except RowError as exc:
            planner.rejected.append(f"{where(records.display, line)}: {exc}")
            try:  # a row with a usable address still counts as present for sync
                address = normalise_email(unformula(str(raw.get("email", ""))))
                planner.seen.setdefault(address, line)
            except ValueError:
                pass
        except _Rejected as exc:
            planner.rejected.append(str(exc))
    return Plan(
        records.display,
        source,
        tuple(planner.added),
        tuple(planner.updated),
        planner.unchanged,
        tuple(planner.rejected),
        tuple(planner.notes),
        planner.left(keep),
        tuple(orgs.new),
        frozenset(planner.seen),
    )


def apply_plan(db: Database, plan: Plan, actor: str | None = None, at: str | None = None) -> None:
    """Write a plan; the caller holds the transaction."""
    at, actor = at or store.now(), actor or default_actor()
    store.contacts.add_organisations(db, plan.organisations)
    store.contacts.create_contacts(db, plan.added, plan.source, actor, at)
    for contact, changes in plan.updated:
        store.contacts.change_contact(db, contact, changes, plan.source, actor, at)
    for contact in plan.left:
        store.contacts.change_contact(db, contact, {"status": "left"}, plan.source, actor, at)


def load_records(path: Path, display: str | None = None, fmt: str | None = None) -> Records:
    """Read a contact file; NewsletterError for a file that cannot be used at all."""
    display = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NewsletterError(
            f"{display}: cannot read it ({exc.strerror}). Check the path."
        ) from None
    if fmt is None and path.suffix.lower() == ".json":
        fmt = "json"
    try:
        return read_records(data, display, fmt)
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
    """Import one CSV/JSON file in one transaction (none at all for a dry run)."""
    records = load_records(path, display)
    source = source or f"import:{path.name}"
    # A real run takes the write lock before planning, so the plan is made
    # from what it will change; a dry run only reads.
    with store.reading(db) if dry_run else store.writing(db):
        plan = plan_import(db, records, source)
        if records.ignored:
            note = (
                f"{records.display}: note: ignored columns: {', '.join(map(show, records.ignored))}"
            )
            plan = replace(plan, notes=(note, *plan.notes))
        if not dry_run:
            apply_plan(db, plan, actor, at)
    return plan
