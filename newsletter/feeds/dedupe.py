"""Recognising one story twice: canonical URLs, title keys, and merging entries.

An entry is the same as an item when their canonical URLs match; entries from
different feeds are one story when their links match or their titles are
near-identical, and become one candidate that lists every source.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from newsletter.feeds.entries import Entry
    from newsletter.feeds.registry import Feed

_TRACKING = re.compile(r"^(utm_[^=]*|fbclid|gclid)$", re.I)
_STOP = {"a", "an", "the", "of", "for", "and", "to", "in", "on", "at", "by", "with", "from"}
_SAFE = "/%:@!$&'()*+,;=~"  # reserved characters kept as they are when %-encoding
FUZZY = 0.9  # difflib ratio above which two titles from different feeds are one story

# (feed order, feed, entry, canonical URL, title key): an entry that is new.
Pending = tuple[int, "Feed", "Entry", str | None, str]


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, fragment and tracking parameters dropped, no trailing /.

    A non-ASCII host or path is compared in its ASCII form (IDNA, %-encoding), so
    "bücher.example/straße" and "xn--bcher-kva.example/stra%C3%9Fe" are one URL.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:  # e.g. an unclosed "[": compared as written, and never a crash
        return url.strip()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = f"{host}:{port}" if port and port != default else host
    query = "&".join(
        p for p in parts.query.split("&") if p and not _TRACKING.match(p.split("=", 1)[0])
    )
    path = parts.path.rstrip("/") or "/"
    if not (path + query).isascii():
        path, query = quote(path, safe=_SAFE), quote(query, safe=_SAFE + "?")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def title_key(title: str) -> str:
    """Case, accents, punctuation and small words ignored: near-identical titles match."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    words = re.findall(r"\w+", text)
    return " ".join([w for w in words if w not in _STOP] or words)


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
    buckets: dict[tuple, list[int]] = defaultdict(list)
    for i, (_, feed, _, canon, tkey) in enumerate(pending):
        if canon:
            union(i, by_url.setdefault(canon, i))
        words = tkey.split()
        if len(words) < 3:
            continue  # "News", "Update": too generic to say two feeds tell one story
        for j in by_title[tkey]:
            if pending[j][1].id != feed.id:
                union(i, j)
        by_title[tkey].append(i)
        if len(words) >= 4:  # short titles are too generic to match loosely
            buckets[(words[0], tuple(re.findall(r"\d+", tkey)))].append(i)
    for members in buckets.values():
        if len(members) > 200:
            continue  # bound the cost; exact matches above still apply
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if pending[i][1].id == pending[j][1].id or find(i) == find(j):
                    continue
                matcher = difflib.SequenceMatcher(None, pending[i][4], pending[j][4])
                if matcher.real_quick_ratio() >= FUZZY and matcher.ratio() >= FUZZY:
                    union(i, j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(pending)):
        groups[find(i)].append(i)
    return [[pending[i] for i in members] for members in groups.values()]
