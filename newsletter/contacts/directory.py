"""The focal-point directory of an issue, read from contacts.db and its history.

Who is shown: contacts that are listed and subscribed, grouped by organisation
in alphabetical order. What changed is read from the history between the
previous issue's publication date (``since``, inclusive) and this issue's
(``until``, inclusive):

* **new**: created in that window, or made visible in it (listed again, or
  re-subscribed);
* **updated**: any shown field (name, job title, email, phone, organisation,
  city, country) changed in it; a contact that is new is not also updated;
* **left**: status changed to left or bounced in it and still so; these, and
  anyone whose address still bounces, are listed as "needs an update" by name
  and organisation, never by address.

Organisations with no listed, subscribed contact are **vacant**. Unsubscribed
people are never mentioned: opting out is not news.
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
from newsletter.issue.meta import previous_issue_date
from newsletter.models import Issue
from newsletter.sanitize import neutralise

# The short email version lists at most this many new/updated entries and as
# many departures: a first import or a large sync changes hundreds, and the
# list of changes alone would then push the email past the clipping size.
EMAIL_CHANGES = 40
SHOWN = {"name", "job_title", "email", "phone", "organisation", "city", "country"}
GONE = ("left", "bounced")


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

    @property
    def place(self) -> str:
        return ", ".join(v for v in (self.city, self.country) if v)


@dataclass(frozen=True)
class Group:
    name: str
    acronym: str
    website: str
    entries: tuple[Entry, ...]

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
    full_in_email: bool = True  # False: the email carries the summary and changes only
    limit: int | None = None  # how many changes and departures to list; None: all

    @property
    def left(self) -> int:
        return sum(d.recent for d in self.departures)

    @property
    def total(self) -> int:
        return sum(len(g.entries) for g in self.groups)

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
    db: store.Database, settings: Settings, since: dt.date | None, until: dt.date
) -> Directory:
    """The directory as it stands, with badges and counts for changes in [since, until]."""
    # Contact fields are untrusted: neutralise keeps them from forging a
    # per-recipient marker such as %%EMAIL%%; the templates escape them.
    orgs: dict[int | None, Group] = {
        o.id: Group(neutralise(o.name), neutralise(o.acronym), o.website, ())
        for o in store.contacts.organisations(db)
    }
    new, updated, departed = _changes(db, since, until)
    members: dict[int | None, list[Entry]] = {}
    for c in store.contacts.listed_contacts(db):
        badge = "new" if c.id in new else "updated" if c.id in updated else ""
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
        )
        members.setdefault(c.organisation_id, []).append(entry)
    if None in members:  # contacts with no organisation are still in the directory
        orgs[None] = Group("Other organisations", "", "", ())
    groups: list[Group] = []
    vacant: list[Group] = []
    for org_id, group in orgs.items():
        entries = sorted(members.get(org_id, ()), key=lambda e: (_fold(e.name), e.email))
        (groups if entries else vacant).append(replace(group, entries=tuple(entries)))
    departures = [
        # Named, never by address; someone stored without a name is still counted.
        Departure(
            neutralise(g.name) or "A focal point",
            neutralise(g.organisation),
            g.status,
            g.id in departed,
        )
        for g in store.contacts.gone(db, departed)
    ]
    return Directory(
        until=until,
        since=since,
        groups=tuple(sorted(groups, key=lambda g: _fold(g.name))),
        vacant=tuple(sorted(vacant, key=lambda g: _fold(g.name))),
        departures=tuple(sorted(departures, key=lambda d: (_fold(d.organisation), _fold(d.name)))),
        new=sum(e.badge == "new" for g in groups for e in g.entries),
        updated=sum(e.badge == "updated" for g in groups for e in g.entries),
    )


def _changes(
    db: store.Database, since: dt.date | None, until: dt.date
) -> tuple[set[int], set[int], set[int]]:
    """Contact ids that are new, updated and departed within the window."""
    if since is None:
        return set(), set(), set()
    new: set[int] = set()
    updated: set[int] = set()
    departed: set[int] = set()
    end = (until + dt.timedelta(days=1)).isoformat()
    for change in store.contacts.changes_between(db, since.isoformat(), end):
        field, value = change.field, change.new
        if field == "created" or (field, value) in (("status", "subscribed"), ("listed", "yes")):
            new.add(change.contact_id)
        elif field == "status" and value in GONE:
            departed.add(change.contact_id)
        elif field in SHOWN:
            updated.add(change.contact_id)
    return new, updated - new, departed


def directory_for(
    db: store.Database, settings: Settings, issue_id: str, date: dt.date
) -> Directory:
    """The directory for one issue: changes since the previous issue's date."""
    since = previous_issue_date(settings.root, issue_id, date)
    return build_directory(db, settings, since, date)


def directory_source(settings: Settings, db_path: Path) -> Callable[[Issue], Directory] | None:
    """What ``build`` asks for an issue's directory; None when there is no contacts.db.

    Without a database the email links to the web edition's directory instead of
    making an empty one. Each call opens its own connection: the preview rebuilds
    on its watcher thread, and an SQLite connection stays on the thread that made it.
    """
    if not db_path.is_file():
        return None

    def directory(issue: Issue) -> Directory:
        db = store.open_db(db_path)
        try:
            return directory_for(db, settings, issue.id, issue.date)
        finally:
            db.conn.close()

    return directory
