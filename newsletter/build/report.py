"""The build report: what went in, how big it is, what a mail client or a
screen reader would trip over in the compiled HTML, and how current the
directory is (its freshness figure and the data-quality check's findings)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from newsletter.contacts.directory import Directory
from newsletter.models import Issue, Problem

WARN_KB = 90
MAX_KB = 102  # Gmail clips a message body larger than this
MIN_FONT_PX = 14
VAGUE_LINKS = {"click here", "here", "read more", "more", "link", "this link", "learn more"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
_FONT = re.compile(r"font-size\s*:\s*([\d.]+)(px|pt)", re.I)


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class Held:
    """An item held back by its embargo: its file, and the day it may go out."""

    item: str
    until: dt.date


@dataclass(frozen=True)
class BuildReport:
    """``build/report.json``: what went in, how big it is, what the audit found.

    ``send`` refuses a build whose report is not ``ok`` or whose ``inputs``
    fingerprint no longer matches; the archive reads which items were held.
    """

    issue: str
    ok: bool
    items: int
    sections: tuple[tuple[str, int], ...]  # section key, items in it, in reading order
    held: tuple[Held, ...]
    size_kb: float
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    inputs: str  # build.input_digest of what the build read
    outputs: tuple[tuple[str, str], ...]  # file name, SHA-256 of its text
    # When it was built (UTC, ISO 8601): the next issue's directory counts its
    # changes from here when this issue was never sent. "" in an older report.
    built: str = ""
    # The directory's freshness figure on the issue's date, and the findings of
    # ``directory check`` (advice: they never make a build fail). "" and () without
    # contacts.db, or in an older report.
    freshness: str = ""
    quality: tuple[str, ...] = ()

    @classmethod
    def make(
        cls,
        issue: Issue,
        problems: list[Problem],
        findings: list[Finding],
        kb: float,
        files: Mapping[str, str],
        digest: str,
        built: str = "",
        directory: Directory | None = None,
    ) -> BuildReport:
        errors = tuple(f"{f.rule}: {f.message}" for f in findings if f.severity == "error")
        fresh = directory.freshness if directory else None
        advice = directory.quality.findings if directory and directory.quality else []
        warnings = [str(p) for p in problems if p.severity == "warning"]
        warnings += [f"{f.rule}: {f.message}" for f in findings if f.severity == "warning"]
        return cls(
            issue=issue.id,
            ok=not errors,
            items=sum(len(s.items) for s in issue.sections),
            sections=tuple((s.key, len(s.items)) for s in issue.sections),
            held=tuple(Held(i.path, i.embargo) for i in issue.held if i.embargo),
            size_kb=round(kb, 1),
            errors=errors,
            warnings=tuple(warnings),
            inputs=digest,
            outputs=tuple(
                (n, hashlib.sha256(t.encode()).hexdigest()) for n, t in sorted(files.items())
            ),
            built=built,
            freshness=fresh.line if fresh else "",
            quality=tuple(f.line() for f in advice),
        )

    @property
    def quality_line(self) -> str:
        """The data-quality section in one line, as ``build`` prints it."""
        if not self.quality:
            return "Directory data quality: nothing to fix."
        n = len(self.quality)
        return (
            f"Directory data quality: {n} finding{'s' if n != 1 else ''}"
            " (newsletter directory check lists them)."
        )

    def to_json(self) -> str:
        data = {
            "issue": self.issue,
            "ok": self.ok,
            "items": self.items,
            "sections": dict(self.sections),
            "held": [{"item": h.item, "until": h.until.isoformat()} for h in self.held],
            "size_kb": self.size_kb,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "inputs": self.inputs,
            "outputs": dict(self.outputs),
            "built": self.built,
            "freshness": self.freshness,
            "quality": list(self.quality),
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BuildReport:
        """The report in ``text``; ValueError when it is not one (damaged or edited by hand)."""
        try:
            data = json.loads(text)
            return cls(
                issue=str(data["issue"]),
                ok=data["ok"] is True,
                items=int(data["items"]),
                sections=tuple((str(k), int(n)) for k, n in data["sections"].items()),
                held=tuple(
                    Held(str(h["item"]), dt.date.fromisoformat(h["until"])) for h in data["held"]
                ),
                size_kb=float(data["size_kb"]),
                errors=tuple(map(str, data["errors"])),
                warnings=tuple(map(str, data["warnings"])),
                inputs=str(data["inputs"]),
                outputs=tuple((str(k), str(v)) for k, v in data["outputs"].items()),
                built=str(data.get("built", "")),
                freshness=str(data.get("freshness", "")),
                quality=tuple(map(str, data.get("quality", ()))),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"not a build report ({exc})") from None

    @classmethod
    def read(cls, folder: Path) -> BuildReport | None:
        """``folder/build/report.json``, or None when there is none or it is damaged."""
        try:
            return cls.from_json((folder / "build" / "report.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None


def built_at(folder: Path) -> dt.datetime | None:
    """When ``folder``'s build was made (UTC), from its report; None if it has none.

    A report from before the time was recorded: its file's time, as it landed
    by rename when the build was written.
    """
    report = BuildReport.read(folder)
    if report is None:
        return None
    try:
        if report.built:
            return dt.datetime.fromisoformat(report.built).astimezone(dt.UTC)
        mtime = (folder / "build" / "report.json").stat().st_mtime
    except (ValueError, OSError):
        return None
    return dt.datetime.fromtimestamp(int(mtime), dt.UTC)


@dataclass
class _Link:
    text: list[str] = field(default_factory=list)
    # An <a> without href is a place to land (the contents' name anchors), not a link.
    href: bool = True


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[Finding] = []
        self.headings: list[int] = []
        self.links: list[_Link] = []
        self.html_lang: str | None = None
        self.small_fonts: set[str] = set()
        self.in_style = False
        # Open elements with the font size each declares, so a size only
        # counts where text is actually set in it (MJML uses 0px and 1px on
        # spacers and dividers that hold no text).
        self.fonts: list[tuple[str, str | None]] = []

    def add(self, rule: str, message: str) -> None:
        self.findings.append(Finding(rule, message))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang") or ""
        elif tag == "table" and a.get("role") != "presentation":
            self.add("table-role", 'a layout <table> lacks role="presentation".')
        elif tag == "img":
            alt = (a.get("alt") or "").strip()
            if not alt:
                self.add("img-alt", f'<img src="{a.get("src", "")}"> has no alt text.')
            for link in self.links:
                link.text.append(alt)
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "a":
            self.links.append(_Link(href="href" in a))
        elif tag == "style":
            self.in_style = True
        elif tag.startswith("mj-"):
            self.add("mjml-leftover", f"<{tag}> reached the HTML; MJML does not know this tag.")
        if tag not in VOID:
            style = a.get("style") or ""
            sizes = _FONT.findall(style)
            # The preheader is hidden text (display:none); its size is moot.
            hidden = re.search(r"display\s*:\s*none", style, re.I)
            self.fonts.append((tag, "hidden" if hidden else "".join(sizes[-1]) if sizes else None))

    def handle_endtag(self, tag: str) -> None:
        if any(t == tag for t, _ in self.fonts):
            while self.fonts and self.fonts.pop()[0] != tag:
                pass
        if tag == "a" and self.links:
            link = self.links.pop()
            if link.href:
                self._link_text(" ".join(" ".join(link.text).split()))
        elif tag == "style":
            self.in_style = False

    def _link_text(self, text: str) -> None:
        if not text:
            self.add("link-text", "a link has no text. Give every link words or alt text.")
        elif text.lower().strip(" .:!»›→") in VAGUE_LINKS:
            self.add("link-text", f"link text '{text}' says nothing on its own. Name the target.")

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self._fonts(data)
            return
        for link in self.links:
            link.text.append(data)
        if data.strip():
            size = next((s for _, s in reversed(self.fonts) if s), None)
            if (
                size
                and size != "hidden"
                and not any(s == "hidden" for _, s in self.fonts)
                and _too_small(size)
            ):
                self.small_fonts.add(size)

    def _fonts(self, css: str) -> None:
        for size, unit in _FONT.findall(css):
            if _too_small(size + unit):
                self.small_fonts.add(size + unit)


def _too_small(size: str) -> bool:
    match = _FONT.match("font-size:" + size)
    if match is None:  # never: every size here was found by _FONT
        return False
    value, unit = match.groups()
    px = float(value) * (4 / 3 if unit.lower() == "pt" else 1)
    # 0px is MJML's trick against gaps between inline-block columns, not text.
    return 0 < px < MIN_FONT_PX


def audit(html: str) -> list[Finding]:
    """Accessibility and client-safety findings for compiled email HTML."""
    parser = _Audit()
    parser.feed(html)
    parser.close()
    found = parser.findings
    if not parser.html_lang or parser.html_lang == "und":
        found.append(Finding("lang", "<html> has no lang attribute. Set language in settings."))
    h = parser.headings
    if h.count(1) != 1:
        found.append(Finding("headings", f"found {h.count(1)} <h1> elements; use exactly one."))
    for prev, cur in zip(h, h[1:], strict=False):
        if cur > prev + 1:
            found.append(Finding("headings", f"heading level skips from h{prev} to h{cur}."))
            break
    if parser.small_fonts:
        sizes = ", ".join(sorted(parser.small_fonts))
        found.append(Finding("font-size", f"text smaller than {MIN_FONT_PX}px: {sizes}."))
    for marker in ("{{", "{%"):
        if marker in html:
            found.append(Finding("leftover", f"a leftover '{marker}' is in the HTML."))
    # Collapse repeats (one line per rule and message) so a report stays readable.
    unique: dict[tuple[str, str], Finding] = {}
    for f in found:
        unique.setdefault((f.rule, f.message), f)
    return list(unique.values())


def size_findings(html: str) -> tuple[float, list[Finding]]:
    kb = len(html.encode("utf-8")) / 1024
    if kb > MAX_KB:
        return kb, [
            Finding(
                "size",
                f"email.html is {kb:.1f} KB; Gmail clips above {MAX_KB} KB. "
                "Shorten summaries or move items to the web page.",
            )
        ]
    if kb > WARN_KB:
        msg = f"email.html is {kb:.1f} KB, close to Gmail's {MAX_KB} KB clipping limit."
        return kb, [Finding("size", msg, "warning")]
    return kb, []
