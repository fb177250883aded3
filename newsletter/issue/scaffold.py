"""``newsletter new``: a fresh issue folder that passes ``check`` as it stands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.files import cannot_write, check_folder, new_folder
from newsletter.issue.meta import QUARTER, next_number, quarter_window
from newsletter.schema import FIRST_DAY

ORDINALS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth"}

ISSUE_TOML = """\
# Issue settings. Dates are YYYY-MM-DD.
number = {number}
title = {title}
date = {date}
subject = {subject}
# Shown after the subject in most inboxes: 40 to 130 characters.
preheader = "News, tools and events for the private-sector focal points of the UN system."
{window}# Optional: the order of sections for this issue, by key.
# sections = [{keys}]
"""

INTRO = """\
Dear colleagues,

Welcome to this issue of *{name}*. Replace this note with the editor's message.
"""

EXAMPLE_ITEM = """\
---
title: Replace this example with a real item
section: {section}
link: https://example.org/
date: {date}
source: UN Global Compact Office
contributor: Your name
---
Write two or three sentences of summary in Markdown. Delete this file when the
issue has real items.
"""


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and controls escaped.

    JSON's string escapes are TOML's, but for DEL, which TOML wants escaped too.
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def new_issue(settings: Settings, folder: Path, today: dt.date | None = None) -> Path:
    """Create ``folder`` with issue.toml, intro.md and an example item; never overwrite."""
    if folder.exists():
        raise NewsletterError(
            f"issues/{folder.name}: already exists. Choose another ID or edit it."
        )
    check_folder(folder.parent, "Move it away; new makes each issue's folder in it.", "issues")
    window = quarter_window(folder.name)
    if window is None and QUARTER.match(folder.name):
        raise NewsletterError(
            f"{folder.name}: year {folder.name[:4]} is not a calendar year. "
            f"Use a year from 0001 to 9999, such as newsletter new 2026-Q4."
        )
    today = today or dt.date.today()
    if window:
        end = window[1]
        date, title = end.replace(day=15), f"{ORDINALS[(end.month) // 3]} quarter {end.year}"
        window_text = ""
    else:
        date, title, window = today, folder.name, (today, today + dt.timedelta(days=90))
        window_text = f"window = {{ from = {window[0]}, to = {window[1]} }}\n"
    files = {
        "issue.toml": ISSUE_TOML.format(
            number=next_number(settings.root),
            title=toml_string(title),
            date=date,
            subject=toml_string(f"{settings.name}: {title}"),
            window=window_text,
            keys=", ".join(toml_string(k) for k in settings.section_keys),
        ),
        "intro.md": INTRO.format(name=settings.name),
        # 0001-Q1 starts on the one day before the first date an item may have.
        "items/example.md": EXAMPLE_ITEM.format(
            section=settings.section_keys[0], date=max(window[0], FIRST_DAY)
        ),
    }
    try:
        with new_folder(folder) as staging:  # an interrupted `new` leaves nothing behind
            for name, text in files.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_text(text, encoding="utf-8")
    except FileExistsError:
        raise NewsletterError(
            f"issues/{folder.name}: already exists. Choose another ID or edit it."
        ) from None
    except OSError as exc:  # a full disk: new_folder has removed what it staged
        raise cannot_write(f"issues/{folder.name}", exc) from None
    return folder
