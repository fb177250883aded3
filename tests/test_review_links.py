"""newsletter/review/links.py: where an issue's review stands (``standing``); ``ask`` is
tested through the command and the desk (test_review_web.py, test_desk_reviews.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import built, make_issue, require_approval

from newsletter.build import BuildReport
from newsletter.config import load_settings
from newsletter.review import standing
from newsletter.store import open_db, reviews

BOSS = "director@example.org"


@pytest.fixture
def db(project: Path):
    found = open_db(project / "contacts.db")
    yield found
    found.conn.close()


def test_no_build_no_digest_and_under_none_send_would_go(project: Path, db):
    folder = make_issue(project)
    found = standing(load_settings(project), db, folder)
    assert (found.entries, found.digest, found.refusal) == ([], "", "")


def test_under_required_an_approval_of_this_build_lets_send_go(project: Path, db):
    require_approval(project)
    folder = built(project)
    settings = load_settings(project)
    digest = BuildReport.read(folder).inputs
    reviews.record(db, "2026-Q4", BOSS, reviews.LINK, digest)
    found = standing(settings, db, folder)
    assert found.digest == digest
    assert found.refusal == (
        'issues/2026-Q4/build: not approved, and approval = "required". '
        f"{BOSS} must approve it first: newsletter review 2026-Q4 --to {BOSS}"
    )
    reviews.record(db, "2026-Q4", BOSS, reviews.APPROVAL, digest)
    found = standing(settings, db, folder)
    assert [r.kind for r in found.entries] == ["link", "approval"] and found.refusal == ""


def test_under_required_no_build_is_the_refusal(project: Path, db):
    require_approval(project)
    folder = make_issue(project)
    found = standing(load_settings(project), db, folder)
    assert found.refusal == (
        "issues/2026-Q4/build: no complete build to send. Run: newsletter build 2026-Q4"
    )


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (
            "a@example.org\r\nBcc: x@example.net",
            "--to 'a@example.org\\u000d\\u000aBcc: x@example.net': address contains a "
            "line break. Correct the address and run again.",
        ),
        (
            "a@example.org\nb@example.org",
            "--to 'a@example.org\\u000ab@example.org': address contains a line break. "
            "Correct the address and run again.",
        ),
    ],
)
def test_an_address_with_a_line_break_is_refused_before_any_link_is_made(
    project: Path, db, monkeypatch: pytest.MonkeyPatch, to: str, message: str
):
    from helpers import SECRET

    from newsletter.errors import BadUsage
    from newsletter.review import ask

    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    folder = built(project)
    with pytest.raises(BadUsage) as refused:
        ask(load_settings(project), db, folder, to)
    assert refused.value.message == message
    assert reviews.entries(db, "2026-Q4") == []
    assert not (project / "mailings").exists()
