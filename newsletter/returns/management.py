"""The report for management: one page on an issue, counts only, read by people with no shell.

``collect`` gathers what ``newsletter report`` shows around the delivery report
(``returns.report``): what was sent and to how many, per organisation; what
came back since; the clicks per link and per organisation (``store.clicks``:
only organisations of at least ``models.MIN_GROUP`` recipients are named, the
rest are "other organisations", and a count under 5 is "fewer than 5"); the
items each organisation contributed, per section (the issue folder's
``source``, ``contributed_by``); the contribution tracker over the last issues up
to this one (``returns.tracker``, the table ``newsletter contributions`` prints);
and the directory's freshness, the one figure
``contacts.freshness`` computes, overall and per organisation.

``management_report`` is the one function that returns the page's HTML for an
issue: ``newsletter report --html`` writes it (``write_html``) and the editor's
desk shows it. The page holds counts and organisation names only, never an
address, a person's name or a phone number, so it can be forwarded as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from newsletter.build import render
from newsletter.config import Settings
from newsletter.contacts import Freshness, freshness
from newsletter.errors import NewsletterError
from newsletter.files import cannot_write, check_output, write_atomic
from newsletter.issue import issue_folder, load_issue
from newsletter.models import Issue, Item
from newsletter.returns.report import (
    FIGURES,
    NO_ORGANISATION,
    DeliveryReport,
    delivery_report,
    figures,
    shown_count,
)
from newsletter.returns.tracker import SHOWN, Tracker, track, tracker_lines
from newsletter.sanitize import one_line
from newsletter.store import Database, clicks

TEMPLATE = "report.html.j2"
NOT_NAMED = "(source not named)"
OTHER_ORGANISATIONS = "Other organisations"


def contributed_by(item: Item) -> str:
    """The organisation an item counts for: a contribution's ``organisation`` (the
    contributor's, from the directory), else its ``source`` ("" when it names none).
    The contributor is a person and is never shown."""
    return one_line(item.organisation or item.source or "", 120)


@dataclass(frozen=True)
class Contributions:
    """How many of the issue's items each organisation contributed, per section.

    ``rows`` holds (organisation, items per section in ``sections``' order), by
    organisation ("" for none, last); ``problem`` says in one line why the issue
    folder could not be read (then there are no rows)."""

    sections: tuple[str, ...] = ()  # section titles, in the issue's order
    rows: tuple[tuple[str, tuple[int, ...]], ...] = ()
    problem: str = ""

    @property
    def items(self) -> int:
        return sum(sum(counts) for _, counts in self.rows)


def contributions(issue: Issue) -> Contributions:
    """The items of ``issue`` (those it shows: not held back), per organisation and section."""
    sections = tuple(s for s in issue.sections if s.items)
    table: dict[str, list[int]] = {}
    for n, section in enumerate(sections):
        for item in section.items:
            table.setdefault(contributed_by(item), [0] * len(sections))[n] += 1
    rows = sorted(table.items(), key=lambda kv: (kv[0] == "", kv[0].casefold()))
    return Contributions(
        tuple(one_line(s.title, 80) for s in sections),
        tuple((name, tuple(counts)) for name, counts in rows),
    )


@dataclass(frozen=True)
class ManagementReport:
    """What the page for management shows of one issue."""

    delivery: DeliveryReport
    title: str  # the issue's number and subject; "" when its folder could not be read
    contributions: Contributions
    organisation_clicks: tuple[clicks.OrganisationClicks, ...]
    freshness: Freshness
    # The contribution tracker over the last issues up to this one (returns.tracker).
    tracker: Tracker = Tracker()

    @property
    def other_clicks(self) -> int:
        """Clicks that name no organisation: from a smaller organisation, a contact
        without one, or an email older than the organisation part."""
        named = sum(c.count for c in self.organisation_clicks)
        return max(0, sum(c.count for c in self.delivery.clicks) - named)


def collect(
    settings: Settings,
    db: Database,
    issue_id: str,
    sender: str | None = None,
    today: dt.date | None = None,
) -> ManagementReport:
    """The report of ``issue_id`` (its deliveries via ``sender`` only, when given); the
    directory's freshness on ``today`` (default: today, UTC)."""
    today = today or dt.datetime.now(dt.UTC).date()
    found = delivery_report(db, issue_id, sender)
    title, given = "", Contributions(problem=f"issues/{issue_id}: no such issue folder.")
    folder = issue_folder(settings.root, issue_id, must_exist=False)
    if folder.is_dir():
        # The items as they stood when it went out: an embargo that ended later
        # does not add an item nobody received.
        sent_on = dt.date.fromisoformat(found.window[0][:10]) if found.window else today
        try:
            issue, problems = load_issue(settings, folder, sent_on)
            errors = sum(p.severity == "error" for p in problems)
        except (NewsletterError, OSError):
            issue, errors = None, 1
        if issue is None:
            given = Contributions(
                problem=f"issues/{issue_id} could not be read ({errors} problem"
                f"{'s' * (errors != 1)}); see: newsletter check {issue_id}"
            )
        else:
            title = f"Issue {issue.number}: {one_line(issue.subject, 200)}"
            given = contributions(issue)
    return ManagementReport(
        found,
        title,
        given,
        tuple(clicks.by_organisation(db, issue_id)),
        freshness(db, today),
        track(settings, db, SHOWN, up_to=issue_id),
    )


def text_lines(report: ManagementReport) -> list[str]:
    """The sections ``newsletter report`` prints after the delivery report's text."""
    lines: list[str] = []
    if report.organisation_clicks or report.delivery.clicks:
        lines.append(
            "Clicks per organisation (organisations of 5 or more recipients; "
            "under 5 shown as fewer than 5):"
        )
        rows = [
            (one_line(c.organisation, 40) or NO_ORGANISATION, c.count)
            for c in report.organisation_clicks
        ]
        rows.append((OTHER_ORGANISATIONS, report.other_clicks))
        width = max(len(name) for name, _ in rows)
        lines += [f"  {name:<{width}} {shown_count(n):>12}" for name, n in rows]
    given = report.contributions
    if given.problem:
        lines.append(f"Contributions: {given.problem}")
    elif not given.rows:
        lines.append("Contributions: the issue has no items.")
    else:
        lines.append(f"Contributions ({given.items} items, by source and section):")
        names = [one_line(name, 40) or NOT_NAMED for name, _ in given.rows]
        width = max(len("Source"), *map(len, names))
        heads = list(given.sections)
        cols = [max(len(h), 5) for h in heads]
        lines.append(
            f"  {'Source':<{width}}"
            + "".join(f"  {h:>{w}}" for h, w in zip(heads, cols, strict=True))
            + "    All"
        )
        for name, (_, counts) in zip(names, given.rows, strict=True):
            cells = "".join(f"  {n:>{w}}" for n, w in zip(counts, cols, strict=True))
            lines.append(f"  {name:<{width}}{cells}  {sum(counts):>5}")
    if report.tracker.rows:  # nothing to track: no directory, no contribution
        lines += tracker_lines(report.tracker)
    fresh = report.freshness
    lines.append(fresh.line)
    if fresh.organisations:
        names = [one_line(t.organisation, 40) for t in fresh.organisations]
        width = max(len("Organisation"), *map(len, names))
        lines.append(f"  {'Organisation':<{width}}  confirmed     listed")
        for name, t in zip(names, fresh.organisations, strict=True):
            lines.append(f"  {name:<{width}}  {t.fresh:>9,}  {t.listed:>9,}")
    return lines


def render_html(settings: Settings, report: ManagementReport, made: dt.datetime) -> str:
    """The one page for management: counts only, overall and per organisation."""
    delivery = report.delivery
    rows = [(name or NO_ORGANISATION, figures(since)) for name, since in delivery.organisations]
    org_clicks = [
        (c.organisation or NO_ORGANISATION, shown_count(c.count))
        for c in report.organisation_clicks
    ]
    if org_clicks or delivery.clicks:
        org_clicks.append((OTHER_ORGANISATIONS, shown_count(report.other_clicks)))
    given = report.contributions
    fresh = report.freshness
    ctx = {
        "settings": settings,
        "base": "",
        "report": delivery,
        "title": report.title,
        "labels": [(key, label) for key, _, label in FIGURES],
        "total": figures(delivery.since),
        "rows": rows,
        "clicks": [(c.link, c.url, shown_count(c.count)) for c in delivery.clicks],
        "org_clicks": org_clicks,
        "contributions": given,
        "contribution_rows": [
            (name or NOT_NAMED, counts, sum(counts)) for name, counts in given.rows
        ],
        "section_totals": [sum(c[n] for _, c in given.rows) for n in range(len(given.sections))],
        "tracker": report.tracker,
        "fresh": fresh,
        "fresh_rows": [
            (t.organisation, t.fresh, t.listed, round(100 * t.fresh / t.listed) if t.listed else 0)
            for t in fresh.organisations
        ],
        "made": f"{made.day} {made:%B %Y, %H:%M %Z}".strip(),
        "window": [_day(t) for t in delivery.window] if delivery.window else None,
    }
    env = render.environment(settings, settings.root)
    return render.render_template(env, TEMPLATE, ctx, settings.root)


def _day(stamp: str) -> str:
    when = dt.datetime.fromisoformat(stamp)
    return f"{when.day} {when:%B %Y}"


def management_report(
    settings: Settings,
    db: Database,
    issue_id: str,
    sender: str | None = None,
    made: dt.datetime | None = None,
) -> str:
    """The HTML page for management of ``issue_id``, as of ``made`` (default: now, UTC):
    what ``newsletter report --html`` writes and the editor's desk shows."""
    made = made or dt.datetime.now(dt.UTC)
    return render_html(settings, collect(settings, db, issue_id, sender, made.date()), made)


def write_html(
    settings: Settings,
    report: ManagementReport,
    output: Path | None,
    *,
    force: bool = False,
    keep: tuple[Path, ...] = (),
    made: dt.datetime | None = None,
) -> str:
    """The HTML report, written to ``output`` when given: refused by
    ``files.check_output`` (an existing file only with ``force``; never the
    database), else written whole or not at all."""
    if output is not None:
        check_output(output, force=force, keep=keep)
    html = render_html(settings, report, made or dt.datetime.now(dt.UTC))
    if output is not None:
        try:
            write_atomic(output, html)
        except OSError as exc:
            raise cannot_write(output, exc) from None
    return html
