"""What comes back: bounces and delivery reports, the report for management
(``management_report``: the page's HTML for an issue), the contribution tracker
(``track``: per organisation, what it sent to the last issues and what they took),
the one-click unsubscribe pages, and what every page of ``serve`` shares (``Site``)."""

from newsletter.returns.bounces import Outcome, Summary, process
from newsletter.returns.management import (
    ManagementReport,
    collect,
    management_report,
    render_html,
    text_lines,
    write_html,
)
from newsletter.returns.report import (
    FIGURES,
    NO_ORGANISATION,
    DeliveryReport,
    as_json,
    delivery_report,
    shown_count,
)
from newsletter.returns.tracker import SHOWN, Tracker, track, tracker_lines
from newsletter.returns.webapp import (
    WEB_LOCK_WAIT,
    Site,
    app_for,
    create_app,
    log_requests,
    mask_tokens,
    open_site,
)

__all__ = [
    "FIGURES",
    "NO_ORGANISATION",
    "DeliveryReport",
    "ManagementReport",
    "Outcome",
    "Site",
    "SHOWN",
    "Summary",
    "Tracker",
    "WEB_LOCK_WAIT",
    "app_for",
    "as_json",
    "collect",
    "create_app",
    "log_requests",
    "management_report",
    "mask_tokens",
    "open_site",
    "delivery_report",
    "process",
    "render_html",
    "shown_count",
    "text_lines",
    "track",
    "tracker_lines",
    "write_html",
]
