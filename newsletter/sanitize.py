"""Untrusted content in, safe HTML out.

Contributor Markdown and feed HTML both pass through ``clean_html``: one
allowlist for the whole tool, so a gap closed here is closed everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

# Inline and block tags a summary may keep. Everything else is unwrapped
# (text kept) except the dangerous containers below, which go with their content.
TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
}
DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "form",
    "template",
    "svg",
    "math",
    "noscript",
    "textarea",
    "select",
    "applet",
    "frameset",
    "title",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "abbr": {"title"}}
SCHEMES = {"http", "https", "mailto"}


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    # A heading inside a summary would break the email's heading outline (one h1,
    # no skipped levels), so contributors' headings become bold paragraphs.
    md.add_render_rule("heading_open", lambda *a: "<p><strong>")
    md.add_render_rule("heading_close", lambda *a: "</strong></p>\n")
    return md


_md = _renderer()

_IMG = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r'\balt="([^"]*)"')


# Characters XML (and so MJML) cannot carry: C0/C1 controls other than tab and
# newlines, and the Unicode noncharacters. They are never meaningful in an email.
_INVALID = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
    + "]"
)


# Characters that change how a terminal line reads without being seen: controls,
# zero-width marks and bidi overrides. A server, a feed or a cell chooses them.
_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(text: object, limit: int = 300) -> str:
    """Untrusted text as one printable line for a terminal or a log, at most ``limit``."""
    return " ".join(_UNSEEN.sub("", str(text)).split())[:limit]


def neutralise(text: str) -> str:
    """Make untrusted text safe to place in a template.

    Drops characters MJML cannot parse, and breaks up "%%" so the text can never
    forge a per-recipient marker such as %%EMAIL%% (see models.PLACEHOLDERS);
    the zero-width joiner put between the two signs is invisible.
    """
    text = _INVALID.sub("", text).replace("%%", "%\u200d%")
    # "{{" and "{%" in content would read as leftover template code to the
    # build's audit; break them the same invisible way.
    return text.replace("{{", "{\u200d{").replace("{%", "{\u200d%")


def _filter(tag: str, attr: str, value: str) -> str | None:
    if attr in ("href", "src"):
        # nh3 already drops javascript:, data: and vbscript:; also refuse
        # scheme-relative and relative links, which mean nothing in an inbox.
        # Relative URLs are left to nh3's url_relative policy (resolved against
        # a feed's base, or denied).
        scheme = value.split(":", 1)[0].strip().lower() if ":" in value else None
        if scheme is not None and (scheme not in SCHEMES or (tag == "img" and scheme == "mailto")):
            return None
    return value


def clean_html(html: str, base_url: str | None = None) -> str:
    """Sanitise an HTML fragment; relative links resolve against ``base_url`` if given."""
    cleaned = nh3.clean(
        _INVALID.sub("", html),
        tags=TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_filter,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer",
        url_relative=("rewrite_with_base", base_url) if base_url else "deny",
    )
    # An image with no alt text is invisible to screen readers and to the
    # accessibility check; drop it rather than ship it.
    cleaned = _IMG.sub(lambda m: m.group(0) if _has_alt(m.group(0)) else "", cleaned)
    return neutralise(cleaned.strip())


def _has_alt(tag: str) -> bool:
    match = _ALT.search(tag)
    return bool(match and match.group(1).strip())


def markdown_to_html(text: str) -> str:
    """Render contributor Markdown, then sanitise it."""
    return clean_html(_md.render(text))


def html_to_text(html: str) -> str:
    """Plain words of a fragment, for word counts and previews."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


class _TextWriter(HTMLParser):
    """Sanitised HTML -> plain-text paragraphs, links as numbered references."""

    def __init__(self, ref: Callable[[str], str]) -> None:
        super().__init__(convert_charrefs=True)
        self.ref = ref
        self.paragraphs: list[str] = []
        self.words: list[str] = []
        self.hrefs: list[str | None] = []
        self.list_depth = 0

    def _flush(self) -> None:
        text = " ".join("".join(self.words).split())
        if text:
            self.paragraphs.append(text)
        self.words = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "blockquote", "pre", "ul", "ol", "br"):
            self._flush()
        elif tag == "li":
            self._flush()
            self.words.append("- ")
        elif tag == "a":
            self.hrefs.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            self.words.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.hrefs:
            href = self.hrefs.pop()
            if href:
                self.words.append(" " + self.ref(href))
        elif tag in ("p", "li", "blockquote", "pre"):
            self._flush()

    def handle_data(self, data: str) -> None:
        self.words.append(data)


def html_to_paragraphs(html: str, ref: Callable[[str], str]) -> list[str]:
    """Split sanitised HTML into text paragraphs; ``ref(url)`` gives a link's marker."""
    writer = _TextWriter(ref)
    writer.feed(html)
    writer.close()
    writer._flush()
    return writer.paragraphs
