"""Published corrections: ``newsletter directory correct`` and the list of them.

A correction is about an earlier issue. The next issue (the first issue folder
whose ID sorts after it, ``issue.meta.next_issue``) carries it in a short
"Corrections" box, in the email and on its web page; the archive page of the
corrected issue shows it as a dated note. The text is the editor's, but it
lands in every recipient's email and on the open web, so it is held to one
line of plain text, at most ``MAX_CHARS`` characters; the templates escape it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newsletter import store
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.issue import issue_folder
from newsletter.issue.meta import next_issue
from newsletter.schema import Invalid, shown, text
from newsletter.store.corrections import Correction

MAX_CHARS = 500  # a short box, not an article


@dataclass(frozen=True)
class Recorded:
    """A correction, and the issue that carries it (None: no later issue folder yet)."""

    correction: Correction
    carried_by: str | None

    def as_json(self) -> dict[str, Any]:
        c = self.correction
        return {
            "id": c.id,
            "issue": c.issue,
            "text": c.text,
            "at": c.at,
            "actor": c.actor,
            "carried_by": self.carried_by,
        }

    def line(self) -> str:
        c = self.correction
        where = f"in {self.carried_by}" if self.carried_by else "in the next issue"
        return f"#{c.id} {c.issue}, {c.at[:10]}: {c.text} (shown {where})"


def correction_text(value: str) -> str:
    """The text as stored: one line, no control characters, at most MAX_CHARS."""
    if any(c in value for c in "\r\n\u2028\u2029\x85"):
        reason, fix = "is more than one line", "Write it on one line."
    else:
        try:
            found = text(max_chars=MAX_CHARS).parse(value)
        except Invalid as exc:
            reason, fix = exc.reason, exc.fix or "Shorten it."
        else:
            if found:
                return str(found)
            reason, fix = "is empty", "Say what the issue got wrong and what is right."
    raise NewsletterError(f"correction {shown(value)}: {reason}. {fix}")


def correct(db: store.Database, settings: Settings, issue_id: str, value: str) -> Recorded:
    """Record a correction of ``issue_id`` (an issue folder that exists)."""
    issue_folder(settings.root, issue_id)
    found = correction_text(value)
    at = store.now()
    actor = store.contacts.default_actor()
    added = store.corrections.add_correction(db, issue_id, found, actor, at)
    return Recorded(added, next_issue(settings.root, issue_id))


def corrections(db: store.Database, settings: Settings) -> list[Recorded]:
    """Every correction recorded, oldest first, with the issue that carries it."""
    return [
        Recorded(c, next_issue(settings.root, c.issue)) for c in store.corrections.corrections(db)
    ]
