"""``newsletter new``: a fresh issue folder that passes ``check`` as it stands.

Its example texts are placeholders, listed once in ``PLACEHOLDERS``: ``check``
warns on each one left, and a real send refuses while any remains. The issue
is written as a draft (``draft = true``), so ``archive`` leaves it off the
public site until its send completes or the editor publishes it.
"""

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

# The scaffold's example texts, each on one line of the file it is written to.
PREHEADER = "News, tools and events for the private-sector focal points of the UN system."
NOTE = "Replace this note with the editor's message."
TITLE = "Replace this example with a real item"
SUMMARY = "Write two or three sentences of summary in Markdown."
# The one list of placeholder phrases: `check` warns on each, a real send refuses
# while one remains. Each with what it is, and what to do.
PLACEHOLDERS = {
    PREHEADER: ("the preheader", "Write this issue's own"),
    NOTE: ("the editor's note", "Write your own"),
    TITLE: ("the item's title", "Write a real item, or delete this file"),
    SUMMARY: ("the item's summary", "Write a real item, or delete this file"),
}

ISSUE_TOML = """\
# Issue settings. Dates are YYYY-MM-DD.
number = {number}
title = {title}
date = {date}
subject = {subject}
# Shown after the subject in most inboxes: 40 to 130 characters.
preheader = "{preheader}"
{window}# Optional: the order of sections for this issue, by key.
# sections = [{keys}]
# A draft stays off the public site until its send completes, or until:
# newsletter publish {issue_id}
draft = true
"""

# No greeting: the template greets each reader by name.
INTRO = """\
Welcome to this issue of *{name}*.
{note}
"""

EXAMPLE_ITEM = """\
---
title: {title}
section: {section}
link: https://example.org/
date: {date}
source: UN Global Compact Office
contributor: Your name
---
{summary}
Delete this file when the issue has real items.
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
            preheader=PREHEADER,
            issue_id=folder.name,
        ),
        "intro.md": INTRO.format(name=settings.name, note=NOTE),
        # 0001-Q1 starts on the one day before the first date an item may have.
        "items/example.md": EXAMPLE_ITEM.format(
            title=TITLE,
            section=settings.section_keys[0],
            date=max(window[0], FIRST_DAY),
            summary=SUMMARY,
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
