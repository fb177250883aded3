"""What comes back: bounces and delivery reports, the one-click unsubscribe pages, and
what every page of ``serve`` shares (``Site``)."""

from newsletter.returns.bounces import Outcome, Summary, process
from newsletter.returns.report import (
    FIGURES,
    NO_ORGANISATION,
    DeliveryReport,
    as_json,
    delivery_report,
    shown_count,
    write_html,
)
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
    "Outcome",
    "Site",
    "Summary",
    "WEB_LOCK_WAIT",
    "app_for",
    "as_json",
    "create_app",
    "log_requests",
    "mask_tokens",
    "open_site",
    "delivery_report",
    "process",
    "shown_count",
    "write_html",
]
