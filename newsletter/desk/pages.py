"""The desk's app with every page: ``desk_app``."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from newsletter.config import Settings
from newsletter.desk import (
    building,
    calls,
    contributions,
    directory,
    editor,
    inbox,
    issues,
    report,
    reviews,
    sending,
)
from newsletter.desk.app import Pages, create_desk, open_desk

# Every page of the desk, each a module with a ``blueprint(desk)``, in the order an
# issue goes through them.
PAGES: tuple[Pages, ...] = (
    issues.blueprint,
    inbox.blueprint,
    editor.blueprint,
    building.blueprint,
    reviews.blueprint,
    calls.blueprint,
    sending.blueprint,
    report.blueprint,
    directory.blueprint,
    contributions.blueprint,
)


def desk_app(
    settings: Settings, db_path: Path, host: str = "127.0.0.1", password: str | None = None
) -> Flask:
    """The editor's desk on ``settings.root``'s issues and ``db_path``, every page in."""
    return create_desk(open_desk(settings, db_path, host, password), PAGES)
