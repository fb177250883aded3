"""newsletter.issue.keys, by property: canonical_url and title_key are total and stable.

Feeds hand over any link and any title; the keys that recognise a story again
must never raise, must be their own key (so stored keys match fresh ones), and
must ignore what they promise to ignore.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import assume, example, given
from hypothesis import strategies as st

from newsletter.issue.keys import TRACKING, canonical_url, is_tracking, title_key, untracked
from newsletter.schema import is_web_url

HOSTS = st.one_of(
    st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    st.sampled_from(["B\u00fccher.example", "xn--bcher-kva.example", "[::1]", "127.0.0.1", "[bad"]),
)
URLS = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, port, path, query, fragment: (
            f"{scheme}://{host}{port}/{path}{'?' + query if query else ''}{'#' + fragment if fragment else ''}"
        ),
        st.sampled_from(["http", "https", "HTTPS", "ftp"]),
        HOSTS,
        st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":x"]),
        st.text(max_size=20),
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(
                ["utm_source=rss&id=3", "fbclid=1", "a=1&UTM_Medium=x&b=2", "q=\u00fc"]
            ),
        ),
        st.text(max_size=10),
    ),
)


# Text a URL may carry: no spaces or control characters (is_web_url refuses those).
_URL_TEXT = st.text(st.characters(categories=["L", "N", "P", "S"]), max_size=20)
WEB_URLS = st.builds(
    lambda scheme, host, port, path, query, fragment: (
        f"{scheme}://{host}{port}/{path}{'?' + query if query else ''}{'#' + fragment if fragment else ''}"
    ),
    st.sampled_from(["http", "https"]),
    HOSTS,
    st.sampled_from(["", ":80", ":443", ":8080"]),
    _URL_TEXT,
    st.one_of(
        _URL_TEXT, st.sampled_from(["utm_source=rss&id=3", "fbclid=1", "a=1&UTM_Medium=x&b=2"])
    ),
    _URL_TEXT,
)


@given(url=URLS)
@example(url="http://[bad/x")
@example(url="0 #")
def test_canonical_url_never_raises(url):
    assert isinstance(canonical_url(url), str)


# What reaches canonical_url: links that passed as web URLs (schema.is_web_url), from
# items, feeds and the inbox. Text with spaces is not one ("0 #" keys as "0 ", then "0").
@given(url=st.one_of(WEB_URLS, URLS), fragment=st.text(max_size=10))
@example(url="https://e.org/?q=\u00fc&utm_source=x", fragment="")
@example(url="https://e.org/a%2Fb/", fragment="top")
@example(url="HTTPS://B\u00fccher.example:443/stra\u00dfe/", fragment="")
def test_a_web_links_key_is_its_own_key_whatever_its_fragment_and_tracking(url, fragment):
    assume(is_web_url(url))
    key = canonical_url(url)
    assert canonical_url(key) == key, (url, key)
    assert canonical_url(f"{url}#{fragment}") == key
    if "#" not in url:
        tracked = f"{url}{'&' if '?' in url else '?'}utm_source=rss&fbclid=1"
        assert canonical_url(tracked) == key


_PARAM = st.one_of(
    st.sampled_from(sorted(TRACKING) + ["utm_source", "UTM_Campaign", "MC_EID"]),
    st.text(st.characters(categories=["L", "N"]) | st.sampled_from("_-.%"), max_size=10),
)
QUERIES = st.lists(
    st.tuples(_PARAM, st.text(st.characters(categories=["L", "N", "P", "S"]), max_size=8)),
    max_size=6,
).map(lambda pairs: "&".join(f"{k}={v.replace('&', '').replace('#', '')}" for k, v in pairs))


@given(url=st.one_of(WEB_URLS, URLS), query=QUERIES, fragment=st.text(max_size=10))
@example(url="https://e.org/a", query="utm_source=rss&id=3&fbclid=1", fragment="top")
@example(url="https://e.org/a?", query="", fragment="")
def test_untracked_is_idempotent_and_keeps_every_other_parameter(url, query, fragment):
    link = f"{url.split('?')[0].split('#')[0]}?{query}#{fragment}"
    assume(is_web_url(link))
    kept = untracked(link)
    assert untracked(kept) == kept
    assert canonical_url(kept) == canonical_url(link)
    before = [p for p in query.split("&") if p and not is_tracking(p.split("=", 1)[0])]
    after = urlsplit(kept)
    assert (after.query.split("&") if after.query else []) == before
    assert after.fragment == urlsplit(link).fragment


TITLES = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(
            ["UN", "launches", "the", "Supplier", "Code", "of", "Café", "Résumé", "2026", "Q1"]
        ),
        max_size=8,
    ).map(" ".join),
)


@given(title=TITLES)
@example(title="The of and")  # only small words: they are kept
@example(title="\u01c5 \u1e9e \u0130stanbul")
def test_title_key_never_raises_and_is_its_own_key(title):
    key = title_key(title)
    assert isinstance(key, str) and key == " ".join(key.split())
    assert title_key(key) == key, (title, key)


@given(title=TITLES, punctuation=st.text("!?.,:;'\"()[]-\u2014\u2026 ", max_size=5))
@example(title="UN launches the Supplier Code", punctuation="!")
def test_title_key_ignores_ascii_case_punctuation_and_accents(title, punctuation):
    key = title_key(title)
    assert title_key(title + punctuation) == key
    assert title_key(punctuation + title) == key
    if title.isascii():
        assert title_key(title.upper()) == key == title_key(title.lower())
