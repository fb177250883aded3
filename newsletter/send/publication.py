"""Whether an issue is published, and whether it is still open: the one rule.

An issue is published when a real send of it completes (``delivery`` records
it in contacts.db), or when the editor says so (``newsletter publish``;
``unpublish`` takes it back). An issue nobody has decided on yet is decided by
its issue.toml: ``draft = true``, which ``newsletter new`` writes, keeps it
unpublished; an issue.toml without it (one made before drafts existed) is
published, as it was.

The rule lives here, in the stage that publishes an issue as its send
completes, rather than in ``publish/``: ``publish`` (the archive) and
``intake`` (which issue a contribution form goes to: ``open_issue``) both ask
it, and two parts of one rank may not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter import store
from newsletter.issue.folder import issue_ids
from newsletter.issue.meta import read_meta
from newsletter.store import Database
from newsletter.store.ledger import send_finished
from newsletter.store.publications import EDITOR, Publication


@dataclass(frozen=True)
class Status:
    """Whether an issue is published, and the reason, as the archive's lines say it."""

    published: bool
    why: str  # "a draft, never sent", "unpublished on 2027-04-02", "sent on ..."


def status(record: Publication | None, draft: bool | None) -> Status:
    """The one rule: the recorded decision, else issue.toml's ``draft``."""
    if record is not None:
        if not record.published:
            return Status(False, f"unpublished on {record.day}")
        verb = "published" if record.by == EDITOR else "sent"
        return Status(True, f"{verb} on {record.day}")
    if draft:
        return Status(False, "a draft, never sent")
    return Status(True, "issue.toml does not say draft = true")


def status_of(db: Database | None, folder: Path) -> Status:
    """``folder``'s status now (without contacts.db: issue.toml alone)."""
    record = store.publications.get(db, folder.name) if db is not None else None
    return status(record, read_meta(folder, ()).draft)


def open_issue(db: Database, root: Path) -> Path | None:
    """The issue now taking contributions: the newest issue folder, while it is neither
    published nor sent; None when it is either (the next issue is not made yet).

    Only the newest: an older draft left behind a sent issue is abandoned, not open.
    An issue the editor unpublished after sending it stays closed: it went out."""
    ids = issue_ids(root)
    if not ids:
        return None
    folder = root / "issues" / ids[0]
    if status_of(db, folder).published or send_finished(db, folder.name) is not None:
        return None
    return folder
