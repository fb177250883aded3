"""The editor's triage of an issue's inbox: accept candidates into items/, or reject them.

Both remember what they did in contacts.db (``store.feeds``), so a feed never
proposes an accepted or rejected story again, whichever issue collects it.
"""

from __future__ import annotations

from pathlib import Path

from newsletter import store
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.feeds.registry import check_section
from newsletter.issue.inbox import free_name, move_to_items, read_keys, resolve, with_section
from newsletter.issue.keys import title_key
from newsletter.store import Database
from newsletter.store.feeds import Rejection

NEW_NAME_TRIES = 100  # free names tried when other editors keep taking the one picked


def accept(
    db: Database,
    settings: Settings,
    folder: Path,
    names: tuple[str, ...],
    all_: bool,
    section: str | None = None,
) -> list[tuple[str, str]]:
    """Move candidates into items/ (into ``section``, if given); return (candidate, file) pairs."""
    if section is not None:
        check_section(settings, section)
    resolve(folder, names, all_)  # a wrong name is said before waiting for the lock
    moved, stamp = [], store.now()
    # Looked at again under the lock: another editor (a second tab, the command line)
    # may have accepted or rejected a candidate, or made an item, while this one waited.
    with store.writing(db):
        paths = resolve(folder, names, all_)
        # Every file rewritten in memory first: one that cannot be read moves nothing.
        texts = (
            {p: with_section(p, f"issues/{folder.name}/inbox", section) for p in paths}
            if section
            else {}
        )
        taken = {p.stem for p in (folder / "items").glob("*.md")}
        for path in paths:
            urls = read_keys(path).urls
            for _ in range(NEW_NAME_TRIES):
                name = free_name(path.stem, taken) + ".md"
                taken.add(name.removesuffix(".md"))
                # Recorded first: if the move fails, the transaction takes the record back.
                store.feeds.add_used(db, urls, folder.name, name, stamp)
                try:
                    move_to_items(folder, path, name, texts.get(path))
                except FileExistsError:  # an editor saved a new item by that name just now
                    continue
                moved.append((path.name, name))
                break
            else:
                raise NewsletterError(
                    f"issues/{folder.name}/items/{path.stem}.md: no free file name for "
                    f"{path.name}. Rename it in the inbox, then accept it again."
                )
    return moved


def reject(db: Database, folder: Path, names: tuple[str, ...], all_: bool) -> list[str]:
    """Delete candidates and remember them, so no feed proposes them again."""
    resolve(folder, names, all_)  # a wrong name is said before waiting for the lock
    stamp = store.now()
    with store.writing(db):
        # Looked at again under the lock: another editor may have accepted one meanwhile.
        paths = resolve(folder, names, all_)
        for path in paths:
            keys = read_keys(path)
            tkey = title_key(keys.title) or None
            targets: list[str | None] = [*sorted(keys.urls)] or [None]  # no URL: guid, title
            for url in targets:
                rejection = Rejection(url, keys.guid, tkey, keys.title, folder.name, keys.feed)
                store.feeds.add_rejection(db, rejection, stamp)
        for path in paths:  # under the lock: an accept waiting for it finds them gone
            path.unlink(missing_ok=True)
    return [p.name for p in paths]
