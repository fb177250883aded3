"""Where an issue lives: ``issues/ID/``, and what an ID may be."""

from __future__ import annotations

from pathlib import Path

from newsletter.errors import BadUsage, NewsletterError
from newsletter.models import ISSUE_ID
from newsletter.schema import shown


def issue_folder(root: Path, issue_id: str, must_exist: bool = True) -> Path:
    """``root/issues/ID``; BadUsage for a malformed ID (the command line is wrong) and,
    with ``must_exist``, NewsletterError for a folder that is not there."""
    if not ISSUE_ID.fullmatch(issue_id):
        raise BadUsage(
            f"{shown(issue_id)}: not a valid issue ID. "
            "Use letters, digits and dashes, such as 2026-Q4."
        )
    folder = root / "issues" / issue_id
    if must_exist and not folder.is_dir():
        raise NewsletterError(
            f"issues/{issue_id}: no such issue folder. Create it with: newsletter new {issue_id}"
        )
    return folder


def issue_ids(root: Path) -> list[str]:
    """Every issue under ``root/issues``, newest first: the folders whose name is a valid
    ID and that hold issue.toml (a stray folder, a dotfile, a backup copy are not issues)."""
    found = (root / "issues").glob("*/issue.toml")
    return sorted((p.parent.name for p in found if ISSUE_ID.fullmatch(p.parent.name)), reverse=True)
