"""Feeds into an issue's inbox: the registry, fetching and parsing, de-duplication,
``collect``, and the editor's accept and reject.

Feed rows live in contacts.db (``store.feeds``); candidates are item files in
``issues/ID/inbox/`` (``issue.inbox``).
"""

from newsletter.feeds.collector import Collected, FeedHealth, collect
from newsletter.feeds.entries import Entry, Parsed, parse_feed, parse_raw
from newsletter.feeds.registry import (
    WORKERS,
    Feed,
    add_feed,
    find_feed,
    list_feeds,
    quiet_feeds,
    remove_feed,
)
from newsletter.feeds.triage import accept, reject

__all__ = [
    "WORKERS",
    "Collected",
    "Entry",
    "Feed",
    "FeedHealth",
    "Parsed",
    "accept",
    "add_feed",
    "collect",
    "find_feed",
    "list_feeds",
    "parse_feed",
    "parse_raw",
    "quiet_feeds",
    "reject",
    "remove_feed",
]
