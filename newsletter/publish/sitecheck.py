"""Checks on a finished static site: every internal link resolves, no address leaks.

Used by ``newsletter archive`` on its own output (a house template can be
overridden, so the archive checks what it actually wrote) and by the tests.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

EXTERNAL = ("http", "https", "mailto", "tel", "webcal")
_XML_HREF = re.compile(r"""\bhref=["']([^"']*)["']""")


class _Page(HTMLParser):
    """The links (href, src) and the fragment targets (id, name) of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src"):
                self.links.append(value)
            elif name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def links_of(path: Path) -> list[str]:
    """Every link in an HTML page or an XML feed."""
    if path.suffix == ".html":
        return _parse(path).links
    return [html.unescape(h) for h in _XML_HREF.findall(path.read_text(encoding="utf-8"))]


def broken_links(site: Path) -> list[str]:
    """``page: link: why`` for each internal link that is absolute or leads nowhere."""
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".xml") or not path.is_file():
            continue
        rel = path.relative_to(site).as_posix()
        for link in links_of(path):
            parts = urlsplit(link)
            if parts.scheme in EXTERNAL:
                continue
            if parts.scheme or parts.netloc or link.startswith("/"):
                problems.append(f"{rel}: {link}: not a relative link")
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(site.resolve()) or not target.is_file():
                problems.append(f"{rel}: {link}: no such file")
                continue
            if parts.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = _parse(target).ids
                if unquote(parts.fragment) not in ids[target]:
                    problems.append(f"{rel}: {link}: no element with id '{parts.fragment}'")
    return problems


def addresses_found(site: Path, known: Iterable[str]) -> list[str]:
    """``file: address`` for each known address that appears in any file of the site."""
    wanted = {a.strip().lower() for a in known if a}
    found = []
    for path in sorted(site.rglob("*")):
        if not path.is_file():
            continue
        text = html.unescape(path.read_bytes().decode("utf-8", "replace")).lower()
        text += "\n" + unquote(text)  # also as it would appear in a mailto: link
        for address in sorted(a for a in wanted if a in text):
            found.append(f"{path.relative_to(site).as_posix()}: {address}")
    return found
