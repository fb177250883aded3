"""The editor's triage of an issue's inbox: accept candidates into items/, or reject them.

Both remember what they did in contacts.db (``store.feeds``), so a feed never
proposes an accepted or rejected story again, whichever issue collects it.
"""

from __future__ import annotations

from pathlib import Path

from newsletter import store
from newsletter.config import Settings
from newsletter.feeds.registry import check_section
from newsletter.issue.inbox import free_name, move_to_items, read_keys, resolve, with_section
from newsletter.issue.keys import title_key
from newsletter.store import Database
from newsletter.store.feeds import Rejection


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
    paths = resolve(folder, names, all_)
    # Every file rewritten in memory first: one that cannot be read moves nothing.
    texts = (
        {p: with_section(p, f"issues/{folder.name}/inbox", section) for p in paths}
        if section
        else {}
    )
    taken = {p.stem for p in (folder / "items").glob("*.md")}
    moved, stamp = [], store.now()
    with store.writing(db):
        for path in paths:
            name = free_name(path.stem, taken) + ".md"
            taken.add(name.removesuffix(".md"))
            # Recorded first: if the move fails, the transaction takes the record back.
            store.feeds.add_used(db, read_keys(path).urls, folder.name, name, stamp)
            move_to_items(folder, path, name, texts.get(path))
            moved.append((path.name, name))
    return moved


def reject(db: Database, folder: Path, names: tuple[str, ...], all_: bool) -> list[str]:
    """Delete candidates and remember them, so no feed proposes them again."""
    paths = resolve(folder, names, all_)
    stamp = store.now()
    with store.writing(db):
        for path in paths:
            keys = read_keys(path)
            tkey = title_key(keys.title) or None
            targets: list[str | None] = [*sorted(keys.urls)] or [None]  # no URL: guid, title
            for url in targets:
                rejection = Rejection(url, keys.guid, tkey, keys.title, folder.name, keys.feed)
                store.feeds.add_rejection(db, rejection, stamp)
    for path in paths:
        path.unlink(missing_ok=True)
    return [p.name for p in paths]
