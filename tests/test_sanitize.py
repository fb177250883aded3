"""newsletter.sanitize: hostile content from contributors and feeds never reaches the HTML."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import feedparser
import pytest
import yaml
from helpers import make_issue

from newsletter.build.pipeline import build
from newsletter.config import load_settings
from newsletter.issue.items import load_item
from newsletter.sanitize import clean_html, markdown_to_html

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
        (
            '<img src="https://e.org/a.png" onerror="alert(1)" alt="A">',
            '<img src="https://e.org/a.png" alt="A">',
        ),
        ('<img src="https://e.org/a.png">', ""),
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
        "on-handler",
        "img-without-alt",
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
    assert markdown_to_html(markdown) == expected


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
