"""What every command shares: the root folder, the database path, the settings."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import click

from newsletter.config import Settings, load_settings
from newsletter.errors import NewsletterError
from newsletter.store import Database, open_db

_ISSUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Env:
    """Lazily loaded state for one invocation, shared through the click context."""

    def __init__(self, root: Path, db_path: Path) -> None:
        self.root = root
        self.db_path = db_path

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.root)

    @cached_property
    def db(self) -> Database:
        return open_db(self.db_path)

    def issue_dir(self, issue_id: str, *, must_exist: bool = True) -> Path:
        # The ID becomes a folder, a URL path and part of every Message-ID, so
        # it is kept to letters, digits, dots, dashes and underscores.
        if not _ISSUE_ID.fullmatch(issue_id):
            raise NewsletterError(
                f"'{issue_id}': not a valid issue ID. Use letters, digits and dashes, "
                "such as 2026-Q4."
            )
        folder = self.root / "issues" / issue_id
        if must_exist and not folder.is_dir():
            raise NewsletterError(
                f"issues/{issue_id}: no such issue folder. "
                f"Create it with: newsletter new {issue_id}"
            )
        return folder


pass_env = click.make_pass_decorator(Env)
