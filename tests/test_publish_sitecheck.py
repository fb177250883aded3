"""newsletter.publish.sitecheck: the link checker finds broken, absolute and dangling links."""

from __future__ import annotations

from newsletter.publish.sitecheck import broken_links


def test_the_link_checker_finds_problems(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="a/x.html">x</a><a href="/abs.html">abs</a><a href="#nope">f</a>'
        '<a href="a/b.html#here">ok</a><a href="https://example.org/">ext</a>'
    )
    (tmp_path / "a" / "b.html").write_text('<p id="here">b</p>')
    assert broken_links(tmp_path) == [
        "index.html: a/x.html: no such file",
        "index.html: /abs.html: not a relative link",
        "index.html: #nope: no element with id 'nope'",
    ]
