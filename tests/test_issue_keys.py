"""newsletter.issue.keys: how a story is recognised again (canonical URL, title key)."""

from __future__ import annotations

import pytest

from newsletter.issue.keys import canonical_url, title_key


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
    "a,b,same",
    [
        ("UN launches the Supplier Code!", "un launches supplier code", True),
        ("Café Résumé", "cafe resume", True),
        ("Quarterly report 2026 Q1", "Quarterly report 2026 Q2", False),
    ],
)
def test_title_key(a, b, same):
    assert (title_key(a) == title_key(b)) is same
