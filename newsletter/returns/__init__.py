"""What comes back: bounces and delivery reports, and the one-click unsubscribe app."""

from newsletter.returns.bounces import Outcome, Summary, process
from newsletter.returns.report import (
    FIGURES,
    NO_ORGANISATION,
    DeliveryReport,
    as_json,
    delivery_report,
    write_html,
)
from newsletter.returns.webapp import app_from_env, create_app, log_requests

__all__ = [
    "FIGURES",
    "NO_ORGANISATION",
    "DeliveryReport",
    "Outcome",
    "Summary",
    "app_from_env",
    "as_json",
    "create_app",
    "log_requests",
    "delivery_report",
    "process",
    "write_html",
]
