"""``create_app``: the unsubscribe pages, the archive, click counting, and the directory's
and the reviewers' pages and the contribution form in one app; ``app_from_env``: the
same for a WSGI server, configured by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from newsletter.config import Settings, load_settings
from newsletter.directory import blueprint
from newsletter.intake import blueprint as contribution_form
from newsletter.returns import WEB_LOCK_WAIT, app_for, open_site, readership
from newsletter.review import blueprint as review_pages


def create_app(
    settings: Settings,
    db_path: Path,
    site_dir: Path | None = None,
    secret: bytes | None = None,
    wait: float = WEB_LOCK_WAIT,
) -> Flask:
    """The app; raises NewsletterError without a usable NEWSLETTER_SECRET or a writable database."""
    site = open_site(settings, db_path, secret, wait)
    app = app_for(site, site_dir)
    app.register_blueprint(blueprint(site))
    app.register_blueprint(readership.blueprint(site))
    app.register_blueprint(review_pages(site))
    app.register_blueprint(contribution_form(site))
    return app


def app_from_env() -> Flask:
    """The app for a WSGI server, configured like the CLI by environment variables.

    NEWSLETTER_ROOT (default: the current folder), NEWSLETTER_DB (default
    ROOT/contacts.db), NEWSLETTER_SITE (default ROOT/site), NEWSLETTER_SECRET.
    """
    root = Path(os.environ.get("NEWSLETTER_ROOT") or ".").resolve()
    db_path = Path(os.environ.get("NEWSLETTER_DB") or root / "contacts.db").resolve()
    site = os.environ.get("NEWSLETTER_SITE")
    return create_app(load_settings(root), db_path, Path(site) if site else None)
