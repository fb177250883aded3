"""newsletter.sanitize: hostile content from contributors and feeds never reaches the HTML."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import feedparser
import pytest
import yaml
from helpers import Route, add_feed, cli, make_issue, rss

from newsletter.build.pipeline import build
from newsletter.config import load_settings
from newsletter.issue.items import load_item
from newsletter.models import PLACEHOLDERS
from newsletter.sanitize import (
    MAX_CHARS,
    MAX_DEPTH,
    clean_bounded,
    clean_html,
    markdown_bounded,
    neutralise,
    one_line,
)

SECTIONS = ("news", "tools", "events", "spotlight")
BAD_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "form",
    "applet",
    "base",
    "svg",
    "math",
    "frame",
    "frameset",
    "link",
    "meta",
    "input",
    "textarea",
    "button",
}
BAD_URL = re.compile(r"^\s*(javascript|vbscript|data):", re.I)


class _Scan(HTMLParser):
    """Collects every real tag and attribute; escaped text is harmless and ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in BAD_TAGS or tag == "style":
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "background") and BAD_URL.match(value):
                self.found.append(f"<{tag} {name}={value[:30]}>")
            if name == "style" and re.search(r"expression\s*\(|url\s*\(", value, re.I):
                self.found.append(f"<{tag} style={value[:30]}>")


def body_of(html: str) -> str:
    """The part of an email a reader's client renders (the head holds MJML's own CSS)."""
    return html[html.index("<body") :]


def assert_safe(html: str) -> None:
    scan = _Scan()
    scan.feed(html)
    assert scan.found == []


@pytest.mark.parametrize(
    "markdown,expected",
    [
        ("<script>alert(1)</script>Hi", "Hi"),
        # markdown-it refuses these links outright and leaves the text as typed.
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>"),
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>"),
        ('<a href="javascript:alert(1)">x</a>', '<p><a rel="noopener noreferrer">x</a></p>'),
        (
            '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
            '<p><a rel="noopener noreferrer">x</a></p>',
        ),
        ('<img src="https://e.org/a.png" onerror="alert(1)" alt="A">', ""),
        ('<p>a<img src="//tracker.example/p.gif" alt="">b</p>', "<p>ab</p>"),
        ('<p style="width: expression(alert(1))">x</p>', "<p>x</p>"),
        ("<iframe src='https://evil.example'>inside</iframe>after", "after"),
        ("<form action='https://evil.example'><input name=q></form>ok", "ok"),
        ("<object data='x'>o</object><embed src='x'>ok", "<p>ok</p>"),
        ("bell\x07 and \ufffe nonchar", "<p>bell and  nonchar</p>"),
        ("# Heading", "<p><strong>Heading</strong></p>"),
        (
            "[mail](mailto:a@example.org)",
            '<p><a href="mailto:a@example.org" rel="noopener noreferrer">mail</a></p>',
        ),
        ("[rel](/relative/path)", '<p><a rel="noopener noreferrer">rel</a></p>'),
        ("Say %%EMAIL%% twice", "<p>Say %\u200d%EMAIL%\u200d% twice</p>"),
    ],
    ids=[
        "script",
        "javascript-link",
        "mixed-case-scheme",
        "vbscript",
        "javascript-href",
        "data-url",
        "picture-with-handler",
        "tracking-pixel",
        "css-expression",
        "iframe",
        "form",
        "object-embed",
        "controls",
        "heading",
        "mailto",
        "relative-link",
        "forged-placeholder",
    ],
)
def test_markdown_is_sanitised(markdown, expected):
    assert markdown_bounded(markdown).html == expected


def test_relative_links_resolve_against_a_base():
    assert clean_html('<a href="/a">x</a>', base_url="https://example.org/feed/") == (
        '<a href="https://example.org/a" rel="noopener noreferrer">x</a>'
    )


def sanitize_cases(corpus):
    folder = corpus / "feeds" / "feedparser" / "wellformed" / "sanitize"
    if not folder.is_dir():
        pytest.skip(f"no sanitiser cases at {folder}")
    cases = []
    for path in sorted(folder.glob("*.xml")):
        parsed = feedparser.parse(path.read_bytes(), sanitize_html=False)
        fragments = [parsed.feed.get("title", "")]
        for entry in parsed.entries:
            fragments += [entry.get("summary", ""), entry.get("title", "")]
            fragments += [c.get("value", "") for c in entry.get("content", [])]
        cases.append((path.name, "\n\n".join(f for f in fragments if f)))
    return cases


def test_feedparser_sanitiser_cases_as_item_bodies(project, corpus):
    cases = sanitize_cases(corpus)
    assert len(cases) > 20
    items = {}
    for n, (name, body) in enumerate(cases):
        front = {
            "title": f"Case {name}",
            "section": SECTIONS[n % 4],
            "link": "https://example.org/",
        }
        items[f"case-{n:03d}.md"] = f"---\n{yaml.safe_dump(front)}---\n{body}\n"
    folder = make_issue(project, items=items)
    result = build(load_settings(project), folder)
    html = (folder / "build" / "email.html").read_text()
    assert_safe(body_of(html))
    assert_safe((folder / "build" / "web.html").read_text().split("</style>", 1)[1])
    assert "safe" in html  # the harmless part of the cases survives
    assert result.report.items == len(cases)


def test_hostile_strings_as_titles_and_bodies(project, corpus):
    path = corpus / "contacts" / "blns" / "blns.json"
    strings = json.loads(path.read_text(encoding="utf-8"))
    settings = load_settings(project)
    folder = make_issue(project, items={})
    loaded = 0
    for n, text in enumerate(strings):
        front = {"title": text, "section": "news", "link": "https://example.org/", "source": text}
        item_path = folder / "items" / f"blns-{n:03d}.md"
        item_path.write_text(f"---\n{yaml.safe_dump(front)}---\n{text}\n", encoding="utf-8")
        item, problems = load_item(item_path, item_path.name, SECTIONS)
        if item is None:
            # Refused, with a one-line reason and no traceback; it must leave the issue.
            assert problems and all(p.severity == "error" for p in problems)
            item_path.unlink()
        else:
            loaded += 1
    assert loaded > len(strings) * 0.8
    # Build in batches so each email stays a realistic size.
    names = sorted(p.name for p in (folder / "items").iterdir())
    for start in range(0, len(names), 120):
        batch = project / "issues" / f"blns-{start}"
        make_issue(project, batch.name, items={})
        (batch / "issue.toml").write_text(
            (folder / "issue.toml").read_text()
            + "window = { from = 2026-01-01, to = 2026-12-31 }\n"
        )
        for name in names[start : start + 120]:
            (batch / "items" / name).write_bytes((folder / "items" / name).read_bytes())
        build(settings, batch)
        html = (batch / "build" / "email.html").read_text()
        assert_safe(body_of(html))
        assert "%%EMAIL%%" not in html.replace("at %%EMAIL%%.", "")


@pytest.mark.parametrize(
    "html",
    [
        "<script>x</script>",
        '<a href="javascript:x">y</a>',
        '<img src="x" onerror="y">',
        '<p style="width:expression(1)">x</p>',
        '<a href=" data:text/html,x">y</a>',
    ],
)
def test_the_safety_scan_itself_catches_hostile_markup(html):
    with pytest.raises(AssertionError):
        assert_safe(html)


class _Depth(HTMLParser):
    """The deepest nesting of tags in a fragment, and whether every tag was closed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.deepest = 0

    def handle_starttag(self, tag, attrs):
        if tag != "br":
            self.open.append(tag)
            self.deepest = max(self.deepest, len(self.open))

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag


def depth(html: str) -> int:
    scan = _Depth()
    scan.feed(html)
    assert scan.open == []
    return scan.deepest


@pytest.mark.parametrize(
    "open_tag,close_tag,per_level",
    [
        ("<b>", "</b>", 1),
        ("<ul><li>", "</li></ul>", 2),
        ("<blockquote>", "</blockquote>", 1),
        ("<ol><li><p>", "</p></li></ol>", 3),
        ("<i><s>", "</s></i>", 2),
    ],
    ids=["bold", "lists", "quotes", "paragraphs-in-lists", "mixed"],
)
@pytest.mark.parametrize("levels", [MAX_DEPTH // 2, MAX_DEPTH, 3_000])
def test_nesting_beyond_the_limit_is_unwrapped_and_the_text_kept(
    open_tag, close_tag, per_level, levels
):
    html = open_tag * levels + "deep text" + close_tag * levels
    cleaned = clean_bounded(html)
    assert depth(cleaned.html) == min(max(levels * per_level, 1), MAX_DEPTH)
    assert "deep text" in cleaned.html
    too_deep = levels * per_level > MAX_DEPTH
    long = len(html) > MAX_CHARS
    notes = [f"tags nested more than {MAX_DEPTH} deep were unwrapped"] * too_deep
    notes += [f"it was cut at {MAX_CHARS:,} characters"] * long
    assert cleaned.cut == "; ".join(notes)


def test_nesting_within_the_limit_is_left_as_it_was():
    html = "<ul>" + "<li><b><i>x</i></b></li>" * 3 + "</ul>"
    assert clean_bounded(html) == clean_bounded(html).__class__(html, "")


@pytest.mark.parametrize(
    "html",
    [
        "<p>" + "word " * 40_000 + "</p>",
        "<p>" + '<a href="https://e.org/">link</a> ' * 5_000 + "</p>",
        "<ul>" + "<li><b>a &amp; b</b></li>" * 10_000 + "</ul>",
        "x" * (MAX_CHARS + 1),
    ],
    ids=["one-long-paragraph", "many-links", "long-list", "one-long-word"],
)
def test_a_long_fragment_is_cut_between_tags_and_closed(html):
    cleaned = clean_bounded(html)
    assert len(cleaned.html) <= MAX_CHARS
    assert cleaned.cut == f"it was cut at {MAX_CHARS:,} characters"
    depth(cleaned.html)  # every tag still open at the cut is closed
    assert "&amp" not in cleaned.html or "&amp;" in cleaned.html  # no entity cut in half


def test_long_markdown_is_cut_too():
    cleaned = markdown_bounded("word " * 30_000)
    assert len(cleaned.html) <= MAX_CHARS and cleaned.cut


def run(root, *args: str) -> subprocess.CompletedProcess:
    """The command in a child process: a crash of the MJML compiler kills only the child."""
    return subprocess.run(
        [sys.executable, "-m", "newsletter", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NEWSLETTER_SECRET": "x" * 32},
    )


def test_an_item_nesting_ten_thousand_tags_builds_with_a_warning_naming_it(project):
    """Found: `check` passed and `build` died of signal 11 inside the MJML compiler."""
    deep = "<b>" * 10_000 + "deep" + "</b>" * 10_000
    item = "---\ntitle: Deep\nsection: news\nlink: https://e.org/\n---\n" + deep + "\n"
    make_issue(project, items={"deep.md": item})
    warning = (
        f"issues/2026-Q4/items/deep.md:6: warning: summary: tags nested more than {MAX_DEPTH}"
        " deep were unwrapped. Simplify its formatting and shorten it (see Limits in the README)."
    )
    checked = run(project, "check", "2026-Q4")
    assert (checked.returncode, checked.stdout.splitlines()[0]) == (0, warning)
    built = run(project, "build", "2026-Q4")
    assert (built.returncode, built.stderr) == (0, "")
    assert built.stdout.splitlines()[0] == warning
    assert "deep" in (project / "issues" / "2026-Q4" / "build" / "email.html").read_text()


def test_a_feed_entry_nesting_twelve_thousand_tags_is_flattened_at_collect(project, feed_server):
    """Found: collect, accept and check passed; build then died of signal 11."""
    from html import escape

    deep = "<b>" * 12_000 + "deep" + "</b>" * 12_000
    entry = {"title": "Deep", "link": "https://e.org/deep", "description": escape(deep)}
    entry["pubDate"] = "Mon, 05 Oct 2026 10:00:00 GMT"
    make_issue(project, items={})
    add_feed(project, feed_server, "Deep", "news", Route(rss([entry])))
    collected = cli(project, "collect", "2026-Q4")
    assert f"entry 'Deep': tags nested more than {MAX_DEPTH} deep were unwrapped" in (
        collected.output
    )
    assert cli(project, "accept", "2026-Q4", "--all").exit_code == 0
    built = run(project, "build", "2026-Q4")
    assert (built.returncode, built.stderr) == (0, "")
    assert "deep" in (project / "issues" / "2026-Q4" / "build" / "email.html").read_text()


@pytest.mark.parametrize("key", sorted(PLACEHOLDERS))
def test_no_untrusted_text_can_forge_a_marker(key):
    marker = PLACEHOLDERS[key]
    for text in (marker, f"see {marker}!", marker * 2, "%" + marker + "%"):
        safe = neutralise(text)
        assert not any(m in safe for m in PLACEHOLDERS.values()), (key, text)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Ann\nLee", "Ann Lee"),  # a line break is a space, not glue
        ("Ann\r\n\tLee", "Ann Lee"),
        ("Ann\u2028Lee\u0085x", "Ann Lee x"),
        ("A\u200bnn \x00 Lee\x07", "Ann Lee"),  # the unseen go, with no double space left
        ("\u202eevil", "evil"),
        ("  padded  ", "padded"),
    ],
)
def test_one_line_makes_breaks_spaces_and_drops_the_unseen(text, expected):
    assert one_line(text) == expected
