"""The contribution tracker: what each organisation sent to the last issues, what
those issues took of it, and which organisations have gone quiet.

One rule, read by ``newsletter contributions``, the editor's desk and the report
for management (``returns.management``), which is why it lives here and not in
``intake``: ``returns`` may not import ``intake``, and the rule needs neither the
mail nor the form, only what they recorded.

For each of the last ``count`` issues (the folders ``issue.issue_ids`` lists,
newest first, shown oldest first), per organisation:

* **submitted**: the contributions ``store.intake`` recorded for the issue (by
  email or by form); "" is the unverified senders';
* **accepted**: the issue's items (``items/``, as ``issue.list_items`` lists
  them) whose ``organisation`` names it.

Names meet through ``store.contacts.organisation_key`` (the directory's
name, or an acronym of it, in any case), so "unicef" and "UNICEF" are one row.
The rows are every organisation with a listed focal point, and any other that
contributed. An organisation with a listed focal point is **silent** when the
latest ``SILENT_AFTER`` or more issues, in a row, have nothing from it (neither
submitted nor accepted). An issue dated before the organisation's first contact
was added (``store.contacts.first_added``) does not count against it: it shows
as "-", neither silence nor a break in it. Silence is counted within the issues
shown: ``--issues`` widens it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.issue import issue_folder, issue_ids, list_items, read_meta
from newsletter.sanitize import one_line
from newsletter.store import Database, contacts, intake

SHOWN = 4  # issues, unless --issues says otherwise
SILENT_AFTER = 2  # issues in a row with nothing from an organisation
UNVERIFIED = "Unverified senders"
NOT_YET = "-"  # an issue before the organisation was in the directory
BEFORE = "before the organisation's first contact was added"
NOTHING = "no organisation in the directory, and no contribution."


@dataclass(frozen=True)
class Cell:
    """One organisation's share of one issue."""

    submitted: int = 0
    accepted: int = 0
    counted: bool = True  # False: the issue predates the organisation's first contact

    @property
    def text(self) -> str:
        return f"{self.submitted}/{self.accepted}" if self.counted else NOT_YET

    @property
    def heard(self) -> bool:
        return bool(self.submitted or self.accepted)


@dataclass(frozen=True)
class Row:
    """One organisation: its cells in ``Tracker.issues``' order, and its silence."""

    organisation: str  # as the directory names it; "" for the unverified senders
    cells: tuple[Cell, ...]
    listed: bool = False  # it has a listed focal point: only then can it be silent
    silent: int = 0  # the latest counted issues in a row with nothing from it

    @property
    def name(self) -> str:
        return self.organisation or UNVERIFIED

    @property
    def silent_for(self) -> str:
        return f"{self.silent} issue{'s' * (self.silent != 1)}"

    @property
    def silent_line(self) -> str:
        return f"{self.name}: silent for {self.silent_for}"


@dataclass(frozen=True)
class Tracker:
    """The table: ``issues`` oldest first, ``rows`` by name (unverified senders last)."""

    issues: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    problems: tuple[str, ...] = ()  # one line per issue whose items could not all be read

    @property
    def silent(self) -> tuple[Row, ...]:
        """The organisations silent for ``SILENT_AFTER`` issues or more, longest first."""
        found = [r for r in self.rows if r.silent >= SILENT_AFTER]
        return tuple(sorted(found, key=lambda r: (-r.silent, r.name.casefold())))

    @property
    def before_note(self) -> str:
        """What "-" means, when a cell is an issue before its organisation's first
        contact; else ""."""
        found = any(not c.counted for r in self.rows for c in r.cells)
        return f"{NOT_YET}: {BEFORE}" if found else ""

    @property
    def silent_heading(self) -> str:
        if self.silent:
            return f"Silent for {SILENT_AFTER} issues or more:"
        return f"No organisation has been silent for {SILENT_AFTER} issues or more."

    @property
    def heading(self) -> str:
        n = len(self.issues)
        last = "the last issue" if n == 1 else f"the last {n} issues"
        return f"Contributions to {last} (submitted/accepted):"

    @property
    def summary(self) -> str:
        """How many of the directory's organisations were heard from in these issues."""
        listed = [r for r in self.rows if r.listed]
        heard = sum(any(c.heard for c in r.cells) for r in listed)
        n = len(listed)
        return (
            f"{heard} of the {n} organisation{'s' * (n != 1)} with a listed focal point "
            f"contributed to {'this issue' if len(self.issues) == 1 else 'these issues'}."
        )

    @property
    def nothing_line(self) -> str:
        """The table's one line when it has no row."""
        return f"{self.heading} {NOTHING}"

    def as_json(self) -> dict[str, Any]:
        return {
            "issues": list(self.issues),
            "organisations": [
                {
                    "organisation": r.organisation,
                    "listed": r.listed,
                    "issues": {
                        issue: {"submitted": c.submitted, "accepted": c.accepted}
                        if c.counted
                        else None
                        for issue, c in zip(self.issues, r.cells, strict=True)
                    },
                    "silent_for": r.silent,
                }
                for r in self.rows
            ],
            "silent": [{"organisation": r.organisation, "issues": r.silent} for r in self.silent],
            "problems": list(self.problems),
        }


def track(
    settings: Settings, db: Database, count: int = SHOWN, up_to: str | None = None
) -> Tracker:
    """The tracker over the last ``count`` issues (those up to ``up_to`` when given)."""
    ids = [i for i in issue_ids(settings.root) if up_to is None or i <= up_to]
    shown = tuple(reversed(ids[:count]))
    if not shown:
        return Tracker()
    names = Names(db)
    table: dict[str, dict[str, list[int]]] = {}  # key -> issue -> [submitted, accepted]
    for (issue, organisation), n in intake.submitted(db, shown).items():
        table.setdefault(names.key(organisation), {}).setdefault(issue, [0, 0])[0] += n
    problems, dates = [], {}
    for issue in shown:
        folder = issue_folder(settings.root, issue)
        dates[issue] = read_meta(folder, settings.section_keys).date
        try:
            listed, skipped = list_items(settings, folder)
            broken = len(skipped) + sum(each.item is None for each in listed)
        except (NewsletterError, OSError):
            listed, broken = [], 1
        if broken:
            problems.append(
                f"issues/{issue}: {broken} item file{'s' * (broken != 1)} could not be read, "
                f"so not counted; see: newsletter check {issue}"
            )
        for each in listed:
            key = names.key(each.item.organisation or "") if each.item else ""
            if key:  # "" (none, or nothing visible) is no organisation's, not the unverified's
                table.setdefault(key, {}).setdefault(issue, [0, 0])[1] += 1
    for key in names.listed:
        table.setdefault(key, {})
    rows = [names.row(key, shown, dates, table[key]) for key in table]
    rows.sort(key=lambda r: (r.organisation == "", r.organisation.casefold()))
    return Tracker(shown, tuple(rows), tuple(problems))


class Names:
    """The organisations as the directory knows them: one key per organisation however
    it is written, its name to show, whether it has a listed focal point, and since when
    it has been in the directory."""

    def __init__(self, db: Database) -> None:
        self.db = db
        by_id = {o.id: o.name for o in contacts.organisations(db)}
        first = contacts.first_added(db)
        self.shown: dict[str, str] = {"": ""}
        self.since: dict[str, str] = {}
        for org_id, name in by_id.items():
            self.shown[name.casefold()] = one_line(name, 120)
            if first.get(org_id):
                self.since[name.casefold()] = first[org_id][:10]
        self.listed = {
            by_id[c.organisation_id].casefold()
            for c in contacts.listed_contacts(db)
            if c.organisation_id in by_id
        }
        self.cache: dict[str, str] = {}

    def key(self, name: str) -> str:
        """The row an organisation's name belongs to ("" stays the unverified senders')."""
        if name not in self.cache:
            key = contacts.organisation_key(self.db, name)
            self.cache[name] = key
            if key not in self.shown:  # named by a contribution only: shown as it wrote it
                self.shown[key] = one_line(name, 120)
        return self.cache[name]

    def row(
        self,
        key: str,
        shown: tuple[str, ...],
        dates: dict[str, dt.date | None],
        found: dict[str, list[int]],
    ) -> Row:
        since = self.since.get(key, "")
        cells = []
        for issue in shown:
            day = dates[issue]
            submitted, accepted = found.get(issue, (0, 0))
            # An issue dated before the organisation's first contact asked nothing of it.
            counted = not (since and day and day.isoformat() < since) or bool(submitted + accepted)
            cells.append(Cell(submitted, accepted, counted))
        listed = key in self.listed
        silent = 0
        if listed:
            for cell in reversed(cells):
                if cell.heard:
                    break
                silent += cell.counted
        return Row(self.shown[key], tuple(cells), listed, silent)


def tracker_lines(tracker: Tracker) -> list[str]:
    """The table as ``newsletter contributions`` and ``newsletter report`` print it."""
    if not tracker.issues:
        return ["Contributions: no issues yet under issues/."]
    if not tracker.rows:
        return [tracker.nothing_line]
    lines = [tracker.heading]
    names = [r.name for r in tracker.rows]
    width = max([len("Organisation"), *map(len, names)])
    cols = [max(len(i), 5) for i in tracker.issues]
    head = "".join(f"  {i:>{w}}" for i, w in zip(tracker.issues, cols, strict=True))
    lines.append(f"  {'Organisation':<{width}}{head}")
    for name, row in zip(names, tracker.rows, strict=True):
        cells = "".join(f"  {c.text:>{w}}" for c, w in zip(row.cells, cols, strict=True))
        lines.append(f"  {name:<{width}}{cells}")
    if tracker.before_note:
        lines.append(f"  {tracker.before_note}")
    lines += [f"Not counted: {p}" for p in tracker.problems]
    lines.append(tracker.silent_heading)
    lines += [f"  {r.silent_line}" for r in tracker.silent]
    return lines
