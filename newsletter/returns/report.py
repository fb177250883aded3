"""An issue's delivery report: what the send did and what came back since.

``delivery_report`` reads the ledger per sender and the issue's figures since the
send (``store.bounces.aftermath_by_organisation``: recipients, delivered, rejected
at send, hard and soft bounces, complaints, unsubscribed), overall and per
organisation. ``newsletter status`` shows it as text or JSON (``as_json``, a
stable shape the README documents); ``newsletter report --html`` writes it as one
page for management (``write_html``): counts per organisation only, never an
address, a name or a phone number, so it can be forwarded as it is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.build import render
from newsletter.config import Settings
from newsletter.files import cannot_write, check_output, write_atomic
from newsletter.store import Database, bounces, clicks, ledger

# (JSON key, Aftermath field, label): one order and one wording for every form.
FIGURES = (
    ("recipients", "recipients", "recipients"),
    ("delivered", "delivered", "delivered"),
    ("rejected", "rejected", "rejected at send"),
    ("hard_bounces", "hard", "hard bounces"),
    ("soft_bounces", "soft", "soft bounces"),
    ("complaints", "complaints", "complaints"),
    ("unsubscribed", "unsubscribed", "unsubscribed"),
)
NO_ORGANISATION = "(no organisation)"
# A click count this small could point at one reader: it is shown as this instead.
FEW = 5
FEWER = "fewer than 5"
TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class SenderStatus:
    """One sender's deliveries of an issue: how many rows in each status, and the problems."""

    sender: str
    counts: tuple[tuple[str, int], ...]  # every ledger status, in ledger order
    problems: tuple[ledger.Delivery, ...]  # failed, uncertain or being handed over

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@dataclass(frozen=True)
class DeliveryReport:
    """An issue's deliveries per sender, and what became of them since, overall and
    per organisation (by the organisation each contact has now; '' for none)."""

    issue: str
    sender: str | None  # the one sender asked for, or None for all
    senders: tuple[SenderStatus, ...]
    window: tuple[str, str] | None  # first and last message accepted, or None
    since: bounces.Aftermath
    organisations: tuple[tuple[str, bounces.Aftermath], ...]
    clicks: tuple[clicks.LinkClicks, ...] = ()  # readership = "aggregate": per link


def delivery_report(db: Database, issue_id: str, sender: str | None = None) -> DeliveryReport:
    """Each sender's deliveries of ``issue_id`` (only ``sender``'s when given), and the
    issue's figures since the send, overall and per organisation."""
    found = []
    for name, counts in ledger.counts(db, issue_id).items():
        if sender and name != sender:
            continue
        problems = ledger.rows(db, issue_id, name, ("failed", "uncertain", "sending"))
        found.append(SenderStatus(name, tuple(counts.items()), tuple(problems)))
    per_org = tuple(bounces.aftermath_by_organisation(db, issue_id, sender))
    total = sum((figures for _, figures in per_org), bounces.NOBODY)
    window = ledger.send_window(db, issue_id, sender)
    followed = tuple(clicks.clicks(db, issue_id))
    return DeliveryReport(issue_id, sender, tuple(found), window, total, per_org, followed)


def shown_count(count: int) -> str:
    """A click count as reports show it: "fewer than 5" under ``FEW`` (it could be one reader)."""
    return FEWER if count < FEW else f"{count:,}"


def figures(since: bounces.Aftermath) -> dict[str, int]:
    """The figures by their JSON keys, in FIGURES' order."""
    return {key: getattr(since, field) for key, field, _ in FIGURES}


def as_json(report: DeliveryReport) -> dict[str, Any]:
    """The report as a JSON document (keys in snake_case), for ``cli.env.echo_json``."""
    doc: dict[str, Any] = {
        "issue": report.issue,
        "sender": report.sender,
        "first_sent": report.window[0] if report.window else None,
        "last_sent": report.window[1] if report.window else None,
        "senders": [
            {
                "sender": s.sender,
                "recipients": s.total,
                "statuses": dict(s.counts),
                "problems": [
                    {
                        "contact_id": row.contact_id,
                        "email": row.email,
                        "status": row.status,
                        "attempts": row.attempts,
                        "reason": row.last_error,
                    }
                    for row in s.problems
                ],
            }
            for s in report.senders
        ],
        "since_send": figures(report.since),
        "organisations": [
            {"organisation": name or None, **figures(since)} for name, since in report.organisations
        ],
    }
    return doc


def render_html(settings: Settings, report: DeliveryReport, made: dt.datetime) -> str:
    """The one-page HTML report: counts only, overall and per organisation."""
    rows = [(name or NO_ORGANISATION, figures(since)) for name, since in report.organisations]
    ctx = {
        "settings": settings,
        "base": "",
        "report": report,
        "labels": [(key, label) for key, _, label in FIGURES],
        "total": figures(report.since),
        "rows": rows,
        "clicks": [(c.link, c.url, shown_count(c.count)) for c in report.clicks],
        "made": f"{made.day} {made:%B %Y, %H:%M %Z}".strip(),
        "window": [_day(t) for t in report.window] if report.window else None,
    }
    env = render.environment(settings, settings.root)
    return render.render_template(env, TEMPLATE, ctx, settings.root)


def _day(stamp: str) -> str:
    when = dt.datetime.fromisoformat(stamp)
    return f"{when.day} {when:%B %Y}"


def write_html(
    settings: Settings,
    report: DeliveryReport,
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
