"""newsletter.issue.keys: how a story is recognised again (canonical URL, title key)."""

from __future__ import annotations

import pytest

from newsletter.issue.keys import canonical_url, title_key, untracked


@pytest.mark.parametrize(
    "url,canonical",
    [
        ("HTTPS://Example.ORG/News/", "https://example.org/News"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/", "https://example.org/"),
        ("https://example.org/a?utm_source=x&id=3&UTM_Medium=y#top", "https://example.org/a?id=3"),
        ("https://example.org/a?fbclid=1&gclid=2", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:8443/a/", "https://example.org:8443/a"),
        ("https://example.org/a?b=1&utm=keep", "https://example.org/a?b=1&utm=keep"),
        ("https://B\u00fccher.example/stra\u00dfe/", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://xn--bcher-kva.example/stra%C3%9Fe", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://e.org/?q=\u00fc&utm_source=x", "https://e.org/?q=%C3%BC"),
        ("http://[bad/x", "http://[bad/x"),  # malformed: as written, never a crash
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    "url,link",
    [
        ("https://e.org/a?utm_source=rss&id=3#top", "https://e.org/a?id=3#top"),
        ("https://E.org/A/?b=2&a=1&fbclid=x#p2", "https://E.org/A/?b=2&a=1#p2"),
        ("https://e.org/a?mc_cid=1&mc_eid=2&_hsenc=3&_hsmi=4&mkt_tok=5&gclid=6", "https://e.org/a"),
        ("https://e.org/a?UTM_Medium=x&utm=keep&ref=main", "https://e.org/a?utm=keep&ref=main"),
        ("https://e.org/a?q=utm_source&x=fbclid", "https://e.org/a?q=utm_source&x=fbclid"),
        ("https://e.org/a?id=3", "https://e.org/a?id=3"),
        ("http://[bad/x?utm_source=1", "http://[bad/x?utm_source=1"),  # malformed: as written
    ],
)
def test_untracked_drops_tracking_parameters_only(url, link):
    assert untracked(url) == link
    assert canonical_url(link) == canonical_url(url)


@pytest.mark.parametrize(
    "a,b,same",
    [
        ("UN launches the Supplier Code!", "un launches supplier code", True),
        ("Café Résumé", "cafe resume", True),
        ("Quarterly report 2026 Q1", "Quarterly report 2026 Q2", False),
    ],
)
def test_title_key(a, b, same):
    assert (title_key(a) == title_key(b)) is same
