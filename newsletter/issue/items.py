"""Read one contributor file: YAML front matter plus a Markdown summary.

Validation reports every problem with the line of the offending key, so a
contributor can fix a file in one pass. The same format serves ``items/`` and
the feed inbox, so accepted candidates go through exactly the same checks.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from newsletter.models import Item, Problem
from newsletter.sanitize import html_to_text, markdown_to_html, neutralise

try:  # libyaml is much faster when the wheel has it
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

FIELDS = (
    "title",
    "section",
    "link",
    "date",
    "source",
    "contributor",
    "image",
    "image_alt",
    "tags",
    "weight",
    "embargo",
    "starts",
    "ends",
    # Provenance written by `collect` into inbox files; kept when accepted.
    "collected_at",
    "feed",
    "guid",
    "sources",
    "undated",
)
SUMMARY_WORDS = 120
_FENCE = re.compile(r"^-{3,}[ \t]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (yaml, body, body_start_line), or None when there is no front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE.match(lines[0].rstrip("\r\n")):
        return None
    for n, line in enumerate(lines[1:], 1):
        if _FENCE.match(line.rstrip("\r\n")) or line.rstrip("\r\n") == "...":
            return "".join(lines[1:n]), "".join(lines[n + 1 :]), n + 2
    return None


def parse_date(value: Any) -> dt.date | None:
    """A YAML/TOML date or an ISO string; None when it is not a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
        except ValueError:
            return None
    return None


def parse_moment(value: Any) -> dt.date | None:
    """An event's start or end: a date (all day) or a date and time; None otherwise."""
    if isinstance(value, dt.date):  # YAML gives dates and datetimes already parsed
        return value
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "http://[bad/x"
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not any(c.isspace() for c in value)
        and not _CONTROL.search(value)
    )


def load_item(
    path: Path,
    display: str,
    sections: tuple[str, ...],
    window: tuple[dt.date, dt.date] | None = None,
    today: dt.date | None = None,
) -> tuple[Item | None, list[Problem]]:
    """Parse and validate one item file; the Item is None when there are errors."""
    problems: list[Problem] = []

    def problem(line: int | None, message: str, severity: str = "error") -> None:
        problems.append(Problem(display, line, message, severity))

    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem(None, f"cannot be read ({exc.strerror}). Check the file's permissions.")
        return None, problems
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problem(line, f"not UTF-8 (byte 0x{raw[exc.start]:02x}). Save the file as UTF-8.")
        return None, problems
    if not text.strip():
        problem(1, "the file is empty. Add front matter with a title and section, then a summary.")
        return None, problems
    split = split_front_matter(text)
    if split is None:
        first = text.lstrip().split("\n", 1)[0].strip()
        if _FENCE.match(first):
            problem(1, "front matter is not closed. Add a '---' line after the last field.")
        elif first.startswith(("+++", "{")):
            problem(1, "front matter must be YAML between '---' lines (TOML or JSON is not read).")
        else:
            problem(1, "no front matter. Start the file with a '---' line, the fields, then '---'.")
        return None, problems
    head, body, body_line = split
    try:
        node, data = _parse_yaml(head)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark else 1
        reason = getattr(exc, "problem", None) or "invalid YAML"
        problem(line, f"invalid YAML front matter ({reason}). Check quotes, colons and indents.")
        return None, problems
    if data is None:
        data, node = {}, None
    if not isinstance(data, dict):
        problem(2, "front matter must be 'field: value' lines. Write e.g. 'title: My item'.")
        return None, problems
    lines: dict[str, int] = {}
    if node is not None:
        for key_node, _ in node.value:
            key = str(key_node.value)
            if key in lines:
                problem(key_node.start_mark.line + 2, f"'{key}' appears twice. Keep one.")
            lines.setdefault(key, key_node.start_mark.line + 2)

    def at(key: str) -> int:
        return lines.get(key, 1)

    misspelt: set[str] = set()
    for key in data:
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            hint = f"Did you mean '{close[0]}'?" if close else f"Use one of: {', '.join(FIELDS)}."
            problem(at(str(key)), f"unknown field '{key}'. {hint}")
            misspelt.update(close)

    def text_field(key: str, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            # A misspelt key was already reported with its fix; "missing" would repeat it.
            if required and key not in misspelt:
                where = at(key) if key in data else 1
                problem(
                    where, f"'{key}' is missing or empty. Add '{key}: ...' to the front matter."
                )
            return None
        if isinstance(value, dict | list):
            problem(at(key), f"'{key}' must be text, not a list or mapping.")
            return None
        value = neutralise(" ".join(str(value).split()))
        if _CONTROL.search(value):
            problem(at(key), f"'{key}' contains control characters. Remove them.")
            return None
        return value

    title = text_field("title", required=True)
    section = text_field("section", required=True)
    if section is not None and section not in sections:
        problem(at("section"), f"unknown section '{section}'. Use one of: {', '.join(sections)}.")
    link = text_field("link")
    if link is not None and not is_web_url(link):
        problem(at("link"), f"link '{link}' is not an http(s) URL. Use https://...")
    image = text_field("image")
    image_alt = text_field("image_alt")
    if image is not None and not is_web_url(image):
        problem(at("image"), "image must be an http(s) URL of the picture. Use https://...")
    if image is not None and image_alt is None:
        problem(at("image"), "image has no image_alt. Describe the picture in 'image_alt: ...'.")
    dates: dict[str, dt.date | None] = {}
    for key in ("date", "embargo"):
        value = data.get(key)
        dates[key] = parse_date(value) if value not in (None, "") else None
        if value not in (None, "") and dates[key] is None:
            problem(at(key), f"{key} '{value}' is not a date. Write it as YYYY-MM-DD.")
    for key in ("starts", "ends"):
        value = data.get(key)
        dates[key] = parse_moment(value) if value not in (None, "") else None
        if value not in (None, "") and dates[key] is None:
            problem(at(key), f"{key} '{value}' is not a date. Use YYYY-MM-DD or YYYY-MM-DD HH:MM.")
    starts, ends = dates["starts"], dates["ends"]
    # Compare to the minute when both have a time, else by day (an all-day end is inclusive).
    cut = 16 if isinstance(starts, dt.datetime) and isinstance(ends, dt.datetime) else 10
    if ends and not starts:
        problem(at("ends"), "'ends' needs 'starts'. Add 'starts: YYYY-MM-DD' for the event.")
    elif ends and str(ends)[:cut] < str(starts)[:cut]:
        problem(at("ends"), "the event ends before it starts. Check 'starts' and 'ends'.")
    weight = data.get("weight", 0)
    if weight is None or isinstance(weight, bool) or not isinstance(weight, int):
        problem(at("weight"), f"weight '{weight}' must be a whole number, such as 10 or -5.")
        weight = 0
    tags = _tags(data.get("tags"), lambda m: problem(at("tags"), m))
    plain = {
        key: text_field(key) for key in ("source", "contributor", "collected_at", "feed", "guid")
    }

    summary_html = markdown_to_html(body) if body.strip() else ""
    if title is not None and not link:
        problem(1, "no link. Add 'link: https://...' so readers can find out more.", "warning")
    if window and dates["date"] and not window[0] <= dates["date"] <= window[1]:
        problem(
            at("date"),
            f"date {dates['date']} is outside the issue window {window[0]} to {window[1]}.",
            "warning",
        )
    words = len(html_to_text(summary_html).split())
    if words > SUMMARY_WORDS:
        problem(
            body_line, f"summary has {words} words. Trim it to {SUMMARY_WORDS} or fewer.", "warning"
        )
    if today and dates["embargo"] and dates["embargo"] > today:
        problem(
            at("embargo"), f"embargoed until {dates['embargo']}; held back until then.", "warning"
        )
    if any(p.severity == "error" for p in problems):
        # Warnings about a file that does not load yet are noise; fix errors first.
        return None, [p for p in problems if p.severity == "error"]
    extra = tuple((k, plain[k]) for k in ("collected_at", "feed", "guid") if plain[k])
    item = Item(
        slug=path.stem,
        title=title or "",
        section=section or "",
        summary_html=summary_html,
        path=display,
        link=link,
        date=dates["date"],
        source=plain["source"],
        contributor=plain["contributor"],
        image=image,
        image_alt=image_alt,
        tags=tags,
        weight=weight,
        embargo=dates["embargo"],
        starts=dates["starts"],
        ends=dates["ends"],
        extra=extra,
    )
    return item, problems


def _parse_yaml(text: str) -> tuple[Any, Any]:
    """Parse once, keeping the node tree (for each key's line) and the values."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _tags(value: Any, problem: Callable[[str], None]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        problem("tags must be a list of words, such as [procurement, training].")
        return ()
    return tuple(t for t in (" ".join(str(v).split()) for v in value) if t)
