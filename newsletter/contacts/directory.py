"""The focal-point directory of an issue, read from contacts.db and its history.

Who is shown: contacts that are listed and have not left or bounced, grouped by
organisation in alphabetical order. Unsubscribing stops the mail, not the
listing: someone who asked for no more email, or complained about it, still
holds the role; leaving the directory is its own choice (``listed``, which the
person can also make from their unsubscribe page).

What changed is read from the history from the start of the period
(``Period``: when the previous issue's send finished; if it was never sent,
when it was built; otherwise its date) to this issue's date, inclusive:

* **new**: created in that window, or made visible in it (listed again, or
  back after leaving or bouncing);
* **updated**: a shown field (name, job title, email, phone, organisation,
  city, country) ends the window with another value than it started with, and
  the entry says which ("new phone", "new title"); a new contact is not also
  updated;
* **left**: status changed to left or bounced in it and still so; these, and
  anyone whose address still bounces, are listed as "needs an update" by name
  and organisation, never by address.

Each organisation shows its seats (``store.seats``), in role order: the
holder's entry under the seat's role, or "Vacant since DATE (AGE)" for a seat
nobody holds; a seat whose holder's address bounces names them as needing an
update. Listed contacts without a seat (no organisation, or rows written
around the store's rule) follow their organisation's seats. Organisations with
no seat and no listed contact are **vacant**. An entry not confirmed for more
than ``STALE_MONTHS`` (``confirmed_at``; never confirmed: since it was created)
is marked "not confirmed since YYYY-MM". Unsubscribing is never mentioned:
opting out of email is not news.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from newsletter import store
from newsletter.config import Settings
from newsletter.contacts.checks import CheckResult, check
from newsletter.contacts.freshness import Freshness, freshness, stale_before
from newsletter.issue.meta import next_issue, previous_issue
from newsletter.models import Issue
from newsletter.sanitize import neutralise

# The short email version lists at most this many new/updated entries and as
# many departures: a first import or a large sync changes hundreds, and the
# list of changes alone would then push the email past the clipping size.
EMAIL_CHANGES = 40
# What a change to each shown field is called in the entry, in this order.
WHAT = {
    "name": "new name",
    "job_title": "new title",
    "organisation": "new organisation",
    "email": "new email",
    "phone": "new phone",
    "city": "new location",
    "country": "new location",
}
GONE = ("left", "bounced")
# Where the period starts, by what is known of the previous issue.
SENT, BUILT, DATED = "sent", "built", "date"


@dataclass(frozen=True)
class Period:
    """Where the directory's changes are counted from, and why from there."""

    start: dt.datetime  # UTC
    basis: str  # SENT, BUILT or DATED
    previous: str  # the previous issue's ID
    # When its send finished or it was built; later than ``start`` when that came
    # after its date, whose changes its own directory counted up to. None: DATED.
    event: dt.datetime | None = None

    @property
    def line(self) -> str:
        """What ``build`` prints: the period, and a warning unless a send set it."""
        when = f"{self.start:%Y-%m-%d %H:%M} UTC"
        day = f"{self.start:%Y-%m-%d}, its date"
        later = f"{self.event:%Y-%m-%d %H:%M} UTC" if self.event else ""
        capped = self.event is not None and self.event > self.start
        if self.basis == SENT and not capped:
            return f"Directory changes since {when}, when {self.previous}'s send finished."
        if self.basis == SENT:
            return (
                f"Directory changes since {self.start:%Y-%m-%d}, {self.previous}'s date "
                f"(its send finished later, {later})."
            )
        if self.basis == BUILT and not capped:
            return (
                f"warning: {self.previous} was never sent: directory changes since {when}, "
                "when it was last built."
            )
        if self.basis == BUILT:
            return (
                f"warning: {self.previous} was never sent: directory changes since {day} "
                f"(it was last built later, {later})."
            )
        return f"warning: {self.previous} was never sent or built: directory changes since {day}."


@dataclass(frozen=True)
class Entry:
    name: str
    job_title: str
    email: str
    phone: str
    city: str
    country: str
    badge: str = ""  # "new", "updated" or ""
    mailto: str = ""
    changes: tuple[str, ...] = ()  # for "updated": what changed, e.g. ("new phone",)
    stale: str = ""  # "YYYY-MM" when last confirmed more than STALE_MONTHS ago

    @property
    def mark(self) -> str:
        """The mark of a stale entry ("not confirmed since 2025-03"), else ""."""
        return f"not confirmed since {self.stale}" if self.stale else ""

    @property
    def label(self) -> str:
        """The badge as shown: "new", or "updated: new phone, new title"."""
        if self.badge == "updated" and self.changes:
            return f"updated: {', '.join(self.changes)}"
        return self.badge

    @property
    def place(self) -> str:
        return ", ".join(v for v in (self.city, self.country) if v)


@dataclass(frozen=True)
class SeatView:
    """One seat as the directory shows it: its role and holder, or since when it is vacant."""

    role: str
    entry: Entry | None = None  # the holder's entry, when they are listed
    vacant_since: dt.date | None = None  # None: held
    age_days: int = 0  # how long it has been vacant, on the directory's day
    unreachable: str = ""  # the holder's name when their address bounces

    @property
    def age(self) -> str:
        """The vacancy's age in words: "12 days" up to two months, then "9 months"."""
        return age(self.age_days)


def age(days: int) -> str:
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{round(days / 30.4375)} months"


@dataclass(frozen=True)
class Group:
    name: str
    acronym: str
    website: str
    entries: tuple[Entry, ...]
    seats: tuple[SeatView, ...] = ()  # in role order

    @property
    def unseated(self) -> tuple[Entry, ...]:
        """Entries that hold no seat of the organisation, shown after its seats."""
        seated = [s.entry for s in self.seats if s.entry is not None]
        return tuple(e for e in self.entries if e not in seated)

    @property
    def title(self) -> str:
        same = not self.acronym or self.acronym.casefold() == self.name.casefold()
        return self.name if same else f"{self.name} ({self.acronym})"

    @property
    def anchor(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", _fold(self.acronym or self.name)).strip("-")
        return f"dir-{slug or 'org'}"


@dataclass(frozen=True)
class Departure:
    name: str
    organisation: str
    status: str  # "left" or "bounced"
    recent: bool = True  # changed since the previous issue (counted as "left")


@dataclass(frozen=True)
class Notice:
    """A correction of an earlier issue that this issue carries."""

    issue: str
    day: dt.date  # when it was recorded (UTC)
    text: str


@dataclass(frozen=True)
class Directory:
    until: dt.date
    since: dt.date | None
    groups: tuple[Group, ...]  # organisations with at least one entry
    vacant: tuple[Group, ...]  # organisations with none
    # Left or bounced since the previous issue, plus everyone still bouncing:
    # a bouncing address is a seat the office must ask the agency to fill.
    departures: tuple[Departure, ...]
    new: int = 0
    updated: int = 0
    period: Period | None = None  # None: counted from ``since`` as given
    full_in_email: bool = True  # False: the email carries the summary and changes only
    limit: int | None = None  # how many changes and departures to list; None: all
    # For the build report: how current it is on the issue's date, and the advice
    # of ``directory check`` (``directory_for`` fills them in).
    freshness: Freshness | None = None
    quality: CheckResult | None = None
    # Corrections of earlier issues that this one carries (``directory correct``):
    # read here because they live in contacts.db, which build opens through this.
    corrections: tuple[Notice, ...] = ()

    @property
    def left(self) -> int:
        return sum(d.recent for d in self.departures)

    @property
    def total(self) -> int:
        return sum(len(g.entries) for g in self.groups)

    @property
    def organisations(self) -> int:
        """Organisations with at least one listed focal point."""
        return sum(bool(g.entries) for g in self.groups)

    @property
    def vacant_seats(self) -> tuple[tuple[Group, SeatView], ...]:
        """Every vacant seat with its organisation, longest vacant first."""
        found = [(g, s) for g in self.groups for s in g.seats if s.vacant_since is not None]
        return tuple(sorted(found, key=lambda gs: (-gs[1].age_days, _fold(gs[0].name))))

    @property
    def changed(self) -> tuple[Group, ...]:
        """Only the new and updated entries (up to ``limit``), for the short email version."""
        room = self.new + self.updated if self.limit is None else self.limit
        groups = []
        for group in self.groups:
            entries = tuple(e for e in group.entries if e.badge)[: max(room, 0)]
            room -= len(entries)
            if entries:
                groups.append(replace(group, entries=entries))
        return tuple(groups)

    @property
    def more_changes(self) -> int:
        """New and updated entries that ``changed`` leaves out."""
        return self.new + self.updated - sum(len(g.entries) for g in self.changed)

    @property
    def listed_departures(self) -> tuple[Departure, ...]:
        return self.departures if self.limit is None else self.departures[: self.limit]

    def compact(self) -> Directory:
        return replace(self, full_in_email=False, limit=EMAIL_CHANGES)


def _fold(text: str) -> str:
    """A sort key that puts "Élise" with "Elise" and ignores case."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def build_directory(
    db: store.Database,
    settings: Settings,
    since: dt.date | dt.datetime | None,
    until: dt.date,
    period: Period | None = None,
    today: dt.date | None = None,
) -> Directory:
    """The directory as it stands, with badges and counts for changes in [since, until].

    ``today`` is the day vacancies are aged and entries judged stale on
    (default ``until``, the issue's date).
    """
    today = today or until
    cutoff = stale_before(today)
    # Contact fields are untrusted: neutralise keeps them from forging a
    # per-recipient marker such as %%EMAIL%%; the templates escape them.
    orgs: dict[int | None, Group] = {
        o.id: Group(neutralise(o.name), neutralise(o.acronym), o.website, ())
        for o in store.contacts.organisations(db)
    }
    new, updated, departed = _changes(db, since, until)
    members: dict[int | None, list[Entry]] = {}
    by_id: dict[int, Entry] = {}
    for c in store.contacts.listed_contacts(db):
        badge = "new" if c.id in new else "updated" if c.id in updated else ""
        changes = updated.get(c.id, ()) if badge == "updated" else ()
        # "?", "#", "&" and "%" are legal in an address but not raw in a URL.
        mailto = "mailto:" + quote(c.email, safe="@")
        entry = Entry(
            name=neutralise(c.name),
            job_title=neutralise(c.job_title),
            email=neutralise(c.email),
            phone=neutralise(c.phone),
            city=neutralise(c.city),
            country=neutralise(c.country),
            badge=badge,
            mailto=mailto,
            changes=changes,
            stale=c.confirmed[:7] if c.confirmed and c.confirmed[:10] < cutoff else "",
        )
        members.setdefault(c.organisation_id, []).append(entry)
        by_id[c.id] = entry
    seats = _seat_views(db, by_id, today)
    if None in members:  # contacts with no organisation are still in the directory
        orgs[None] = Group("Other organisations", "", "", ())
    groups: list[Group] = []
    vacant: list[Group] = []
    for org_id, group in orgs.items():
        entries = sorted(members.get(org_id, ()), key=lambda e: (_fold(e.name), e.email))
        held = tuple(seats.get(org_id, ())) if org_id is not None else ()
        shown = replace(group, entries=tuple(entries), seats=held)
        (groups if entries or shown.seats else vacant).append(shown)
    gone = store.contacts.gone(db, departed)
    # Someone whose seat a successor already holds needs no update: the seat shows who.
    replaced = store.seats.succeeded(db, [g.id for g in gone])
    departures = [
        # Named, never by address; someone stored without a name is still counted.
        Departure(
            neutralise(g.name) or "A focal point",
            neutralise(g.organisation),
            g.status,
            g.id in departed,
        )
        for g in gone
        if g.id not in replaced
    ]
    return Directory(
        until=until,
        since=since.date() if isinstance(since, dt.datetime) else since,
        period=period,
        groups=tuple(sorted(groups, key=lambda g: _fold(g.name))),
        vacant=tuple(sorted(vacant, key=lambda g: _fold(g.name))),
        departures=tuple(sorted(departures, key=lambda d: (_fold(d.organisation), _fold(d.name)))),
        new=sum(e.badge == "new" for g in groups for e in g.entries),
        updated=sum(e.badge == "updated" for g in groups for e in g.entries),
    )


def _seat_views(
    db: store.Database, entries: dict[int, Entry], today: dt.date
) -> dict[int, list[SeatView]]:
    """Each organisation's seats, in role order, with their holders' entries."""
    views: dict[int, list[SeatView]] = {}
    bouncing = {g.id: g.name for g in store.contacts.gone(db, ()) if g.status == "bounced"}
    for seat in store.seats.seats(db):
        if seat.holder is None:
            days = seat.vacant_days(today) or 0
            since = dt.date.fromisoformat(seat.since[:10])
            view = SeatView(neutralise(seat.role), vacant_since=since, age_days=days)
        elif seat.holder in entries:
            view = SeatView(neutralise(seat.role), entry=entries[seat.holder])
        elif seat.holder in bouncing:
            name = neutralise(bouncing[seat.holder]) or "A focal point"
            view = SeatView(neutralise(seat.role), unreachable=name)
        else:  # held by someone who asked not to be listed: not shown at all
            continue
        views.setdefault(seat.organisation_id, []).append(view)
    return views


def _changes(
    db: store.Database, since: dt.date | dt.datetime | None, until: dt.date
) -> tuple[set[int], dict[int, tuple[str, ...]], set[int]]:
    """Contact ids that are new, updated (with what changed) and departed within the window."""
    if since is None:
        return set(), {}, set()
    new: set[int] = set()
    departed: set[int] = set()
    # (contact, field) -> (value before the window, value now), to tell a real
    # change from one that was undone within the window.
    edits: dict[tuple[int, str], tuple[str | None, str | None]] = {}
    end = (until + dt.timedelta(days=1)).isoformat()
    for change in store.contacts.changes_between(db, _stamp(since), end):
        field, value, key = change.field, change.new, (change.contact_id, change.field)
        if field == "created" or (field, value) == ("listed", "yes"):
            new.add(change.contact_id)
        elif (field, value) == ("status", "subscribed") and change.old in GONE:
            new.add(change.contact_id)  # back after leaving or bouncing
        elif field == "status" and value in GONE:
            departed.add(change.contact_id)
        elif field in WHAT:
            edits[key] = (edits.get(key, (change.old, None))[0], value)
    changed: dict[int, set[str]] = {}
    for (contact_id, field), (before, after) in edits.items():
        if before != after and contact_id not in new:
            changed.setdefault(contact_id, set()).add(field)
    updated = {
        contact_id: tuple(dict.fromkeys(WHAT[f] for f in WHAT if f in fields))
        for contact_id, fields in changed.items()
    }
    return new, updated, departed


def _stamp(since: dt.date | dt.datetime) -> str:
    """``since`` as the history's ``at`` is written, to compare as text."""
    if isinstance(since, dt.datetime):
        return since.astimezone(dt.UTC).replace(microsecond=0).isoformat()
    return since.isoformat()  # a day: from its start, as "2026-12-15" sorts before its times


def period_for(
    db: store.Database,
    settings: Settings,
    issue_id: str,
    date: dt.date,
    built_at: Callable[[Path], dt.datetime | None] | None = None,
) -> Period | None:
    """Where ``issue_id``'s directory counts changes from; None for the first issue.

    From when the previous issue's real send finished, so an issue that went out
    early (or a clock that differs) loses nothing; if it was never sent, from
    when it was built (``built_at`` reads that from its folder); otherwise from
    its date. Never from later than its date: its own directory counted the
    changes up to its date only, so one sent or built late leaves none out.
    """
    previous = previous_issue(settings.root, issue_id, date)
    if previous is None:
        return None
    prev_id, prev_date = previous
    dated = dt.datetime.combine(prev_date, dt.time(), dt.UTC)
    if finished := store.ledger.send_finished(db, prev_id):
        sent = dt.datetime.fromisoformat(finished).astimezone(dt.UTC)
        return Period(min(sent, dated), SENT, prev_id, sent)
    built = built_at(settings.root / "issues" / prev_id) if built_at else None
    if built is not None:
        return Period(min(built, dated), BUILT, prev_id, built)
    return Period(dated, DATED, prev_id)


def directory_for(
    db: store.Database,
    settings: Settings,
    issue_id: str,
    date: dt.date,
    built_at: Callable[[Path], dt.datetime | None] | None = None,
) -> Directory:
    """The directory for one issue: changes since the previous issue (``period_for``)."""
    period = period_for(db, settings, issue_id, date, built_at)
    listing = build_directory(db, settings, period.start if period else None, date, period)
    return replace(
        listing,
        freshness=freshness(db, date),
        quality=check(db),
        corrections=carried(db, settings, issue_id),
    )


def carried(db: store.Database, settings: Settings, issue_id: str) -> tuple[Notice, ...]:
    """The corrections ``issue_id`` carries: of the issues whose next issue it is."""
    return tuple(
        Notice(c.issue, dt.date.fromisoformat(c.at[:10]), neutralise(c.text))
        for c in store.corrections.corrections(db)
        if c.issue < issue_id and next_issue(settings.root, c.issue) == issue_id
    )


def directory_source(
    settings: Settings,
    db_path: Path,
    built_at: Callable[[Path], dt.datetime | None] | None = None,
) -> Callable[[Issue], Directory] | None:
    """What ``build`` asks for an issue's directory; None when there is no contacts.db.

    Without a database the email links to the web edition's directory instead of
    making an empty one. Each call opens its own connection: the preview rebuilds
    on its watcher thread, and an SQLite connection stays on the thread that made it.
    ``built_at`` tells when an issue folder was built (``build.built_at``: the
    build stage's report, which this stage may not import).
    """
    if not db_path.is_file():
        return None

    def directory(issue: Issue) -> Directory:
        db = store.open_db(db_path)
        try:
            return directory_for(db, settings, issue.id, issue.date, built_at)
        finally:
            db.conn.close()

    return directory
