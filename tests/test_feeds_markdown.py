"""newsletter.feeds.markdown: a collected summary written as Markdown, as a contributor would."""

from __future__ import annotations

import pytest
from helpers import Route, add_feed, cli, inbox_files, make_issue, rss

from newsletter.feeds.markdown import to_markdown
from newsletter.sanitize import clean_html, html_to_text, markdown_bounded


@pytest.mark.parametrize(
    "html,markdown",
    [
        # Feed text that looks like Markdown stays the words it was.
        ("<p>*not* a [link](javascript:x)</p>", r"\*not\* a \[link\](javascript:x)"),
        ("<p>The <b>updated</b> code, <em>now</em>.</p>", "The **updated** code, *now*."),
        (
            '<p>See <a href="https://e.org/a_(b)?x=1&amp;y=2&amp;copy;">the page</a>.</p>',
            r"See [the page](https://e.org/a_\(b\)?x=1&y=2\&copy;).",
        ),
        (
            '<p>CO<sub>2</sub>, 19<sup>th</sup>, <abbr title="United Nations">UN</abbr></p>',
            'CO<sub>2</sub>, 19<sup>th</sup>, <abbr title="United Nations">UN</abbr>',
        ),
        ("<ul><li>one</li><li>two<ul><li>deep</li></ul></li></ul>", "- one\n- two\n  - deep"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("<p>line<br>next<br></p>", "line\\\nnext"),  # no backslash shown at the end
        (
            "<p>2026. A year - 1 + 1 = 2 &amp; &amp;amp; C++ x_y</p>",
            r"2026\. A year - 1 + 1 = 2 & \&amp; C++ x\_y",
        ),
        (
            "<p>- no list</p><p># no heading</p><p>&gt; no quote</p><p>1. no number</p>",
            "\\- no list\n\n\\# no heading\n\n\\> no quote\n\n1\\. no number",
        ),
        ("<blockquote><p>Quoted</p></blockquote>", "> Quoted"),
        ("<pre><code>a = b * c\n```</code></pre>", "````\na = b * c\n```\n````"),
        ("<p>Use <code>x_y*z</code>.</p>", "Use `x_y*z`."),
        # Where "**" would be misread, bold is written as HTML rather than lose words.
        ("<p><b>a</b><b>b</b></p>", "<b>a</b><b>b</b>"),
        ("<p>x<b>(y)</b>z</p>", "x<b>(y)</b>z"),
        ("<p></p><p> </p>", ""),
    ],
)
def test_to_markdown(html, markdown):
    cleaned = clean_html(html)
    assert to_markdown(cleaned) == markdown
    # Rendered as the build renders an item, a reader reads the feed's own words.
    assert html_to_text(markdown_bounded(markdown).html) == html_to_text(cleaned)


def test_collect_writes_summaries_as_markdown_and_the_build_reads_them_back(project, feed_server):
    make_issue(project)
    items = [
        {
            "title": "*not* a [link](javascript:x)",
            "link": "https://e.org/a",
            "pubDate": "Mon, 05 Oct 2026 10:00:00 GMT",
            "description": "&lt;p&gt;A &lt;b&gt;bold&lt;/b&gt; move: *not* a "
            "[link](javascript:x), see &lt;a href='https://e.org/b?utm_source=x'&gt;this"
            "&lt;/a&gt;.&lt;br&gt;Next line.&lt;/p&gt;",
        }
    ]
    add_feed(project, feed_server, "Feed", "news", Route(rss(items)))
    assert cli(project, "collect", "2026-Q4").exit_code == 0
    (name,) = inbox_files(project)
    text = (project / "issues" / "2026-Q4" / "inbox" / name).read_text()
    head, body = text.split("---\n")[1:]
    assert "title: '*not* a [link](javascript:x)'\n" in head  # a title is text, never Markdown
    assert body == (
        "A **bold** move: \\*not\\* a \\[link\\](javascript:x), see "
        "[this](https://e.org/b?utm_source=x).\\\nNext line.\n"
    )
    cli(project, "accept", "2026-Q4", "--all")
    built = cli(project, "build", "2026-Q4")
    assert built.exit_code == 0, built.output
    web = (project / "issues" / "2026-Q4" / "build" / "web.html").read_text()
    assert "*not* a [link](javascript:x)</a>" in web  # the title, literal
    assert (
        "<p>A <strong>bold</strong> move: *not* a [link](javascript:x), see "
        '<a href="https://e.org/b?utm_source=x"'
    ) in web
