"""Collect: read an issue folder into an ``Issue``, reporting every problem.

The folder is ``issues/<ID>/`` with ``issue.toml``, ``intro.md`` and the
contributors' drop folder ``items/``. Nothing here writes; ``check`` and
``build`` both start from ``load_issue``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from newsletter.config import Settings
from newsletter.issue.items import load_item, parse_date
from newsletter.models import Issue, Item, Problem, Section
from newsletter.sanitize import markdown_to_html

ISSUE_KEYS = ("number", "title", "date", "subject", "preheader", "window", "sections", "draft")
PREHEADER = (40, 130)
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")


def quarter_window(issue_id: str) -> tuple[dt.date, dt.date] | None:
    """The calendar quarter named by an ID such as ``2026-Q4``."""
    match = _QUARTER.match(issue_id)
    if not match:
        return None
    year, q = int(match[1]), int(match[2])
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return start, end - dt.timedelta(days=1)


def _key_line(text: str, key: str) -> int | None:
    match = re.search(rf"^[ \t]*\[?{re.escape(key)}\b", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def load_issue(
    settings: Settings, folder: Path, today: dt.date | None = None
) -> tuple[Issue | None, list[Problem]]:
    """Load and validate ``folder``; the Issue is None when any error was found."""
    today = today or dt.date.today()
    issue_id = folder.name
    rel = f"issues/{issue_id}"
    problems: list[Problem] = []
    meta = _load_toml(folder / "issue.toml", f"{rel}/issue.toml", settings, problems)
    window = meta.get("window") or quarter_window(issue_id)
    if window is None and meta:
        problems.append(
            Problem(
                f"{rel}/issue.toml",
                None,
                "no [window] and the ID is not YYYY-Qn. Add window = { from = ..., to = ... }.",
            )
        )
    intro_html = _load_intro(folder / "intro.md", f"{rel}/intro.md", problems)
    items: list[Item] = []
    links: dict[str, str] = {}
    item_dir = folder / "items"
    for path in sorted(item_dir.iterdir()) if item_dir.is_dir() else []:
        display = f"{rel}/items/{path.name}"
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.suffix != ".md":
            problems.append(
                Problem(
                    display,
                    None,
                    "ignored: items must be Markdown files ending in .md. Rename or move it.",
                    "warning",
                )
            )
            continue
        item, found = load_item(path, display, settings.section_keys, window, today)
        problems.extend(found)
        if item and item.link in links:
            problems.append(
                Problem(
                    display,
                    None,
                    f"same link as {links[item.link]}. Merge the two items or drop one.",
                    "warning",
                )
            )
        if item:
            items.append(item)
            if item.link:
                links.setdefault(item.link, display)
    if not items and not any(p.severity == "error" for p in problems):
        note = "no items yet. Add Markdown files to items/."
        problems.append(Problem(f"{rel}/items", None, note, "warning"))
    if any(p.severity == "error" for p in problems):
        return None, problems
    order = list(meta.get("sections") or ())
    order += [k for k in settings.section_keys if k not in order]
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
    issue = Issue(
        id=issue_id,
        folder=folder,
        number=meta["number"],
        title=meta["title"],
        date=meta["date"],
        subject=meta["subject"],
        preheader=meta["preheader"],
        window_from=window[0],
        window_to=window[1],
        intro_html=intro_html,
        sections=tuple(sections),
        held=held,
        draft=meta.get("draft", False),
        section_order=tuple(order),
    )
    return issue, problems


def _load_intro(path: Path, display: str, problems: list[Problem]) -> str:
    if not path.is_file():
        problems.append(Problem(display, None, "missing. Write the editor's note in intro.md."))
        return ""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(display, None, f"cannot be read ({exc.strerror}). Check it."))
        return ""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(display, line, "not UTF-8. Save the file as UTF-8."))
        return ""
    if not text.strip():
        problems.append(Problem(display, 1, "the editor's note is empty. Write a few lines."))
        return ""
    return markdown_to_html(text)


def _load_toml(
    path: Path, display: str, settings: Settings, problems: list[Problem]
) -> dict[str, Any]:
    def problem(line: int | None, message: str) -> None:
        problems.append(Problem(display, line, message))

    if not path.is_file():
        problem(
            None, "missing. Create it with: newsletter new ID (or copy one from another issue)."
        )
        return {}
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem(None, f"cannot be read ({exc.strerror}). Check the file's permissions.")
        return {}
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        problem(raw[: exc.start].count(b"\n") + 1, "not UTF-8. Save the file as UTF-8.")
        return {}
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        reason = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        line = int(match[1]) if match else text.count("\n") + 1  # "at end of document"
        problem(line, f"invalid TOML ({reason}). Fix the syntax.")
        return {}
    meta: dict[str, Any] = {}
    for key in data:
        if key not in ISSUE_KEYS:
            problem(
                _key_line(text, key), f"unknown key '{key}'. Use one of: {', '.join(ISSUE_KEYS)}."
            )
    number = data.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        problem(_key_line(text, "number"), "'number' must be a positive whole number, e.g. 12.")
    for key in ("title", "subject", "preheader"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            problem(_key_line(text, key), f"'{key}' is missing or empty. Add {key} = \"...\".")
        elif any(c in value for c in "\r\n\x00"):
            problem(_key_line(text, key), f"'{key}' must be one line. Remove the line breaks.")
        else:
            meta[key] = " ".join(value.split())
    if "preheader" in meta and not PREHEADER[0] <= len(meta["preheader"]) <= PREHEADER[1]:
        problem(
            _key_line(text, "preheader"),
            f"preheader has {len(meta['preheader'])} characters; "
            f"make it {PREHEADER[0]} to {PREHEADER[1]} so inboxes show it whole.",
        )
    date = parse_date(data.get("date"))
    if date is None:
        problem(_key_line(text, "date"), "'date' must be the publication date, YYYY-MM-DD.")
    window = data.get("window")
    if window is not None:
        start = parse_date(window.get("from")) if isinstance(window, dict) else None
        end = parse_date(window.get("to")) if isinstance(window, dict) else None
        if start is None or end is None or start > end:
            problem(
                _key_line(text, "window"),
                "'window' must be { from = YYYY-MM-DD, to = YYYY-MM-DD }, from before to.",
            )
        else:
            meta["window"] = (start, end)
    order = data.get("sections")
    if order is not None:
        if not isinstance(order, list) or not all(k in settings.section_keys for k in order):
            problem(
                _key_line(text, "sections"),
                f"'sections' must list section keys from: {', '.join(settings.section_keys)}.",
            )
        else:
            meta["sections"] = order
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        problem(_key_line(text, "draft"), "'draft' must be true or false.")
    if isinstance(number, int) and date is not None:
        meta.update(number=number, date=date, draft=bool(draft))
    return meta if len({"number", "title", "subject", "preheader", "date"} & set(meta)) == 5 else {}
