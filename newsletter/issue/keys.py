"""How an item or a candidate is recognised again, in any issue and from any feed.

Three keys: the canonical URL of its link (tracking parameters, case and
trailing slashes ignored), its guid (unique only within the feed that gave
it), and a title key that ignores case, accents, punctuation and small words.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_[^=]*|fbclid|gclid)$", re.I)
_STOP = {"a", "an", "the", "of", "for", "and", "to", "in", "on", "at", "by", "with", "from"}
_SAFE = "/%:@!$&'()*+,;=~"  # reserved characters kept as they are when %-encoding


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


# A guid is unique only within its feed: "42" from two feeds is two stories. So
# guids are kept as (feed URL, guid) pairs; a feed of None matches any feed.
FeedGuid = tuple[str | None, str]


def has_guid(guids: set[FeedGuid], feed_urls: set[str], guid: str | None) -> bool:
    """Whether ``guid`` from a feed known by any of ``feed_urls`` is among ``guids``."""
    return bool(guid) and any((u, guid) in guids for u in (None, *feed_urls))
