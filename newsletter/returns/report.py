"""An issue's delivery report: what the send did and what came back since.

``delivery_report`` reads the ledger per sender and the issue's figures since the
send (``store.bounces.aftermath_by_organisation``: recipients, delivered, rejected
at send, hard and soft bounces, complaints, unsubscribed), overall and per
organisation. ``newsletter status`` shows it as text or JSON (``as_json``, a
stable shape the README documents); ``newsletter report`` adds what
``returns.management`` gathers around it for management.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newsletter.models import MIN_GROUP
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
FEW = MIN_GROUP
FEWER = f"fewer than {FEW}"


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
