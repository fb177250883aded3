"""newsletter.sanitize, by property: whatever HTML comes in, what goes out is bounded.

Items and feeds hand the sanitiser any markup. Whatever it holds, the result
nests no deeper than MAX_DEPTH, is no longer than MAX_CHARS, closes every tag
it opens and holds no picture, so the MJML compiler (which recurses once per
level) and every reader's client get a small, well-formed fragment.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from test_sanitize import depth

from newsletter.sanitize import MAX_CHARS, MAX_DEPTH, clean_bounded, markdown_bounded

TAGS = ["b", "i", "em", "ul", "ol", "li", "p", "blockquote", "a", "div", "span", "pre", "img"]
PIECES = st.one_of(
    st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(
        ['<a href="https://e.org/?a=1&b=<2>">', '<img src="//t.example/p.gif" alt="">']
    ),
    st.sampled_from(["&amp;", "&lt;", "<br>", "<!--", "-->", "<", ">", '"', " ", "word"]),
    st.text(max_size=8),
)


@given(pieces=st.lists(st.tuples(PIECES, st.integers(1, 400)), max_size=12))
@example(pieces=[("<b>", 12_000), ("x", 1)])
@example(pieces=[("<ul><li>", 5_000)])
@example(pieces=[("word ", 30_000)])
def test_any_fragment_comes_out_bounded(pieces):
    html = "".join(piece * times for piece, times in pieces)
    for cleaned in (clean_bounded(html), markdown_bounded(html)):
        assert depth(cleaned.html) <= MAX_DEPTH
        assert len(cleaned.html) <= MAX_CHARS
        assert "<img" not in cleaned.html
        if len(html) <= 1_000:  # a short fragment is never cut, only flattened
            assert "cut at" not in cleaned.cut
