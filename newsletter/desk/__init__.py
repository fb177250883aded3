"""The editor's desk: ``newsletter desk``, a web app over the same stage functions
the command line calls (issues, inbox, item editor, directory queue, build and
preview, review links, send, report, contributions)."""

from newsletter.desk.app import MIN_PASSWORD, PASSWORD_ENV, Desk, is_loopback
from newsletter.desk.pages import PAGES, desk_app

__all__ = ["MIN_PASSWORD", "PAGES", "PASSWORD_ENV", "Desk", "desk_app", "is_loopback"]
