"""A feed's sanitised summary HTML written as Markdown, as a contributor would write it.

Collected candidates are item files an editor edits; HTML in them is hard to
edit and reads unlike every other item. markdownify (MIT) does the writing; this
module fixes what the build's renderer (``sanitize.markdown_bounded``: CommonMark
with inline HTML, then the one sanitiser) would otherwise read differently:

- text is escaped wherever CommonMark could take it as syntax, so a summary
  saying "*not* a [link](javascript:x)" stays those words;
- a link's destination and title are escaped, so no URL can end a link early;
- a code block's fence is longer than any run of backticks inside it;
- the tags the sanitiser allows that Markdown cannot write (``sub``, ``sup``,
  ``u``, ``s``, ``abbr``) stay inline HTML, which the renderer passes on.

The input is always ``sanitize.clean_html``'s output: the renderer sanitises
again on every build, so the Markdown can never bring back what was removed.
Each result is rendered back as the build renders it and kept only if a reader
would read the same words, links and formatting (``to_markdown`` says what it
falls back to otherwise).
"""

from __future__ import annotations

import html
import re
import sys
import warnings
from collections import Counter
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

from bs4 import MarkupResemblesLocatorWarning
from markdownify import MarkdownConverter

from newsletter.feeds.entries import summarise
from newsletter.sanitize import clean_html, html_to_text, markdown_bounded

# Characters that are syntax wherever they stand: escaped in every text run.
_ALWAYS = re.compile(r"([\\`*_\[\]<])")
# An "&" that could start an entity ("&amp;", "&#38;"): CommonMark would decode it.
_ENTITY = re.compile(r"&(?=#?\w+;)")
# Syntax only at the start of a line: list markers, headings, block quotes,
# setext underlines and fences ("+ x", "# x", "> x", "===", "~~~", "1. x"). A
# text run may start a line, and keeps the feed's newlines (soft breaks), so
# these are escaped at its start and after a newline; never mid-line, where
# "Locksport - A Hacker's Guide" needs no backslash.
_LINE_START = re.compile(r"(^[ \t]*|\n[ \t]*)(?=[-+]+(?:\s|$)|#{1,6}(?:\s|$)|>|=+(?:\s|$)|~~~)")
_NUMBERED = re.compile(r"(^[ \t]*|\n[ \t]*)(\d{1,9})([.)])(?=\s|$)")
# In a link destination: what could end it early or be read as an escape or entity.
_DESTINATION = re.compile(r"([\\()<>]|&(?=#?\w+;))")
# A line break, marked while converting: CommonMark reads a backslash at the end
# of a line as a break only when a line of text follows in the same block (at the
# end of a paragraph it is shown as a backslash), so that is decided at the end.
# The sanitiser removes every C0 control character from its input: it cannot occur.
_BREAK = "\x01"
_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
_SAME = {"b": "strong", "i": "em"}  # the same to a reader
_EMPTY = re.compile(
    r"<(?:b|i|em|strong|u|s|sub|sup|abbr|code|ul|ol|li|blockquote|pre)\b[^>]*>(\s*)"
    r"</(?:b|i|em|strong|u|s|sub|sup|abbr|code|ul|ol|li|blockquote|pre)>"
)
_EMPTY_LINK = re.compile(r"<a\b[^>]*>(\s*)</a>")
_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:\s|$)")  # a list item's marker
_PREFIX = re.compile(r"^[ \t>]*")  # a line's indent and block quote marks
_INLINE = {"a", "abbr", "b", "code", "em", "i", "s", "strong", "sub", "sup", "u"}


# markdownify's stub types its public calls only, not the convert_* hooks that a
# subclass overrides (its documented way to change how a tag is written).
_Converter: Any = MarkdownConverter


class _Writer(_Converter):
    """markdownify with the escaping and the inline HTML described above."""

    def escape(self, text: str, parent_tags: Any) -> str:
        if not text:
            return ""
        text = _ENTITY.sub(r"\\&", _ALWAYS.sub(r"\\\1", text))
        text = _NUMBERED.sub(r"\1\2\\\3", text)
        if text.endswith("!"):  # "!" before a link's "[" would make it a picture
            text = text[:-1] + "\\!"
        return _LINE_START.sub(lambda m: m[1] + "\\", text)

    def convert_a(self, el: Any, text: str, parent_tags: Any) -> str:
        href = el.get("href")
        if "_noformat" in parent_tags or not href or not text.strip():
            return text
        start, inner, end = re.match(r"(\s*)(.*?)(\s*)$", text, re.S).groups()  # type: ignore[union-attr]
        destination = _DESTINATION.sub(r"\\\1", href).replace("\n", "%0A")
        if " " in destination:
            destination = f"<{destination}>"
        title = el.get("title")
        title_part = ' "' + re.sub(r'(["\\&])', r"\\\1", title) + '"' if title else ""
        return f"{start}[{inner}]({destination}{title_part}){end}"

    def process_tag(self, node: Any, parent_tags: Any = None) -> str:
        # A block inside an inline element (nh3 keeps <a><p>...</p></a>) is written
        # inline: Markdown cannot put a paragraph or a list inside a link.
        if node.name in _INLINE and parent_tags is not None:
            parent_tags = {*parent_tags, "_inline"}
        return str(super().process_tag(node, parent_tags))

    def convert_br(self, el: Any, text: str, parent_tags: Any) -> str:
        if "_noformat" in parent_tags:  # in code, a backslash would be shown as written
            return ("\n" if "pre" in parent_tags else " ") + text
        if "_inline" in parent_tags:
            return " " + text
        return _BREAK + "\n" + text  # made "\\" or nothing by _breaks, once lines are known

    def convert_li(self, el: Any, text: str, parent_tags: Any) -> str:
        if "_inline" in parent_tags:
            return f" {text.strip()} "
        if not text.replace(_BREAK, "").strip():
            return "\n"  # an empty item: a lone "-" under a line would make it a heading
        return str(super().convert_li(el, text, parent_tags))

    def convert_ul(self, el: Any, text: str, parent_tags: Any) -> str:
        if "_inline" in parent_tags:
            return f" {text.strip()} "
        return str(super().convert_list(el, text, parent_tags))

    convert_ol = convert_ul

    def convert_pre(self, el: Any, text: str, parent_tags: Any) -> str:
        if not text:
            return ""
        if "_inline" in parent_tags:
            return str(self.convert_code(el, " ".join(text.split()), parent_tags))
        longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"\n\n{fence}\n{text.strip(chr(10))}\n{fence}\n\n"

    def _inline_html(self, el: Any, text: str, parent_tags: Any) -> str:
        if not text.strip() or "_noformat" in parent_tags:
            return text  # in code, a tag would be shown as written
        title = el.get("title") if el.name == "abbr" else None
        attrs = f' title="{html.escape(title)}"' if title else ""
        return f"<{el.name}{attrs}>{text}</{el.name}>"

    convert_sub = convert_sup = convert_u = convert_s = convert_abbr = _inline_html
    convert_del = convert_ins = convert_strike = _inline_html  # not left by the sanitiser


class _HtmlEmphasis(_Writer):
    """The same, with bold and italics as inline HTML: CommonMark's rules for "*"
    next to punctuation and to other "*" runs (``**a****b**``) misread some."""

    convert_b = convert_strong = convert_em = convert_i = _Writer._inline_html


_OPTIONS: dict[str, Any] = {
    "bullets": "-",
    "heading_style": "atx",
    "newline_style": "backslash",  # a trailing backslash survives an editor trimming spaces
    "escape_asterisks": False,  # _Writer.escape does these, and more
    "escape_underscores": False,
    "escape_misc": False,
    # Whitespace in HTML text is a space: a feed's newline must not start a Markdown line.
    "wrap": True,
    "wrap_width": None,
    "autolinks": False,  # "<url>" would keep "&" and "\\" as written: always [text](url)
}
_WRITERS = (_Writer(**_OPTIONS), _HtmlEmphasis(**_OPTIONS))


def to_markdown(cleaned: str) -> str:
    """Sanitised HTML (``sanitize.clean_html``'s output) as Markdown; "" for nothing.

    The Markdown is rendered back as the build renders it and kept only if a
    reader would read the same words and links; otherwise bold and italics are
    written as HTML; failing that the sanitised HTML itself is kept (one block
    per line, which Markdown passes through as it is), and for HTML too
    mis-nested for that, its words as one paragraph of text.
    """
    if not _words(cleaned):
        return ""  # nothing to read (empty paragraphs, links around nothing)
    cleaned = _EMPTY_LINK.sub(r"\1", cleaned)  # nothing to click: Markdown drops it too
    emptied = None
    while emptied != cleaned:  # "<em></em>", "<ul></ul>": nothing to show either
        emptied, cleaned = cleaned, _EMPTY.sub(r"\1", cleaned)
    for writer in _WRITERS:
        with warnings.catch_warnings():
            # BeautifulSoup warns when a fragment looks like a URL or a file name;
            # a summary may be just a URL, and the warning would reach the terminal.
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            text = _breaks(writer.convert(cleaned))
        # markdownify leaves blank lines and spaces at the edges, and runs of blank lines.
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        if _reads_as(text, cleaned):
            return text
    kept = _settled(summarise(cleaned, limit=sys.maxsize))  # one HTML block, left as it is
    if _reads_as(kept, cleaned):
        return kept
    # Mis-nested beyond repair (a <pre> closed inside a <pre>): the words, as plain text.
    return _WRITERS[0].escape(html_to_text(cleaned), set())


def _settled(fragment: str) -> str:
    """Sanitised again until the sanitiser changes nothing.

    Mis-nested HTML (a link in a link, a list item in code) comes out of the
    HTML parser rearranged, and once more the next time it is parsed; the
    build sanitises every summary again, so the inbox keeps the settled form.
    """
    for _ in range(3):
        again = clean_html(fragment)
        if again == fragment:
            break
        fragment = again
    return fragment


def _reads_as(markdown: str, cleaned: str) -> bool:
    """Whether the build renders ``markdown`` with the words and links of ``cleaned``."""
    rendered = markdown_bounded(markdown).html
    return (
        _words(rendered) == _words(cleaned)
        and _links(rendered) == _links(cleaned)
        and _shape(rendered) == _shape(cleaned)
    )


def _shape(fragment: str) -> Counter[str]:
    """How many of each formatting tag: a "**" misread as the end of another's
    bold re-nests the tags (``<b><s><b>`` written as ``**<s>**``) but keeps the words.
    Paragraphs, breaks and code blocks' <code> are Markdown's to lay out."""
    found = Counter(_SAME.get(tag.lower(), tag.lower()) for tag in _START.findall(fragment))
    return found - Counter({"p": len(fragment), "br": len(fragment), "code": len(fragment)})


def _links(fragment: str) -> list[str]:
    """The address of each link a reader can click (one with words in it).

    The renderer %-encodes what a URL may not hold ("<" as %3C): the same address.
    """
    reader = _LinkReader()
    reader.feed(fragment)
    reader.close()
    # A link a block splits in two (the HTML parser closes it at <blockquote>) is one.
    hrefs = [unquote(href) for href in reader.found]
    return [h for n, h in enumerate(hrefs) if n == 0 or hrefs[n - 1] != h]


class _LinkReader(HTMLParser):
    """Links as a browser reads them: an ``<a>`` ends any link still open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None
        self.found: list[str] = []
        self.counted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.href, self.counted = dict(attrs).get("href"), False

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.href is not None and not self.counted and data.replace("\u200d", "").strip():
            self.found.append(self.href)
            self.counted = True


def _words(fragment: str) -> str:
    # Without spaces, nor the invisible joiner sanitize.neutralise puts in "%%".
    return "".join(html_to_text(fragment).split()).replace("\u200d", "")


def _breaks(text: str) -> str:
    """Each marked line break as a backslash where it breaks a line, else nothing.

    A break with no text before it on its line, or none after it in its block
    (the next line blank, or itself only a break), would show as a backslash.
    """
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if _BREAK not in line:
            continue
        following = _PREFIX.sub("", lines[n + 1]) if n + 1 < len(lines) else ""
        if _ITEM.match(following):
            following = ""  # the next list item: this one ends here
        before = _PREFIX.sub("", line.replace(_BREAK, ""))
        breaks = bool(before.strip()) and bool(following.strip(_BREAK + " \t"))
        lines[n] = line.replace(_BREAK, "\\" if breaks else "").rstrip(" \t")
    return "\n".join(lines)
