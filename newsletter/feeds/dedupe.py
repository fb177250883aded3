"""Merging one story told by several feeds into one candidate.

Entries from different feeds are one story when their canonical URLs match or
their titles are near-identical (the keys are in ``issue.keys``); each group
becomes one candidate that lists every source.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass

from newsletter.feeds.entries import Entry
from newsletter.store.feeds import Feed

FUZZY = 0.9  # difflib ratio above which two titles from different feeds are one story


@dataclass(frozen=True)
class Pending:
    """An entry that is new to every feed and issue, waiting to become a candidate."""

    order: int  # its feed's place in the registry: the first feed names a merged story
    feed: Feed
    entry: Entry
    canonical: str | None  # canonical_url of its link
    title_key: str


def group(pending: list[Pending]) -> list[list[Pending]]:
    """Union entries with one canonical URL, or near-identical titles from different feeds."""
    parent = list(range(len(pending)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    by_url: dict[str, int] = {}
    by_title: dict[str, list[int]] = defaultdict(list)
    buckets: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
    for i, p in enumerate(pending):
        feed, canon, tkey = p.feed, p.canonical, p.title_key
        if canon:
            union(i, by_url.setdefault(canon, i))
        words = tkey.split()
        if len(words) < 3:
            continue  # "News", "Update": too generic to say two feeds tell one story
        for j in by_title[tkey]:
            if pending[j].feed.id != feed.id:
                union(i, j)
        by_title[tkey].append(i)
        if len(words) >= 4:  # short titles are too generic to match loosely
            buckets[(words[0], tuple(re.findall(r"\d+", tkey)))].append(i)
    for members in buckets.values():
        if len(members) > 200:
            continue  # bound the cost; exact matches above still apply
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if pending[i].feed.id == pending[j].feed.id or find(i) == find(j):
                    continue
                matcher = difflib.SequenceMatcher(None, pending[i].title_key, pending[j].title_key)
                if matcher.real_quick_ratio() >= FUZZY and matcher.ratio() >= FUZZY:
                    union(i, j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(pending)):
        groups[find(i)].append(i)
    return [[pending[i] for i in members] for members in groups.values()]
