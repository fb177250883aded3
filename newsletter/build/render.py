"""Render: Jinja2 makes MJML, text and the web page; mjml-python makes the HTML.

Templates are looked up in the issue's ``templates/`` first and the house
``templates/`` last, so an issue can override any one file (as mkdocs themes do).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import textwrap
import traceback
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import mjml
from markupsafe import Markup

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.models import PLACEHOLDERS, Issue, Item
from newsletter.sanitize import html_to_paragraphs, neutralise, one_line
from newsletter.schema import GREETING_FIELD

if TYPE_CHECKING:  # for the annotation only: `serve` renders pages without the contacts stage
    from newsletter.contacts.directory import Directory

WIDTH = 78


class LinkList:
    """Numbered references for the plain-text part: each URL once, in order."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def ref(self, url: str) -> str:
        if url not in self.urls:
            self.urls.append(url)
        return f"[{self.urls.index(url) + 1}]"

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return iter(enumerate(self.urls, 1))


# A word that is cut in two stops working: a URL, an address, a www. host.
_WHOLE = re.compile(r"://|@|^www\.", re.I)


def wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    """Wrap prose at ``width`` code points; a URL or an address longer than a line
    stands whole on a line of its own, and only another word that long is cut.

    Code points, not screen columns: a mail reader's font is unknown, and an
    East Asian wide character that takes two columns counts as one.
    """
    room = max(width - len(indent), 1)
    words = []
    for word in str(text).split():
        if len(word) <= room or _WHOLE.search(word):
            words.append(word)
        else:  # pieces of exactly one line each, so no two share a line
            words += [word[i : i + room] for i in range(0, len(word), room)]
    return textwrap.fill(
        " ".join(words),
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def fit(line: str, width: int = WIDTH) -> str:
    """One line of the text part with a recipient's values in: as it is when it
    fits, else wrapped by the same rule as the rest (``wrap``), keeping its indent.

    ``send`` runs it on each line that held a marker, once the values are in.
    """
    if len(line) <= width:
        return line
    indent = line[: len(line) - len(line.lstrip(" "))]
    return wrap(line, width, indent)


def longdate(value: dt.date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def dayname(value: dt.date) -> str:
    """A date with its weekday, as a deadline is written: "Friday 15 January 2027"."""
    return f"{value:%A} {longdate(value)}"


# The archive's calendar file for one event (publish/archive.py writes it there);
# the emails link to it under the issue's address, {web_url}/ID/.
EVENT_FILE = "event-{slug}.ics"


def event_file(slug: str) -> str:
    return EVENT_FILE.format(slug=slug)


CREDIT_CHARS = 80  # the longest organisation name a credit line shows


def byline(item: Item, attribution: bool = False) -> str:
    """The source and the date the item was filed: "OHCHR · 1 March 2027"; with
    ``attribution`` (the house setting), an item with an ``organisation`` credits it:
    "Contributed by UNICEF · 1 March 2027" (after the source, when that names
    someone else).

    An event shows no filing date: beside the event's own dates it would read as
    the day it happens. The credit names the organisation, never the contributor
    (a person); it is untrusted text, so one line, bounded, and no marker.
    """
    filed = None if item.starts else longdate(item.date)
    source, credit = item.source, None
    organisation = one_line(item.organisation or "", CREDIT_CHARS) if attribution else ""
    if organisation:
        credit = f"Contributed by {neutralise(organisation)}"
        if source and one_line(source).casefold() == organisation.casefold():
            source = None  # "UNICEF · Contributed by UNICEF" says it twice
    return " · ".join(part for part in (source, credit, filed) if part)


def event_when(item: Item) -> str:
    """When an event happens, read at a glance: "Tuesday 20 April 2027, 09:30–12:00
    (Zurich time)", "20–22 April 2027", "Tuesday 20 April 2027" (all day).

    A time with a named zone is labelled with its city; one with only an offset
    with that offset ("(UTC+02:00)"); a floating time has no label. The end is
    shown in the start's zone. "" for an item that is not an event.
    """
    start, end = item.starts, item.ends
    if start is None:
        return ""
    if not isinstance(start, dt.datetime) or not (end is None or isinstance(end, dt.datetime)):
        first = _day(start)
        return _days(first, _day(end) if end is not None else first)
    if end is not None and end.tzinfo is not None and start.tzinfo is not None:
        end = end.astimezone(start.tzinfo)
    if end is None:
        text = f"{start:%A} {longdate(start)}, {start:%H:%M}"
    elif end.date() == start.date():
        text = f"{start:%A} {longdate(start)}, {start:%H:%M}–{end:%H:%M}"
    else:
        text = f"{longdate(start)}, {start:%H:%M} – {longdate(end)}, {end:%H:%M}"
    label = zone_label(start)
    return f"{text} ({label})" if label else text


def zone_label(moment: dt.datetime) -> str:
    """The zone's label: "Zurich time" for a zone named by its city, "UTC+02:00" for an
    offset, "" for a floating time."""
    key = getattr(moment.tzinfo, "key", "")
    # Etc/GMT+5 and names such as EST or UTC name no city: their offset says more.
    if "/" in key and not key.startswith("Etc/"):
        return f"{key.rsplit('/', 1)[1].replace('_', ' ')} time"
    offset = moment.utcoffset()
    if offset is None:
        return ""
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _days(first: dt.date, last: dt.date) -> str:
    """Days: "Tuesday 20 April 2027", "20–22 April 2027", "30 April – 2 May 2027"."""
    if last <= first:
        return f"{first:%A} {longdate(first)}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{longdate(last)}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {longdate(last)}"
    return f"{longdate(first)} – {longdate(last)}"


def template_dirs(settings: Settings, folder: Path) -> list[Path]:
    return [folder / "templates", settings.root / "templates"]


def environment(settings: Settings, folder: Path) -> jinja2.Environment:
    """The templates of ``folder`` first and the house's last, with the house filters.

    Made once per set of template folders and reused: compiling the templates is
    most of a short email's cost (an acknowledgement on ``serve``). Jinja sees an
    edited file by its time; a template added or removed changes its folder's
    time, which is part of the key, so an override dropped into an issue's
    ``templates/`` is used at once."""
    dirs = tuple(str(p) for p in template_dirs(settings, folder))
    return _environment(dirs, tuple(_mtime(d) for d in dirs), settings.attribution)


def _mtime(folder: str) -> int:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:  # no such folder (yet): it holds no template
        return -1


@functools.lru_cache(maxsize=32)
def _environment(
    dirs: tuple[str, ...], times: tuple[int, ...], attribution: bool
) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(dirs)),
        # Text templates are not HTML: escaping there would show "&amp;" to readers.
        autoescape=lambda name: not (name or "").endswith(".txt.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        wrap=wrap,
        longdate=longdate,
        paragraphs=html_to_paragraphs,
        # The house setting decides whether an item credits its organisation.
        byline=functools.partial(byline, attribution=attribution),
        when=event_when,
        event_file=event_file,
    )
    return env


def context(settings: Settings, issue: Issue, directory: Directory | None = None) -> dict[str, Any]:
    return {
        "settings": settings,
        "issue": issue,
        "sections": issue.sections,
        "directory": directory,
        "issue_url": f"{settings.web_url}/{issue.id}/",
        "placeholders": {k: Markup(v) for k, v in PLACEHOLDERS.items()},
        "greeting": greeting_line(issue.greeting),
    }


def greeting_line(greeting: str) -> str:
    """The greeting with the name's marker in, for ``send`` to fill ("" for none).

    The editor's own text is neutralised like any other, so only the marker put
    here stands for the recipient's name.
    """
    parts = (neutralise(part) for part in greeting.split(GREETING_FIELD))
    return PLACEHOLDERS["name"].join(parts)


def render_template(env: jinja2.Environment, name: str, ctx: dict[str, Any], root: Path) -> str:
    """Render one template; template mistakes become ``templates/NAME:LINE: message``."""
    try:
        return env.get_template(name).render(ctx)
    except jinja2.TemplateSyntaxError as exc:
        raise NewsletterError(
            f"{_rel(exc.filename or name, root)}:{exc.lineno}: {exc.message}. "
            "Fix the template syntax."
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise NewsletterError(
            f"templates/{exc.name}: template not found. "
            "Restore it in templates/ or the issue's templates/."
        ) from None
    except (jinja2.UndefinedError, jinja2.TemplateError, TypeError, ValueError) as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        if not frames:
            raise
        frame = frames[-1]
        raise NewsletterError(
            f"{_rel(frame.filename, root)}:{frame.lineno}: {exc}. Fix the template."
        ) from None


def _rel(filename: str, root: Path) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def compile_mjml(source: str, settings: Settings, issue: Issue) -> str:
    """MJML -> HTML with no web-font requests; errors point into the templates."""
    return mjml_html(source, settings, issue.folder, f"issues/{issue.id}/build/email.mjml")


def mjml_html(source: str, settings: Settings, folder: Path, generated: str) -> str:
    """MJML -> HTML for templates looked up from ``folder``; ``generated`` says where the
    MJML made from them is (or would be) for an error message."""
    try:
        return mjml.mjml2html(source, fonts={}, disable_comments=True)
    except ValueError as exc:
        line = _first_bad_line(source)
        where = _locate(source, line, template_dirs(settings, folder), settings.root)
        raise NewsletterError(
            f"{where}: MJML error: {exc}. Check that every <mj-…> tag is closed and nested "
            f"correctly (the generated MJML is in {generated})."
        ) from None


def small_mail(
    settings: Settings, folder: Path, template: str, ctx: dict[str, Any]
) -> tuple[str, str]:
    """(text, HTML) of a short email from ``template``.txt.j2 and .mjml.j2, looked up in
    ``folder``/templates first and the house's last, with the markers in for ``send``."""
    env = environment(settings, folder)
    full = {
        "settings": settings,
        "placeholders": {k: Markup(v) for k, v in PLACEHOLDERS.items()},
        **ctx,
    }
    text = render_template(env, f"{template}.txt.j2", full, settings.root)
    source = render_template(env, f"{template}.mjml.j2", full, settings.root)
    return text, mjml_html(source, settings, folder, f"the MJML of templates/{template}.mjml.j2")


class _Balance(HTMLParser):
    """Find the first line where MJML tags stop nesting properly."""

    VOID = {
        "br",
        "img",
        "hr",
        "meta",
        "link",
        "input",
        "mj-breakpoint",
        "mj-all",
        "mj-image",
        "mj-divider",
        "mj-spacer",
        "mj-class",
        "mj-font",
        "mj-preview",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.bad: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()
        elif self.bad is None:
            self.bad = self.stack[-1][1] if self.stack else self.getpos()[0]


def _first_bad_line(source: str) -> int:
    checker = _Balance()
    checker.feed(source)
    checker.close()
    if checker.bad is not None:
        return checker.bad
    return checker.stack[-1][1] if checker.stack else 1


def _locate(source: str, line: int, dirs: list[Path], root: Path) -> str:
    """Map a line of generated MJML back to the template line that wrote it.

    Generic lines such as ``<mj-column>`` occur in many partials, so the
    template whose following lines also match the output best wins.
    """
    out = [text.strip() for text in source.splitlines()]
    if not 0 < line <= len(out) or re.fullmatch(r"[\s<>/]*", out[line - 1]):
        return f"{_rel(str(dirs[0].parent / 'build' / 'email.mjml'), root)}:{line}"
    best: tuple[int, str] | None = None
    for folder in dirs:
        for path in sorted(folder.glob("*.mjml.j2")) if folder.is_dir() else []:
            lines = [text.strip() for text in path.read_text(encoding="utf-8").splitlines()]
            for n, text in enumerate(lines):
                if text != out[line - 1]:
                    continue
                run = 0
                while n + run < len(lines) and line - 1 + run < len(out):
                    if lines[n + run] != out[line - 1 + run]:
                        break
                    run += 1
                if best is None or run > best[0]:
                    best = (run, f"{_rel(str(path), root)}:{n + 1}")
    return best[1] if best else f"{_rel(str(dirs[0].parent / 'build' / 'email.mjml'), root)}:{line}"
