"""Untrusted content in, safe HTML out.

Contributor Markdown and feed HTML both pass through ``clean_html``: one
allowlist for the whole tool, so a gap closed here is closed everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

# Inline and block tags a summary may keep. Everything else is unwrapped
# (text kept) except the dangerous containers below, which go with their content.
# No <img>: a picture inside a summary is fetched from its owner's server when
# the email is opened, which tells the feed's owner who read it (a tracking
# pixel). An item shows a picture only through its own checked ``image`` field.
TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "i",
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
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
SCHEMES = {"http", "https", "mailto"}
VOID = {"br"}  # the allowed tags that have no end tag

# Limits on one fragment (a summary, an editor's note). The MJML compiler
# recurses once per level of nesting and dies of a stack overflow (signal 11)
# somewhere between 8,000 and 10,000 levels; the HTML parser slows down
# quadratically on some deep nestings (50,000 nested lists: 14 s). No real
# summary comes near either limit, so deeper tags are unwrapped (their text is
# kept) and longer fragments are cut.
MAX_DEPTH = 32  # levels of nested tags kept
MAX_CHARS = 100_000  # characters of Markdown or HTML read, and of HTML written


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    # A heading inside a summary would break the email's heading outline (one h1,
    # no skipped levels), so contributors' headings become bold paragraphs.
    md.add_render_rule("heading_open", lambda *a: "<p><strong>")
    md.add_render_rule("heading_close", lambda *a: "</strong></p>\n")
    return md


_md = _renderer()

# A tag in nh3's output: every "<" in text is escaped there and every attribute
# value is double-quoted with '"' escaped, so this cannot misread a tag.
_TAG = re.compile(r'<(/?)([a-z0-9]+)((?:\s+[a-z-]+="[^"]*")*)\s*/?>')


# Characters XML (and so MJML) cannot carry: C0/C1 controls other than tab and
# newlines, and the Unicode noncharacters. They are never meaningful in an email.
_INVALID = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
    + "]"
)


# Characters that change how a terminal line reads without being seen: controls,
# zero-width marks and bidi overrides. A server, a feed or a cell chooses them. And
# the noncharacters U+FFFE and U+FFFF, which the item reader refuses in a title
# (schema's control characters): a one-line title from an email must load.
_UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def one_line(text: object, limit: int = 300) -> str:
    """Untrusted text as one printable line for a terminal or a log, at most ``limit``.

    A line break or a tab is a space ("Ann\nLee" is "Ann Lee", not "AnnLee");
    the other unseen characters go."""
    return " ".join(_UNSEEN.sub("", " ".join(str(text).split())).split())[:limit]


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


@dataclass(frozen=True)
class Cleaned:
    """Sanitised HTML, and what the limits took out of it: "" when nothing."""

    html: str
    cut: str = ""


def clean_html(html: str, base_url: str | None = None) -> str:
    """Sanitise an HTML fragment; relative links resolve against ``base_url`` if given."""
    return clean_bounded(html, base_url).html


def clean_bounded(html: str, base_url: str | None = None) -> Cleaned:
    """``clean_html``, also saying whether the fragment was flattened or cut (see MAX_DEPTH)."""
    long = len(html) > MAX_CHARS
    cleaned = nh3.clean(
        _INVALID.sub("", html[:MAX_CHARS]),
        tags=TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_filter,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer",
        url_relative=("rewrite_with_base", base_url) if base_url else "deny",
    )
    bounded, deep, cut = _bound(cleaned.strip())
    notes = []
    if deep:
        notes.append(f"tags nested more than {MAX_DEPTH} deep were unwrapped")
    if long or cut:
        notes.append(f"it was cut at {MAX_CHARS:,} characters")
    return Cleaned(neutralise(bounded), "; ".join(notes))


def _tokens(html: str) -> Iterator[tuple[str, str, bool, str]]:
    """(text before, tag, is an end tag, tag name) for each tag, then the text after the last."""
    pos = 0
    for match in _TAG.finditer(html):
        yield html[pos : match.start()], match.group(0), bool(match.group(1)), match.group(2)
        pos = match.end()
    yield html[pos:], "", False, ""


def _bound(html: str) -> tuple[str, bool, bool]:
    """Sanitised HTML with tags below MAX_DEPTH unwrapped and its length within MAX_CHARS.

    Returns the HTML, whether tags were unwrapped and whether it was cut. The
    cut falls between tags (or at a space), and every tag still open is closed.
    """
    out: list[str] = []
    nesting: list[bool] = []  # for each open tag: kept or unwrapped
    kept: list[str] = []  # the open tags kept, to close after a cut
    size, deep = 0, False
    for text, tag, end, name in _tokens(html):
        closing = sum(len(t) + 3 for t in kept)
        if size + len(text) + closing > MAX_CHARS:
            room = max(MAX_CHARS - size - closing, 0)
            out.append(text[:room].rpartition(" ")[0])  # no entity holds a space
            return "".join(out) + "".join(f"</{t}>" for t in reversed(kept)), deep, True
        out.append(text)
        size += len(text)
        if not tag:
            continue
        if end:
            if not nesting or not nesting.pop():
                continue  # the end of an unwrapped tag
            grows = -len(tag)  # written now, no longer owed at a cut
        elif len(nesting) >= MAX_DEPTH:
            deep = True  # unwrapped: the tag goes, its text stays
            nesting += [] if name in VOID else [False]
            continue
        else:
            grows = len(tag) + (0 if name in VOID else len(name) + 3)
        if size + closing + grows > MAX_CHARS:
            return "".join(out) + "".join(f"</{t}>" for t in reversed(kept)), deep, True
        if end:
            kept.pop()
        elif name not in VOID:
            nesting.append(True)
            kept.append(name)
        out.append(tag)
        size += len(tag)
    return "".join(out), deep, False


def markdown_bounded(text: str) -> Cleaned:
    """Render contributor Markdown and sanitise it; say whether the limits flattened or cut it."""
    cleaned = clean_bounded(_md.render(text[:MAX_CHARS]))
    if len(text) > MAX_CHARS and not cleaned.cut:
        return Cleaned(cleaned.html, f"it was cut at {MAX_CHARS:,} characters")
    return cleaned


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
