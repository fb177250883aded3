"""What comes back: bounces and delivery reports, and the one-click unsubscribe app."""

from newsletter.returns.bounces import Outcome, Summary, process
from newsletter.returns.webapp import app_from_env, create_app, log_requests

__all__ = ["Outcome", "Summary", "app_from_env", "create_app", "log_requests", "process"]
