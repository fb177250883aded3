"""The contribution form of ``/submit/<token>``: what it sent, checked as an item file,
into the open issue's inbox once.

A form is read as the desk's item editor reads one (``issue.edit.item_text``:
the file a contributor would write) and checked by the reader ``check`` uses
(``issue.items.read_item_text``), so the form has no rule of its own beyond
the size of each box: every error is the item reader's, named by its field.
The summary, plain text or Markdown, goes through the house sanitiser and is
written back as Markdown (``feeds.markdown.to_markdown``), as an email's
body is. A form that passes becomes a candidate in the inbox
(``issue.write_candidates``), remembered in ``store.intake`` (route ``form``)
in the same transaction, under a key made of the contact and the page's
one-time key: the same form sent twice is one candidate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from newsletter.config import Settings
from newsletter.feeds.markdown import to_markdown
from newsletter.intake.run import NO_ORGANISATION
from newsletter.issue.edit import LABELS, item_text
from newsletter.issue.inbox import Candidate, slugify, write_candidates
from newsletter.issue.items import read_front, read_item_text
from newsletter.issue.meta import read_meta
from newsletter.models import Contact
from newsletter.sanitize import markdown_bounded, one_line
from newsletter.store.base import Database, writing
from newsletter.store.intake import Taken, record_taken, taken

# The boxes of the form, in the item schema's order, and the most each may hold: an item
# is a title, a few fields and a short summary; more is a paste gone wrong.
SIZES = {
    "title": 200,
    "section": 100,
    "link": 2000,
    "image": 2000,
    "image_alt": 300,
    "date": 40,
    "starts": 40,
    "ends": 40,
    "timezone": 60,
    "location": 200,
}
EVENT = ("starts", "ends", "timezone", "location")  # the fieldset "For an event"
SUMMARY = "summary"
# Characters of the summary. The house's guide is items.SUMMARY_WORDS (120) words, a
# warning for the editor; the form counts characters, which a reader can watch go down.
SUMMARY_CHARS = 1500
# The page's one-time key: random per page view (``secrets.token_hex(16)``).
ONCE = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Sent:
    """What a form sent (each box as typed), the errors by field ("" for the form as
    a whole), and the candidate it makes when there is none."""

    values: dict[str, str]
    errors: dict[str, str]
    candidate: Candidate | None


def labels() -> dict[str, str]:
    """What the form calls each box: the desk editor's labels, one list."""
    return {**{name: LABELS[name] for name in SIZES}, SUMMARY: "Summary"}


def form_key(contact_id: int, once: str) -> str:
    """The record key of one form: no address or name in it, nothing to purge."""
    return "form:" + hashlib.sha256(f"{contact_id}:{once}".encode()).hexdigest()[:40]


def read_form(settings: Settings, folder: Path, form: Mapping[str, str], contact: Contact) -> Sent:
    """The form's boxes checked as the item file they make; errors beside each field."""
    names = (*SIZES, SUMMARY)
    values = {name: str(form.get(name, "")) for name in names}
    errors: dict[str, str] = {}
    for name in names:
        most = SUMMARY_CHARS if name == SUMMARY else SIZES[name]
        if len(values[name]) > most:
            errors[name] = (
                f"{labels()[name]} has {len(values[name]):,} characters; "
                f"shorten it to {most:,} or fewer."
            )
    if errors:
        return Sent(values, errors, None)
    sections = settings.section_keys
    summary = values[SUMMARY]
    markdown = to_markdown(markdown_bounded(summary).html) if summary.strip() else ""
    # As the directory stores it (one line already), as email-in records it: the
    # tracker and the reminder match on it, so it is not cut or stripped of a ZWNJ.
    organisation = contact.organisation
    # Fields the desk's editor shows and this form fills itself: who sent it.
    who: dict[str, str] = {
        "source": one_line(organisation, 100) or NO_ORGANISATION,
        "contributor": one_line(contact.name, 100) or contact.email,
    }
    if organisation:
        who["organisation"] = organisation
    boxes = {name: values[name] for name in SIZES} | who
    text = item_text(sections, boxes, markdown, {})
    stem = slugify(values["title"])
    display = f"issues/{folder.name}/inbox/{stem}.md"
    window = read_meta(folder, sections).window
    item, problems = read_item_text(text, stem, display, sections, window)
    front = read_front(text)
    if item is None or front is None:
        for p in problems:
            if p.severity == "error":
                errors.setdefault(p.key if p.key in names else "", p.message)
        return Sent(values, errors or {"": "The form could not be read."}, None)
    data, body = front
    date = data.get("date")
    candidate = Candidate(
        title=str(data["title"]),
        section=str(data["section"]),
        link=data.get("link"),
        date=date if isinstance(date, dt.date) else None,
        source=who["source"],
        feed="",
        guid=None,
        summary=body.strip("\n"),
        undated=date is None,
        contributor=who["contributor"],
        organisation=organisation,
        details=tuple((k, data[k]) for k in ("image", "image_alt", *EVENT) if k in data),
    )
    return Sent(values, {}, candidate)


def take_form(
    db: Database, folder: Path, contact_id: int, once: str, candidate: Candidate
) -> tuple[Taken, bool]:
    """The candidate into ``folder``'s inbox and its record, in one transaction; a form
    taken in before (the same page's key) is not taken again: (its record, False)."""
    key = form_key(contact_id, once)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    with writing(db):  # the write lock, held from this read on: two POSTs at once make one
        found = taken(db, key)
        if found is not None:
            return found, False
        [name] = write_candidates(folder, [candidate], now)
        record = Taken(key, folder.name, name, candidate.organisation, "form")
        record_taken(db, [record], now)
    return record, True


@dataclass(frozen=True)
class Receipt:
    """What a receipt shows of a contribution taken in: the issue and what was sent."""

    issue: str
    title: str
    section: str  # the section's title
    fields: tuple[tuple[str, str], ...]  # (label, value) of the other boxes filled
    summary: str
    where: str  # "inbox" (waiting), "items" (accepted) or "" (no longer either)


def receipt(settings: Settings, root: Path, record: Taken) -> Receipt:
    """The contribution ``record`` names, read back from its file for the receipt."""
    folder = root / "issues" / record.issue
    for where in ("inbox", "items"):
        path = folder / where / record.name
        try:
            front = read_front(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            front = None
        if front is None:
            continue
        data, body = front
        titles = {s.key: s.title for s in settings.sections}
        others = [k for k in SIZES if k not in ("title", "section") and k in data]
        shown = tuple((labels()[k], str(data[k])) for k in others)
        section = str(data.get("section", ""))
        return Receipt(
            record.issue,
            str(data.get("title", "")),
            titles.get(section, section),
            shown,
            body.strip(),
            where,
        )
    return Receipt(record.issue, "", "", (), "", "")
