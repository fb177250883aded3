"""newsletter.send.sending: deliver, the one real-send sequence of the command and the
desk, and progress_of, how far a send has gone as the ledger and the lock show it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import add_contacts, built, ledger_rows, outbox

from newsletter.config import load_settings
from newsletter.errors import NewsletterError
from newsletter.send import Delivery, Plan, Progress, deliver, hold, prepare, progress_of
from newsletter.store import open_db


def prepared(root: Path):
    return prepare(load_settings(root), root / "issues" / "2026-Q4")


def test_deliver_asks_with_the_plan_then_sends_each_recipient_once(outbox_ready: Path):
    db = open_db(outbox_ready / "contacts.db")
    asked: list[tuple[int, Plan]] = []
    steps: list[int] = []

    def confirm(recovered: int, found: Plan) -> bool:
        asked.append((recovered, found))
        return True

    done = deliver(
        load_settings(outbox_ready),
        db,
        prepared(outbox_ready),
        confirm=confirm,
        progress=lambda step, total: steps.append(step),
    )
    assert asked == [(0, Plan("outbox", 5, True))]
    assert done.tally is not None and (done.tally.sent, done.tally.failed) == (5, 0)
    assert (done.recovered, done.publication, done.confirmed) == (0, "", True)
    assert sum(steps) == 5 and len(outbox(outbox_ready)) == 5


def test_deliver_sends_nothing_when_the_caller_does_not_confirm(outbox_ready: Path):
    db = open_db(outbox_ready / "contacts.db")
    done = deliver(
        load_settings(outbox_ready), db, prepared(outbox_ready), confirm=lambda r, p: False
    )
    assert done == Delivery(Plan("outbox", 5, True), 0, None, "", confirmed=False)
    assert ledger_rows(outbox_ready) == [] and outbox(outbox_ready) == []


def test_deliver_again_finds_nothing_to_send(outbox_ready: Path):
    db = open_db(outbox_ready / "contacts.db")
    settings, prep = load_settings(outbox_ready), prepared(outbox_ready)
    deliver(settings, db, prep)
    again = deliver(settings, db, prep)
    assert again == Delivery(Plan("outbox", 0, False, sent=5), 0, None, "")


def test_deliver_refuses_a_list_with_no_subscribed_contact(project: Path):
    built(project)
    db = open_db(project / "contacts.db")
    with pytest.raises(NewsletterError) as refused:
        deliver(load_settings(project), db, prepared(project))
    assert refused.value.message == (
        f"{project / 'contacts.db'}: no subscribed contacts. Add or import contacts, then run "
        "again."
    )


def test_deliver_refuses_an_unapproved_build_before_taking_the_lock(project: Path):
    built(project, settings="")
    add_contacts(project, 2)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("[tool.newsletter]\n", '[tool.newsletter]\napproval = "required"\n', 1),
        encoding="utf-8",
    )
    db = open_db(project / "contacts.db")
    with pytest.raises(NewsletterError, match="not approved"):
        deliver(load_settings(project), db, prepared(project))
    assert ledger_rows(project) == []


def test_progress_of_counts_the_ledger_and_sees_a_live_run(outbox_ready: Path):
    db = open_db(outbox_ready / "contacts.db")
    assert progress_of(db, "2026-Q4", "outbox") == Progress("outbox")
    prep = prepared(outbox_ready)
    with hold(db, prep):
        assert progress_of(db, "2026-Q4", "outbox").running
    deliver(load_settings(outbox_ready), db, prep)
    found = progress_of(db, "2026-Q4", "outbox")
    assert found == Progress("outbox", sent=5)
    assert (found.total, found.done) == (5, 5)
