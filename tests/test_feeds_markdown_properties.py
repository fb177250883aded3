"""newsletter.feeds.markdown, by property: any feed HTML, once sanitised, written as
Markdown and rendered back by the build, says the same words and nothing the
sanitiser would not allow.

The pipeline under test is the one a collected summary goes through: feed HTML
-> ``sanitize.clean_html`` -> ``to_markdown`` (the inbox file) -> the build's
renderer and sanitiser (``sanitize.markdown_bounded``, as ``issue.items`` uses it).
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import unquote

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from newsletter.feeds.markdown import to_markdown
from newsletter.sanitize import (
    SCHEMES,
    TAGS,
    clean_html,
    html_to_text,
    markdown_bounded,
)

# The build's renderer as sanitize configures it, minus its heading rule: a heading
# here means a text run was read as "# ..." syntax, which the escaping must prevent.
RENDER = MarkdownIt("commonmark", {"html": True, "typographer": False})

ELEMENTS = [*sorted(TAGS), "div", "span", "h2", "script", "style", "img", "table", "td", "del"]
HREFS = [
    "https://e.org/a",
    "https://e.org/a_(b)?x=1&amp;copy;&y=<2>#top",
    "https://e.org/a b\\c*d_e]f",
    "mailto:x@e.org",
    "javascript:alert(1)",
    "&#106;avascript:alert(2)",
    "/relative",
]
PIECES = st.one_of(
    st.sampled_from(ELEMENTS).map(lambda t: f"<{t}>"),
    st.sampled_from(ELEMENTS).map(lambda t: f"</{t}>"),
    st.sampled_from(HREFS).map(lambda h: f'<a href="{h}" title="t &quot;\\ &amp;amp;">'),
    st.sampled_from(
        [
            "*not* a [link](javascript:x)",
            "<b onclick=alert(1)>x</b>",
            '<abbr title="a &quot;b&quot;">UN</abbr>',
            "&amp;amp; &lt;b&gt; &#42; &nbsp;",
            "\n- item\n+ item\n1. one\n2) two\n# head\n> quote\n===\n~~~\n```\n",
            " - ",
            " 1. ",
            "\\",
            "`",
            "``",
            "!",
            "[",
            "]",
            "(",
            ")",
            "|",
            "~~x~~",
            "_x_",
            "<br>",
            "<br><br>",
            "http://e.org/x",
            "<http://e.org/y>",
            "%%EMAIL%%",
            "{{ x }}",
        ]
    ),
    st.text(max_size=8),
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def tags_of(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.found


class _Links(HTMLParser):
    """Links as a browser reads them: an ``<a>`` ends any link still open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.href = dict(attrs).get("href")
            self.found.append("")

    def handle_endtag(self, tag):
        if tag == "a":
            self.href = None

    def handle_data(self, data):
        if self.href is not None and self.found and not self.found[-1] and words(data):
            self.found[-1] = unquote(self.href)


def links(html: str) -> list[str]:
    """Where each link with words in it goes, as a browser reads the address."""
    parser = _Links()
    # An empty link is nothing to click (and would end an outer one, as browsers parse).
    parser.feed(re.sub(r"<a\b[^>]*>\s*</a>", "", html))
    parser.close()
    hrefs = [href for href in parser.found if href]
    # A link a block splits in two (the HTML parser closes it at <blockquote>) is one.
    return [h for n, h in enumerate(hrefs) if n == 0 or hrefs[n - 1] != h]


def shapes(html: str) -> Counter[tuple[str, frozenset[str]]]:
    """Each tag with the names of its attributes (but rel), counted."""
    return Counter((tag, frozenset(n for n, _ in attrs) - {"rel"}) for tag, attrs in tags_of(html))


def words(html: str) -> str:
    """The text of a fragment with all whitespace taken out: what a reader reads."""
    return "".join(html_to_text(html).split()).replace("\u200d", "")  # neutralise's joiner


@given(pieces=st.lists(PIECES, max_size=25))
@example(pieces=["<p>", "*not* a [link](javascript:x)", "</p>"])
@example(pieces=["<p>", "x", "<br>", "</p>"])
@example(pieces=["<pre>", "```", "\n", "<script>", "</pre>"])
@example(pieces=["<p>", "1", "<br>", "1. x", "</p>"])
@example(pieces=["!", '<a href="https://e.org/a">', "x", "<blockquote>", "y"])
@example(pieces=["*not* a [link](javascript:x)", "<br>", "<li>", "<br>"])
@example(pieces=["x", "<li>", "<S ", '<a href="https://e.org/a" title="t">', "y"])
@example(pieces=['<a href="https://e.org/a">', "<table>", "<a>", "<td>", "x"])
@example(pieces=["<pre><pre></pre>", '<a href="https://e.org/a">', "\n- item\n# head\n"])
def test_any_summary_renders_back_to_the_same_words_and_nothing_disallowed(pieces):
    cleaned = clean_html("".join(pieces))
    markdown = to_markdown(cleaned)
    raw = RENDER.render(markdown)  # before the build's sanitiser has its say
    # The sanitiser keeps every tag and attribute the renderer makes of it (it adds
    # rel="noopener noreferrer" to links, its own), so it has nothing to take out.
    assert shapes(clean_html(raw)) == shapes(raw), (markdown, raw)
    for tag, attrs in tags_of(raw):
        assert tag in TAGS, (tag, markdown)
        for name, value in attrs:
            if name == "href":
                assert (value or "").split(":", 1)[0].lower() in SCHEMES, (value, markdown)
    rendered = markdown_bounded(markdown).html
    assert not re.search(r"<script|<style|\son\w+\s*=|href=\"\s*javascript:", rendered, re.I)
    assert clean_html(rendered) == rendered  # stable: the sanitiser has nothing left to do
    assert words(rendered) == words(cleaned), (cleaned, markdown, rendered)
    # Every link kept, or (HTML too mis-nested to keep, the last resort) plain words.
    assert links(rendered) in (links(cleaned), []), (cleaned, markdown, rendered)
    # Written again from what it renders to, it reads the same: a fixed point.
    again = markdown_bounded(to_markdown(rendered)).html
    assert (words(again), links(again)) == (words(rendered), links(rendered)), markdown
