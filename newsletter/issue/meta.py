"""issue.toml, read once by one function for every command: ``read_meta``.

``check``, ``build``, ``collect``, ``send``, ``new`` (the next number) and the
directory (the previous issue's date) all ask here, so a mistake in issue.toml
gets the same line whichever command meets it. The collection window has one
rule, ``window`` in issue.toml or else the quarter the ID names, and one
message when neither gives one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from newsletter.errors import NewsletterError
from newsletter.files import MAX_TEXT_BYTES, NotRegular, NotUTF8, TooLarge, decode, read_regular
from newsletter.models import Problem
from newsletter.schema import (
    Checked,
    Field,
    Invalid,
    Kind,
    Schema,
    UnreadableToml,
    boolean,
    date,
    greeting,
    header_text,
    line,
    read_toml,
    shown,
    toml_lines,
    whole,
)

NAME = "issue.toml"
PREHEADER = (40, 130)
QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
WINDOW_EXAMPLE = "window = { from = 2026-10-01, to = 2026-12-31 }"

Window = tuple[dt.date, dt.date]


def quarter_window(issue_id: str) -> Window | None:
    """The calendar quarter named by an ID such as ``2026-Q4``."""
    match = QUARTER.match(issue_id)
    if not match:
        return None
    year, q = int(match[1]), int(match[2])
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None  # year 0: `new` says so; `check` asks for a window
    start = dt.date(year, 3 * q - 2, 1)
    # The quarter's last day, without stepping into the next year (there is no 10000).
    end = dt.date(year, 12, 31) if q == 4 else dt.date(year, 3 * q + 1, 1) - dt.timedelta(days=1)
    return start, end


def _window() -> Kind:
    """{ from = DATE, to = DATE }, from not after to."""
    day = date()

    def parse(value: Any) -> Window:
        if not isinstance(value, dict) or set(value) != {"from", "to"}:
            raise Invalid("")
        try:
            start, end = day.parse(value["from"]), day.parse(value["to"])
        except Invalid:
            raise Invalid("") from None
        if start > end:
            raise Invalid("ends before it starts", "Put 'from' before 'to'.")
        return start, end

    return Kind(parse, "{ from = YYYY-MM-DD, to = YYYY-MM-DD }", f"Write it as {WINDOW_EXAMPLE}.")


def _order(sections: tuple[str, ...]) -> Kind:
    listed = ", ".join(sections)

    def parse(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(k in sections for k in value):
            raise Invalid("")
        twice = next((k for n, k in enumerate(value) if k in value[:n]), None)
        if twice is not None:  # a slip that once printed that section's items twice
            raise Invalid(f"lists {shown(twice)} twice", "List each section key once.")
        return tuple(value)

    return Kind(parse, "a list of section keys", f"List section keys from: {listed}.")


@lru_cache(maxsize=8)
def issue_schema(sections: tuple[str, ...]) -> Schema:
    quoted = {"title", "subject", "preheader", "greeting"}
    return Schema(
        fields=(
            Field("number", whole(1, example="12"), required=True),
            Field("title", line(), required=True),
            Field(
                "date", date(), required=True, fix="Add date = YYYY-MM-DD, the publication date."
            ),
            Field("subject", header_text(line()), required=True),  # the Subject header
            Field("preheader", line(), required=True),
            Field("window", _window(), empty_is_missing=False),
            Field("sections", _order(sections), default=()),
            Field("draft", boolean(), default=False),
            # Over the house greeting; "" for none.
            Field("greeting", greeting(), empty_is_missing=False),
        ),
        assign=lambda key: f'{key} = "..."' if key in quoted else f"{key} = ...",
    )


@dataclass(frozen=True)
class Meta:
    """The validated issue.toml of one issue."""

    number: int
    title: str
    date: dt.date
    subject: str
    preheader: str
    window: Window
    sections: tuple[str, ...] = ()  # this issue's section order, if it sets one
    draft: bool = False
    greeting: str | None = None  # None: the house settings' greeting


@dataclass(frozen=True)
class MetaResult:
    """What ``read_meta`` found: ``meta`` is None when any error was found.

    ``window`` and ``number``/``date`` are kept when they alone are sound, so
    ``collect`` can work on an issue whose subject is still missing.
    """

    meta: Meta | None
    problems: tuple[Problem, ...]
    window: Window | None
    number: int | None = None
    date: dt.date | None = None
    draft: bool | None = None  # kept when sound: the archive leaves a broken draft out as a draft

    @property
    def window_problem(self) -> Problem | None:
        """The first error that leaves the issue without a window."""
        if self.window is not None:
            return None
        return next((p for p in self.problems if p.severity == "error"), None)


def read_meta(folder: Path, sections: tuple[str, ...]) -> MetaResult:
    """Read and validate ``folder/issue.toml``; every problem is reported, with its line."""
    display = f"issues/{folder.name}/{NAME}"
    problems: list[Problem] = []

    def problem(line: int | None, message: str) -> None:
        problems.append(Problem(display, line, message))

    loaded = _load(folder / NAME, display, problem)
    if loaded is None:
        # A quarter's ID still names its window: `collect` can start before issue.toml.
        missing = not (folder / NAME).exists()
        return MetaResult(None, tuple(problems), quarter_window(folder.name) if missing else None)
    data, lines = loaded
    checked: Checked = issue_schema(sections).check(data, lines)
    for error in checked.errors:
        problem(error.line, error.message)
    v = checked.values
    window = v.get("window") or (None if "window" in data else quarter_window(folder.name))
    if window is None and "window" not in data:
        fix = f"Add {WINDOW_EXAMPLE} to issue.toml."
        problem(None, f"no window, and the ID is not a quarter such as 2026-Q4. {fix}")
    preheader = v.get("preheader")
    if preheader and not PREHEADER[0] <= len(preheader) <= PREHEADER[1]:
        problem(
            lines.get("preheader"),
            f"preheader has {len(preheader)} characters; "
            f"make it {PREHEADER[0]} to {PREHEADER[1]} so inboxes show it whole.",
        )
    meta = None
    if not problems:
        assert window is not None
        meta = Meta(
            number=v["number"],
            title=v["title"],
            date=v["date"],
            subject=v["subject"],
            preheader=v["preheader"],
            window=window,
            sections=v["sections"],
            draft=v["draft"],
            greeting=v["greeting"],
        )
    return MetaResult(meta, tuple(problems), window, v.get("number"), v.get("date"), v.get("draft"))


def _load(
    path: Path, display: str, problem: Callable[[int | None, str], None]
) -> tuple[dict[str, Any], dict[str, int]] | None:
    if not path.exists():
        problem(
            None, "missing. Create it with: newsletter new ID (or copy one from another issue)."
        )
        return None
    try:
        raw = read_regular(path, MAX_TEXT_BYTES)
    except (NotRegular, TooLarge) as exc:
        problem(None, f"{exc.strerror}. Replace it with issue.toml as newsletter new writes it.")
        return None
    except OSError as exc:
        problem(None, f"cannot be read ({exc.strerror}). Check the file's permissions.")
        return None
    try:
        source = decode(raw)
        return read_toml(source), toml_lines(source)
    except NotUTF8 as exc:
        problem(exc.line, exc.reason)
    except UnreadableToml as exc:
        problem(exc.line, exc.message)
    return None


def issue_window(folder: Path, sections: tuple[str, ...]) -> Window:
    """The window an issue collects from; NewsletterError naming issue.toml when it has none."""
    result = read_meta(folder, sections)
    if result.window is None:
        found = result.window_problem
        raise NewsletterError(f"{found}" if found else f"issues/{folder.name}: no window.")
    return result.window


def previous_issue_date(root: Path, issue_id: str, before: dt.date) -> dt.date | None:
    """The latest publication date among the other issues that is before ``before``."""
    found = previous_issue(root, issue_id, before)
    return found[1] if found else None


def previous_issue(root: Path, issue_id: str, before: dt.date) -> tuple[str, dt.date] | None:
    """(ID, date) of the other issue with the latest date before ``before``."""
    best: tuple[str, dt.date] | None = None
    for folder in sorted((root / "issues").glob("*/")):
        if folder.name == issue_id or not (folder / NAME).is_file():
            continue
        found = read_meta(folder, ()).date  # `check` reports a broken issue; it is skipped
        if found and found < before and (best is None or found > best[1]):
            best = (folder.name, found)
    return best


def next_issue(root: Path, issue_id: str) -> str | None:
    """The first issue folder whose ID sorts after ``issue_id``: the one that carries
    its corrections. None when there is none yet."""
    later = [
        folder.name
        for folder in (root / "issues").glob("*/")
        if folder.name > issue_id and (folder / NAME).is_file()
    ]
    return min(later, default=None)


def next_number(root: Path) -> int:
    """One more than the highest issue number so far (1 for the first issue)."""
    numbers = [0]
    for folder in (root / "issues").glob("*/"):
        if (folder / NAME).is_file():
            number = read_meta(folder, ()).number
            numbers.append(number or 0)
    return max(numbers) + 1
