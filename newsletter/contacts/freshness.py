"""How current the directory is: entries confirmed lately, vacant seats, the oldest entries.

One rule, read by ``newsletter directory status`` and by the build report: a
listed entry (a contact the directory shows) is **fresh** when it was confirmed
within ``STALE_MONTHS`` of the day asked about (``confirmed_at``; an
entry never confirmed counts from when it was created), the same rule that
marks an entry "not confirmed since" in the directory. Seats come from
``store.seats``: a vacant seat's age is counted in days from when it fell vacant.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from newsletter import store
from newsletter.sanitize import one_line

OLDEST = 10  # how many of the oldest-confirmed entries ``status`` names
# An entry confirmed longer ago than this is not fresh, and the directory marks it.
STALE_MONTHS = 12


@dataclass(frozen=True)
class Tally:
    """One organisation's entries: how many are fresh, of how many listed."""

    organisation: str
    fresh: int
    listed: int


@dataclass(frozen=True)
class OpenSeat:
    organisation: str
    role: str
    since: str  # YYYY-MM-DD
    days: int


@dataclass(frozen=True)
class Oldest:
    """An entry among the oldest-confirmed: ``confirmed`` is its creation day if ``never``."""

    name: str
    email: str
    organisation: str
    confirmed: str  # YYYY-MM-DD
    never: bool


@dataclass(frozen=True)
class Freshness:
    today: dt.date
    fresh: int
    listed: int
    organisations: tuple[Tally, ...]  # by name
    vacant: tuple[OpenSeat, ...]  # longest vacant first
    oldest: tuple[Oldest, ...]  # oldest confirmation first, at most OLDEST

    @property
    def percent(self) -> int:
        return round(100 * self.fresh / self.listed) if self.listed else 0

    @property
    def line(self) -> str:
        """The figure, as the build and ``status`` print it."""
        entries = f"{self.fresh} of {self.listed} entr{'y' if self.listed == 1 else 'ies'}"
        head = f"Directory: {entries} confirmed in the last 12 months ({self.percent}%)"
        if not self.vacant:
            return f"{head}; no vacant seats."
        days = self.vacant[0].days
        age = f"{days} day{'s' if days != 1 else ''}"
        if len(self.vacant) == 1:
            return f"{head}; 1 vacant seat, {age}."
        return f"{head}; {len(self.vacant)} vacant seats, the oldest {age}."

    def as_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "fresh": self.fresh,
            "listed": self.listed,
            "percent": self.percent,
            "organisations": [asdict(t) for t in self.organisations],
            "vacant_seats": [asdict(s) for s in self.vacant],
            "oldest": [asdict(o) for o in self.oldest],
        }


def stale_before(today: dt.date) -> str:
    """The day (ISO) before which a confirmation is older than ``STALE_MONTHS``."""
    year, month = divmod(today.year * 12 + today.month - 1 - STALE_MONTHS, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(today.day, last)).isoformat()


def freshness(db: store.Database, today: dt.date) -> Freshness:
    """The directory's freshness on ``today``."""
    cutoff = stale_before(today)
    names = {o.id: one_line(o.name) for o in store.contacts.organisations(db)}
    tallies: dict[str, list[int]] = {}
    listed = store.contacts.listed_contacts(db)
    for c in listed:
        tally = tallies.setdefault(
            names.get(c.organisation_id, "") if c.organisation_id else "", [0, 0]
        )
        tally[0] += c.confirmed[:10] >= cutoff
        tally[1] += 1
    oldest = sorted(listed, key=lambda c: (c.confirmed[:10], c.id))[:OLDEST]
    vacant = [
        OpenSeat(
            names.get(s.organisation_id, ""),
            one_line(s.role),
            s.since[:10],
            s.vacant_days(today) or 0,
        )
        for s in store.seats.seats(db)
        if s.vacant
    ]
    return Freshness(
        today=today,
        fresh=sum(t[0] for t in tallies.values()),
        listed=len(listed),
        organisations=tuple(
            Tally(name or "No organisation", fresh, count)
            for name, (fresh, count) in sorted(
                tallies.items(), key=lambda kv: (kv[0] == "", kv[0].casefold())
            )
        ),
        vacant=tuple(sorted(vacant, key=lambda s: (-s.days, s.organisation.casefold(), s.role))),
        oldest=tuple(
            Oldest(
                one_line(c.name),
                one_line(c.email),
                names.get(c.organisation_id, "") if c.organisation_id else "",
                c.confirmed[:10],
                bool(c.never_confirmed),
            )
            for c in oldest
        ),
    )
