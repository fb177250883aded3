"""How an item or a candidate is recognised again, in any issue and from any feed.

Three keys: the canonical URL of its link (tracking parameters, case and
trailing slashes ignored), its guid (unique only within the feed that gave
it), and a title key that ignores case, accents, punctuation and small words.

``TRACKING`` is the one list of tracking parameters: ``canonical_url`` ignores
them when it recognises a story, and ``untracked`` drops them from the link an
item keeps, leaving every other parameter and the fragment as written.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

# Query parameters that only say who clicked, from where: Brave's list of query
# trackers (brave-core, "query_filter"; Firefox's query stripping documentation
# points to it), plus Google Analytics' utm_* campaign tags and the Mailchimp and
# HubSpot ids it leaves out (mc_cid, _hsmi). Not "ref": on many sites
# (GitHub's ?ref=BRANCH) it names what the page shows. Compared without case.
TRACKING = frozenset(
    {
        "__hsfp",
        "__hssc",
        "__hstc",
        "__s",
        "_hsenc",
        "_hsmi",
        "_openstat",
        "dclid",
        "fbclid",
        "gclid",
        "hsctatracking",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "ml_subscriber",
        "ml_subscriber_hash",
        "msclkid",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "s_cid",
        "twclid",
        "vero_conv",
        "vero_id",
        "wickedid",
        "yclid",
    }
)
TRACKING_PREFIX = "utm_"
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
    query = _without_tracking(parts.query)
    path = parts.path.rstrip("/") or "/"
    if not (path + query).isascii():
        path, query = quote(path, safe=_SAFE), quote(query, safe=_SAFE + "?")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def is_tracking(name: str) -> bool:
    """Whether a query parameter's name is a tracking parameter (see ``TRACKING``)."""
    name = name.lower()
    return name in TRACKING or name.startswith(TRACKING_PREFIX)


def _without_tracking(query: str) -> str:
    return "&".join(p for p in query.split("&") if p and not is_tracking(p.split("=", 1)[0]))


def untracked(url: str) -> str:
    """``url`` with its tracking parameters dropped, and nothing else changed.

    The link an item keeps: other parameters, their order and the fragment
    matter to the page, and the host's case or a trailing slash are left as
    the publisher wrote them (``canonical_url`` ignores those when comparing).
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[": kept as written, and never a crash
        return url
    query = _without_tracking(parts.query)
    if query == parts.query:
        return url  # nothing to drop: not even urlunsplit's normalising of "?" or "#"
    return urlunsplit(parts._replace(query=query))


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
