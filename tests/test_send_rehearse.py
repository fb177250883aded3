"""newsletter.send.rehearse: dry runs and test sends, which leave no trace in the ledger."""

from __future__ import annotations

import sqlite3

from helpers import cli, ledger_rows, outbox, parse, smtp_args

from newsletter.send.preflight import DEV_SECRET
from newsletter.store import open_db
from newsletter.tokens import make_return_token


def test_dry_run_writes_nothing_and_shows_a_sample(outbox_ready):
    result = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "5 to send (new snapshot of subscribed contacts)" in result.output
    assert (
        "Dry run: nothing written or sent. Sample message to person0@example.org" in result.output
    )
    assert "Envelope sender (MAIL FROM, where bounces go): focalpoint@example.org\n\n" in (
        result.output
    )
    assert "To: Person 0 <person0@example.org>" in result.output
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in result.output
    assert ledger_rows(outbox_ready) == [] and not outbox(outbox_ready)


def test_a_dry_run_shows_the_signed_envelope_sender_of_its_sample(outbox_ready):
    settings = outbox_ready / "pyproject.toml"
    settings.write_text(
        settings.read_text()
        + '\n[tool.newsletter.send]\nreturn_path = "bounces+{token}@example.org"\n'
    )
    result = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Envelope sender"))
    token = make_return_token(DEV_SECRET, 1, "2026-Q4")  # person0 is contact 1
    assert line == f"Envelope sender (MAIL FROM, where bounces go): bounces+{token}@example.org"


def test_a_dry_run_neither_migrates_nor_creates_the_database(outbox_ready, project):
    db = open_db(outbox_ready / "contacts.db")  # as if made by an older version: m002 pending
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_deliveries_indexes'")
    db.execute("CREATE INDEX idx_deliveries_todo ON deliveries(issue, sender, status, id)")
    db.conn.close()
    path = outbox_ready / "contacts.db"
    raw = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    before = list(raw.iterdump())
    result = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0 and "5 to send" in result.output, result.output
    assert list(raw.iterdump()) == before
    path.unlink()
    result = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0 and "0 to send" in result.output, result.output
    assert "Sample message to colleague@example.org" in result.output
    assert not path.exists()


def test_test_sends_are_not_recorded(smtp_ready, smtp):
    result = cli(
        smtp_ready,
        "send",
        "2026-Q4",
        *smtp_args(smtp.port),
        "--to",
        "editor@example.org",
        "--to",
        "Chief@Example.org",
    )
    assert result.exit_code == 0, result.output
    assert "Test to editor@example.org: sent (250 2.0.0 Ok: queued)" in result.output
    assert sorted(smtp.per_recipient()) == ["Chief@Example.org", "editor@example.org"]
    assert parse(smtp.messages[0].data)["Subject"].startswith("[TEST] The UN-Business")
    assert ledger_rows(smtp_ready) == []
