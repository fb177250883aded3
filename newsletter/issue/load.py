"""Read an issue folder into an ``Issue``, reporting every problem.

The folder is ``issues/<ID>/`` with ``issue.toml``, ``intro.md`` and the
contributors' drop folder ``items/``. Nothing here writes; ``check``,
``build``, ``send`` and the archive all start from ``load_issue``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import IO, Any

import click

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.files import MAX_TEXT_BYTES, NotRegular, NotUTF8, TooLarge, decode, read_regular
from newsletter.issue.inbox import free_name, slugify
from newsletter.issue.items import SIMPLIFY, item_files, load_item
from newsletter.issue.meta import NAME, Meta, Window, read_meta
from newsletter.issue.scaffold import PLACEHOLDERS
from newsletter.models import Issue, Item, Problem, Section, plural
from newsletter.sanitize import markdown_bounded
from newsletter.schema import shown

# An item's file name becomes its slug: part of a web address, a file name in the
# archive and a calendar UID. So it is kept to characters that are safe in all three.
MAX_NAME = 100
SAFE_NAME = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_NAME}}}")


class CheckFailed(NewsletterError):
    """The check found errors: show every problem line, then one summary line."""

    def __init__(self, issue_id: str, problems: list[Problem], action: str) -> None:
        self.problems = problems
        errors = plural(sum(p.severity == "error" for p in problems), "error")
        super().__init__(
            f"{errors} in issues/{issue_id}; {action}. Fix the lines above and run again."
        )

    def show(self, file: IO[Any] | None = None) -> None:
        for problem in self.problems:
            click.echo(str(problem), err=True)
        super().show(file)


def load_issue(
    settings: Settings, folder: Path, today: dt.date | None = None
) -> tuple[Issue | None, list[Problem]]:
    """Load and validate ``folder``; the Issue is None when any error was found."""
    today = today or dt.date.today()
    rel = f"issues/{folder.name}"
    found = read_meta(folder, settings.section_keys)
    problems = list(found.problems)
    intro_html = _load_intro(folder / "intro.md", f"{rel}/intro.md", problems)
    items = _load_items(settings, folder, found.window, today, problems)
    problems.extend(placeholders(folder))
    if not items and not any(p.severity == "error" for p in problems):
        note = "no items yet. Add Markdown files to items/."
        problems.append(Problem(f"{rel}/items", None, note, "warning"))
    if found.meta is None or any(p.severity == "error" for p in problems):
        return None, problems
    return _assemble(settings, folder, found.meta, intro_html, items, today), problems


def placeholders(folder: Path) -> list[Problem]:
    """Every line that still holds an example text of ``newsletter new``, as a warning.

    ``check`` shows them; a real send refuses while one remains. A file that
    cannot be read is skipped here: the reader reports it.
    """
    found: list[Problem] = []
    rel = f"issues/{folder.name}"
    paths, _ = item_files(folder / "items", f"{rel}/items")
    for path in [folder / NAME, folder / "intro.md", *paths]:
        try:
            text = decode(read_regular(path, MAX_TEXT_BYTES))
        except (OSError, NotUTF8):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for phrase, (what, fix) in PLACEHOLDERS.items():
                if phrase in line:
                    found.append(
                        Problem(
                            f"{rel}/{shown(path.relative_to(folder).as_posix(), quote=False)}",
                            number,
                            f"{what} is still the example newsletter new wrote. "
                            f"{fix}; a real send refuses until then.",
                            "warning",
                        )
                    )
    return found


def _load_items(
    settings: Settings,
    folder: Path,
    window: Window | None,
    today: dt.date,
    problems: list[Problem],
) -> list[Item]:
    items: list[Item] = []
    links: dict[str, str] = {}
    paths, found_here = item_files(folder / "items", f"issues/{folder.name}/items")
    taken = {p.stem for p in paths}
    for path in paths:
        display = f"issues/{folder.name}/items/{path.name}"
        if not SAFE_NAME.fullmatch(path.name):
            found_here.append(_name_problem(folder, path, taken))
            continue
        item, found = load_item(path, display, settings.section_keys, window, today)
        found_here.extend(found)
        if item is None:
            continue
        if item.link in links:
            fix = f"same link as {links[item.link]}. Merge the two items or drop one."
            found_here.append(Problem(display, None, fix, "warning"))
        items.append(item)
        if item.link:
            links.setdefault(item.link, display)
    # In file-name order, as the folder lists them; a file's own problems keep their order.
    problems.extend(sorted(found_here, key=lambda p: p.path))
    return items


def _name_problem(folder: Path, path: Path, taken: set[str]) -> Problem:
    """The rename to make: a name outside the safe set, shown with its controls escaped."""
    better = free_name(slugify(path.stem), taken)
    taken.add(better)
    return Problem(
        f"issues/{folder.name}/items/{shown(path.name, 60, quote=False)}",
        None,
        f"the file name may have only letters, digits, '-', '_' and '.', and at most "
        f"{MAX_NAME} characters (it becomes a web address and a calendar UID). "
        f"Rename it to {better}.md.",
    )


def _assemble(
    settings: Settings, folder: Path, meta: Meta, intro_html: str, items: list[Item], today: dt.date
) -> Issue:
    """The Issue: sections in this issue's order, items in reading order, embargoes held."""
    order = [*meta.sections, *(k for k in settings.section_keys if k not in meta.sections)]
    titles = {s.key: s.title for s in settings.sections}
    shown = [i for i in items if not (i.embargo and i.embargo > today)]
    held = tuple(i for i in items if i.embargo and i.embargo > today)
    sections = []
    for key in order:
        chosen = [i for i in shown if i.section == key]
        # Weight first (lower comes first), then newest first; the slug keeps
        # ties in a stable order so two builds are byte-identical.
        chosen.sort(key=lambda i: i.slug)
        chosen.sort(key=lambda i: i.date or dt.date.min, reverse=True)
        chosen.sort(key=lambda i: i.weight)
        if chosen:
            sections.append(Section(key, titles[key], tuple(chosen)))
    return Issue(
        id=folder.name,
        folder=folder,
        number=meta.number,
        title=meta.title,
        date=meta.date,
        subject=meta.subject,
        preheader=meta.preheader,
        window_from=meta.window[0],
        window_to=meta.window[1],
        intro_html=intro_html,
        sections=tuple(sections),
        held=held,
        draft=meta.draft,
        section_order=tuple(order),
        greeting=settings.greeting if meta.greeting is None else meta.greeting,
    )


def _load_intro(path: Path, display: str, problems: list[Problem]) -> str:
    if not path.exists():
        problems.append(Problem(display, None, "missing. Write the editor's note in intro.md."))
        return ""
    try:
        source = decode(read_regular(path, MAX_TEXT_BYTES))
    except (NotRegular, TooLarge) as exc:
        problems.append(Problem(display, None, f"{exc.strerror}. Write the note in a text file."))
        return ""
    except OSError as exc:
        problems.append(Problem(display, None, f"cannot be read ({exc.strerror}). Check it."))
        return ""
    except NotUTF8 as exc:
        problems.append(Problem(display, exc.line, exc.reason))
        return ""
    if not source.strip():
        problems.append(Problem(display, 1, "the editor's note is empty. Write a few lines."))
        return ""
    note = markdown_bounded(source)
    if note.cut:
        problems.append(
            Problem(display, 1, f"the editor's note: {note.cut}. {SIMPLIFY}", "warning")
        )
    return note.html
