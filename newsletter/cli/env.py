"""What every command shares: the root folder, the database path, the settings.

Loaded on first use, so a command that needs no database never opens (or
imports) one.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from newsletter.config import Settings
    from newsletter.store import Database


class Env:
    """Lazily loaded state for one invocation, shared through the click context."""

    def __init__(self, root: Path, db_path: Path) -> None:
        self.root = root
        self.db_path = db_path

    @cached_property
    def settings(self) -> Settings:
        from newsletter.config import load_settings

        return load_settings(self.root)

    @cached_property
    def db(self) -> Database:
        from newsletter.store import open_db

        return open_db(self.db_path)

    def issue_dir(self, issue_id: str, *, must_exist: bool = True) -> Path:
        from newsletter.issue import issue_folder

        return issue_folder(self.root, issue_id, must_exist)


pass_env = click.make_pass_decorator(Env)
