"""newsletter.send.publication: which issue is open for contributions (``open_issue``); the
published rule itself is tested with the archive (tests/test_publish_publication.py)."""

from __future__ import annotations

import pytest
from helpers import make_issue

from newsletter.send.publication import open_issue
from newsletter.store import open_db, publications


def draft(root, issue_id: str) -> None:
    make_issue(root, issue_id)
    toml = root / "issues" / issue_id / "issue.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "draft = true\n", encoding="utf-8")


def sent(db, issue_id: str) -> None:
    with db.conn:
        db.execute(
            "INSERT INTO deliveries (issue, sender, contact_id, email, status, message_id,"
            " queued_at, updated_at, sent_at) VALUES (?, 'smtp', 1, 'a@b.example', 'sent',"
            " '<m@b>', '', '', '2026-12-15T10:00:00')",
            [issue_id],
        )


@pytest.mark.parametrize(
    ("drafts", "plain", "then", "expected"),
    [
        ((), (), None, None),  # no issue at all
        (("2026-Q4",), (), None, "2026-Q4"),
        (("2026-Q3", "2026-Q4"), (), None, "2026-Q4"),  # the newest
        ((), ("2026-Q4",), None, None),  # no draft = true: published, as it always was
        (("2026-Q4",), (), "published", None),  # the editor published it
        (("2026-Q4",), (), "sent", None),
        (("2026-Q4",), (), "sent, unpublished", None),  # it went out: closed
        (("2026-Q3",), ("2026-Q4",), None, None),  # an old draft behind a published issue
        (("2027-Q1",), ("2026-Q4",), None, "2027-Q1"),  # the next issue, made
    ],
)
def test_the_open_issue_is_the_newest_while_neither_published_nor_sent(
    project, drafts, plain, then, expected
):
    for issue_id in drafts:
        draft(project, issue_id)
    for issue_id in plain:
        make_issue(project, issue_id)
    db = open_db(project / "contacts.db")
    if then == "published":
        publications.decide(db, "2026-Q4", True, "newsletter publish")
    elif then:
        sent(db, "2026-Q4")
        if then == "sent, unpublished":
            publications.decide(db, "2026-Q4", False, "newsletter unpublish")
    found = open_issue(db, project)
    db.conn.close()
    assert (found.name if found else None) == expected
