"""Whether an issue is published: the one rule the archive asks, and the editor's say.

An issue is published when a real send of it completes (``send`` records it
in contacts.db), or when the editor says so with ``newsletter publish``;
``newsletter unpublish`` takes it back. Those decisions live in contacts.db,
beside the ledger that shows the send. The editor's word stands: a send that
completes after it does not override it.

An issue nobody has decided on yet is decided by its issue.toml: ``draft =
true``, which ``newsletter new`` writes, keeps it off the site; an issue.toml
without it (an issue made before drafts existed) is published, as it was.

The rule itself (``Status``, ``status``, ``status_of``) is ``send.publication``'s,
below this stage, so that ``intake`` can ask it too; this module keeps the
editor's say.

Nothing here rewrites issue.toml: it is the editor's file, a build input
(editing it would make the build just sent look stale), and it may be open in
an editor while a send runs for hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsletter import store
from newsletter.send.publication import Status as Status
from newsletter.send.publication import status as status
from newsletter.send.publication import status_of
from newsletter.store import Database


@dataclass(frozen=True)
class Change:
    """What ``publish`` or ``unpublish`` did: ``before`` and ``after`` the command."""

    issue: str
    before: Status
    after: Status

    @property
    def changed(self) -> bool:
        return self.before.published != self.after.published


def set_published(db: Database, folder: Path, published: bool) -> Change:
    """The editor publishes (or unpublishes) the issue in ``folder``; safe to repeat.

    Saying what is already so records nothing, so an unpublish of a draft not
    yet sent does not stop its send from publishing it.
    """
    before = status_of(db, folder)
    if before.published != published:
        source = "newsletter publish" if published else "newsletter unpublish"
        store.publications.decide(db, folder.name, published, source)
    return Change(folder.name, before, status_of(db, folder))
