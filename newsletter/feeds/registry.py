"""The feed registry: add, find and remove the feeds `collect` reads.

The rows live in contacts.db (``store.feeds``); this module checks what an
editor types: the URL (http(s), file:// or a path), the section and the name.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from newsletter import store
from newsletter.config import Settings
from newsletter.download import host_of, is_local, local_path
from newsletter.errors import BadUsage, NewsletterError
from newsletter.schema import shown
from newsletter.store import Database
from newsletter.store.feeds import Feed, list_feeds, quiet_feeds

# The registry as the stage shows it: every feed with its health, and those
# that gave nothing new for the issue they were last collected for.
__all__ = ["WORKERS", "Feed", "add_feed", "find_feed", "list_feeds", "quiet_feeds", "remove_feed"]

WORKERS = 8  # feeds fetched at once


def check_section(settings: Settings, section: str) -> None:
    """A ``--section`` value must be a section of the house settings: one line naming them.

    A NewsletterError (exit 1), not a usage error: which keys exist is up to
    pyproject.toml, not the command line.
    """
    if section not in settings.section_keys:
        raise NewsletterError(
            f"--section: unknown section {shown(section)}. "
            f"Use one of: {', '.join(settings.section_keys)}."
        )


def add_feed(
    db: Database,
    settings: Settings,
    url: str,
    section: str,
    name: str | None,
    allow_private: bool = False,
) -> tuple[Feed, bool]:
    """Register a feed: an http(s) URL, a file:// URL or a local path; (feed, whether new).

    ``allow_private``: the URL's host may resolve to a loopback or private
    address (an intranet feed). Given for a URL already registered, it grants
    that to the registered feed and changes nothing else.
    """
    url = url.strip()
    check_section(settings, section)
    if not url:
        raise NewsletterError("URL: empty. Give an http(s) URL, a file:// URL or a path.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise NewsletterError(f"{url}: not a valid URL. Check it and try again.") from None
    private_host = None
    if is_local(url):
        path = local_path(url)
        if not path.is_file():
            raise NewsletterError(f"{url}: no such file. Give an http(s) URL or an existing file.")
        url = str(path.resolve())
    elif parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise NewsletterError(f"{url}: not a feed URL. Use https://..., file://... or a path.")
    else:
        url = _normal(url)
        private_host = host_of(url) if allow_private else None
    with store.writing(db):  # the name and URL checked are still free when inserted
        feeds = store.feeds.list_feeds(db)
        for feed in feeds:
            if feed.url == url and private_host and feed.private_host != private_host:
                store.feeds.set_private_host(db, feed.id, private_host)
                return replace(feed, private_host=private_host), False
            if feed.url == url:
                raise NewsletterError(f"{url}: already registered as '{feed.name}'.")
        name = _free_name(url, name, {f.name.casefold() for f in feeds})
        return store.feeds.insert_feed(db, url, name, section, private_host), True


def _free_name(url: str, name: str | None, taken: set[str]) -> str:
    """The name asked for, if free; else one made from the URL (``host``, ``host-2``...)."""
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise BadUsage("--name: empty. Give the feed a short name, e.g. --name 'UN News'.")
        if name.casefold() in taken:
            raise NewsletterError(
                f"--name: a feed is already named {shown(name)}. Pick another name."
            )
        return name
    base = Path(url).stem if is_local(url) else urlsplit(url).hostname or "feed"
    base = base.removeprefix("www.")
    name, n = base, 1
    while name.casefold() in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _normal(url: str) -> str:
    """Scheme and host lower-cased, as they are case-blind: one feed, one registry row."""
    parts = urlsplit(url)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    netloc = (f"{userinfo}@" if userinfo else "") + hostport.lower()
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc).geturl()


def find_feed(db: Database, name_or_url: str) -> Feed:
    key = name_or_url.strip()
    path = str(local_path(key).resolve()) if key and is_local(key) else None
    try:
        normal = _normal(key) if key and not is_local(key) else None
    except ValueError:
        normal = None
    wanted = {key, path, normal} - {None}
    for feed in store.feeds.list_feeds(db):
        # A feed that moved permanently is still found by the URL it was added with.
        if feed.name.casefold() == key.casefold() or {feed.url, feed.moved_from} & wanted:
            return feed
    raise NewsletterError(f"{name_or_url}: no such feed. See the names with: newsletter feeds list")


def remove_feed(db: Database, name_or_url: str) -> Feed:
    """Forget a feed and the entries it gave; rejections and used URLs stay."""
    with store.writing(db):
        feed = find_feed(db, name_or_url)
        store.feeds.delete_feed(db, feed.id)
    return feed
