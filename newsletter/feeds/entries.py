"""Feed bytes in, clean ``Entry`` values out.

feedparser reads the document and resolves relative links against each
element's xml:base or the document URL; its own sanitiser is off, because
``sanitize.clean_html`` is the one allowlist and, seeing the raw HTML, drops
script and style with their content. ``parse_feed`` is a plain function of
picklable values so ``collect`` can run it in worker processes.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from newsletter.issue.keys import untracked
from newsletter.sanitize import MAX_CHARS, clean_bounded, clean_html, html_to_text, one_line
from newsletter.schema import is_web_url, shown

SUMMARY_WORDS = 80
TITLE_CHARS = 300
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_DEAD_LINK = re.compile(r"<a\b(?![^>]*\shref=)[^>]*>(.*?)</a>", re.S)
_EMPTY_LINK = re.compile(r"<a\b[^>]*>(\s*)</a>")
_HOSTILE_ELEMENT = re.compile(
    r"<(script|style|iframe|object|embed|svg|math|noscript|template)\b.*?</\1\s*>", re.I | re.S
)
_TAG_LIKE = re.compile(r"<(?:[a-z!/?][^<>]*)>", re.I)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_BLOCKS = {"p", "ul", "ol", "blockquote", "pre", "li"}
_VOID = {"br", "img"}
_BLOCK_START = ("<p>", "<ul>", "<ol>", "<blockquote>", "<pre>")


@dataclass(frozen=True)
class Entry:
    """One feed entry, cleaned: plain-text title, web link (no tracking), safe summary."""

    title: str
    link: str | None
    guid: str | None
    date: dt.date | None
    summary: str  # sanitised HTML blocks, one per line (``feeds.markdown`` writes it as Markdown)
    cut: str = ""  # what the sanitiser's limits took out of the summary, if anything


@dataclass(frozen=True)
class Parsed:
    """A parsed feed. ``error``: nothing usable. ``warning``: usable but flawed."""

    entries: tuple[Entry, ...] = ()
    title: str = ""
    warning: str | None = None
    error: str | None = None


def parse_raw(body: bytes, headers: dict[str, str], url: str, *, resolve: bool = True) -> Any:
    """feedparser's view of ``body``, given the response headers and document URL.

    ``resolve=False`` leaves relative URLs inside HTML content for ``clean_html``
    to resolve against the content's base: feedparser's resolver is slow, and it
    takes an entity-encoded "&#106;avascript:" for a relative path and prefixes it.
    """
    import feedparser  # slow to import; only collect needs it

    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs.setdefault("content-type", "application/xml")
    if is_web_url(url):
        hdrs.setdefault("content-location", url)
    # A BytesIO, never bare bytes: feedparser would try bytes as a file name.
    return feedparser.parse(
        io.BytesIO(body), response_headers=hdrs, sanitize_html=False, resolve_relative_uris=resolve
    )


Window = tuple[dt.date, dt.date]


def parse_feed(
    body: bytes, headers: tuple[tuple[str, str], ...], url: str, window: Window | None = None
) -> Parsed:
    """Parse a feed body into entries, with one warning or error reason at most.

    An entry dated outside ``window`` comes back with its date only: it is merely
    counted, so cleaning its title and summary would be wasted work.
    """
    hdrs = dict(headers)
    result = parse_raw(body, hdrs, url, resolve=False)
    warning = None
    if _utf8_mislabelled(body, result):
        declared = result.get("encoding") or "another encoding"
        utf8 = {**hdrs, "content-type": "application/xml; charset=utf-8"}
        result = parse_raw(body, utf8, url, resolve=False)
        warning = f"declared encoding {declared} is wrong; read as utf-8"
    if not result.get("version") and not result.get("entries"):
        return Parsed(error=_not_a_feed(body, hdrs, result.get("bozo_exception")))
    warning = warning or _bozo_reason(result)
    base = hdrs.get("content-location") or url
    entries = tuple(e for e in (_entry(raw, base, window) for raw in result.entries) if e)
    if skipped := len(result.entries) - len(entries):
        empty = f"{skipped} entr{'y' if skipped == 1 else 'ies'} with no title or text skipped"
        warning = f"{warning}; {empty}" if warning else empty
    # The first cut entry by name and a count: a warning is one line, and joining
    # one clause per entry grew with the square of a hostile feed's 18,000 entries.
    if cut := [e for e in entries if e.cut]:
        more = f" (and {len(cut) - 1:,} more entries)" if len(cut) > 1 else ""
        clause = f"entry {shown(cut[0].title)}{more}: {cut[0].cut}"
        warning = f"{warning}; {clause}" if warning else clause
    title = plain(result.feed.get("title", ""), result.feed.get("title_detail"))
    return Parsed(entries=entries, title=title, warning=warning)


def _utf8_mislabelled(body: bytes, result: Any) -> bool:
    encoding = (result.get("encoding") or "").lower().replace("_", "-")
    if encoding.startswith(("utf-8", "utf8", "utf-16", "utf-32")) or body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _bozo_reason(result: Any) -> str | None:
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    name = type(exc).__name__
    if name == "NonXMLContentType":
        return None  # a feed served as text/html or with no type still parses
    if name == "CharacterEncodingOverride":
        match = re.search(r"declared as (\S+), but parsed as (\S+)", str(exc))
        if match:
            return f"declared encoding {match[1]} is wrong; read as {match[2]}"
        return f"declared encoding is wrong ({_one_line(exc)})"
    if name == "CharacterEncodingUnknown":
        return f"unknown encoding ({_one_line(exc)})"
    if name == "SAXParseException":
        return f"ill-formed XML ({_sax(exc)}); kept what could be read"
    return f"ill-formed feed ({_one_line(exc)}); kept what could be read"


def _not_a_feed(body: bytes, headers: dict[str, str], exc: object) -> str:
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024].lower()
    if not start:
        return "empty document"
    if "html" in headers.get("content-type", "").lower() or start.startswith(
        (b"<!doctype html", b"<html")
    ):
        return "an HTML page, not a feed"
    if start.startswith((b"{", b"[")):
        return "JSON, not RSS or Atom (JSON Feed is not supported)"
    if type(exc).__name__ == "SAXParseException":
        return f"not a feed: ill-formed XML ({_sax(exc)})"
    return "not an RSS or Atom feed"


def _sax(exc: Any) -> str:
    return f"line {exc.getLineNumber()}: {exc.getMessage()}"


def _one_line(value: object) -> str:
    return one_line(value, 200)


def plain(value: str, detail: Any = None) -> str:
    """One line of plain text: tags stripped from HTML, control characters removed.

    Text that is not declared HTML still loses anything shaped like a tag: a
    title such as "Hi <img src=x onerror=...>" is mis-declared markup far more
    often than prose about markup, and hostile text must not reach an inbox file.
    """
    kind = (detail or {}).get("type", "text/plain") if detail is not None else "text/plain"
    if "html" in kind:
        value = html_to_text(clean_html(value))
    value = _TAG_LIKE.sub(" ", _HOSTILE_ELEMENT.sub(" ", value or ""))
    return " ".join(_CONTROL.sub("", value).split())


def _entry(raw: Any, doc_base: str, window: Window | None = None) -> Entry | None:
    date = _date(raw)
    if date and window and not window[0] <= date <= window[1]:
        return Entry(title="", link=None, guid=None, date=date, summary="")
    # As a browser does: tabs and newlines inside a URL dropped, a space %-encoded.
    href = re.sub(r"[\t\r\n]", "", (raw.get("link") or "").strip()).replace(" ", "%20")
    # The item's main link is the page itself, not the publisher's click count.
    link = untracked(href) if is_web_url(href) else None
    guid = " ".join(_CONTROL.sub("", str(raw.get("id") or "")).split())[:500] or None
    summary, cut = _summary(raw, doc_base)
    title = plain(raw.get("title", ""), raw.get("title_detail"))
    if not title:
        words = plain(html_to_text(summary)).split()  # escaped "<tags>" in it are text now
        title = " ".join(words[:12]) + (" \u2026" if len(words) > 12 else "")
    title = title or link or ""
    if not title:
        return None
    if len(title) > TITLE_CHARS:
        title = title[:TITLE_CHARS].rsplit(" ", 1)[0] + " \u2026"
    return Entry(title=title, link=link, guid=guid, date=date, summary=summary, cut=cut)


def _date(raw: Any) -> dt.date | None:
    """The entry's date as its publisher wrote it, not as UTC sees it.

    feedparser gives UTC, so "Thu, 01 Oct 2026 01:30 +0300" would be 30 September
    and fall out of a quarter that starts on 1 October. The written date is used
    when it can be read and lies within a day of feedparser's.
    """
    for key in ("published", "updated", "created"):
        stamp = raw.get(f"{key}_parsed")
        try:
            utc = dt.date(*stamp[:3]) if stamp else None
        except (TypeError, ValueError):
            utc = None
        if utc is None:
            continue
        text = str(raw.get(key) or "").strip()
        match = _ISO_DATE.match(text)
        fields = tuple(map(int, match.groups())) if match else email.utils.parsedate_tz(text)
        try:
            local = dt.date(*fields[:3]) if fields else None
        except (TypeError, ValueError):
            local = None
        return local if local and abs((local - utc).days) <= 1 else utc
    return None


def _summary(raw: Any, doc_base: str) -> tuple[str, str]:
    """The entry's summary as sanitised HTML, and what the sanitiser's limits took out."""
    details = [raw.get("summary_detail"), *(raw.get("content") or [])]
    detail = next((d for d in details if d and (d.get("value") or "").strip()), None)
    if detail is None:
        return "", ""
    value = _CONTROL.sub("", detail["value"])
    cut = ""
    if detail.get("type") == "text/plain":
        paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", value[:MAX_CHARS]))
        cleaned = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)
    else:
        base = next((b for b in (detail.get("base"), doc_base) if b and is_web_url(b)), None)
        bounded = clean_bounded(value, base)
        cleaned, cut = bounded.html, bounded.cut
    # A link whose target was refused (relative to a file, javascript:...) keeps its text.
    cleaned = _DEAD_LINK.sub(r"\1", cleaned)
    return summarise(_EMPTY_LINK.sub(r"\1", cleaned)), cut  # e.g. a link around a dropped picture


def summarise(cleaned: str, limit: int = SUMMARY_WORDS) -> str:
    """Cut sanitised HTML to ``limit`` words, at a sentence end where one is near.

    The result is laid out as top-level blocks, one per line with no blank
    lines, so Markdown passes it through as a single HTML block untouched.
    """
    words = html_to_text(cleaned).split()
    if len(words) <= limit and "\n" not in cleaned and cleaned.startswith(_BLOCK_START):
        return cleaned  # one line opening with a block tag: already one HTML block
    cut, ellipsis = None, False
    if len(words) > limit:
        floor = int(limit * 0.6)
        cut = next((i for i in range(limit, floor, -1) if _SENTENCE_END.search(words[i - 1])), None)
        cut, ellipsis = (cut, False) if cut else (limit, True)
    writer = _Summary(cut, ellipsis)
    writer.feed(cleaned)
    writer.close()
    return writer.result()


class _Summary(HTMLParser):
    def __init__(self, cut: int | None, ellipsis: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.cut, self.ellipsis = cut, ellipsis
        self.out: list[str] = []
        self.stack: list[str] = []
        self.words = 0
        self.done = False
        self.auto_p = False
        self.pre = 0

    def _top_inline(self) -> bool:
        if self.stack or self.auto_p:
            return False
        self._newline()
        self.out.append("<p>")
        self.auto_p = True
        return True

    def _newline(self) -> None:
        if self.out:
            self.out.append("\n")

    def _close_auto(self) -> None:
        if self.auto_p:
            self.out[-1] = self.out[-1].rstrip()
            self.out.append("</p>")
            self.auto_p = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if not self.stack and tag in _BLOCKS:
            self._close_auto()
            self._newline()
        else:
            self._top_inline()
        text = "".join(f' {k}="{html.escape(v)}"' if v is not None else f" {k}" for k, v in attrs)
        self.out.append(f"<{tag}{text}>")
        if tag not in _VOID:
            self.stack.append(tag)
            self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if self.done or tag not in self.stack:
            return
        while self.stack:
            open_tag = self.stack.pop()
            self.pre -= open_tag == "pre"
            self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.done:
            return
        if self.pre:
            data = re.sub(r"\n[ \t]*(?=\n)", "", data)
        else:
            data = re.sub(r"\s+", " ", data)
        if not data.strip():
            if self.stack or self.auto_p:
                self.out.append(data)
            return
        if self._top_inline():
            data = data.lstrip()
        kept: list[str] = []
        for token in re.split(r"(\s+)", data):
            kept.append(token)
            if token and not token.isspace():
                self.words += 1
                if self.words == self.cut:
                    self.done = True
                    break
        text = "".join(kept).rstrip() if self.done else "".join(kept)
        self.out.append(html.escape(text, quote=False))
        if self.done and self.ellipsis:
            self.out.append("\u2026")

    def result(self) -> str:
        while self.stack:
            self.out.append(f"</{self.stack.pop()}>")
        self._close_auto()
        return "".join(self.out).strip()
