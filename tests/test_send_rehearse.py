"""newsletter.send.rehearse: dry runs and test sends, which leave no trace in the ledger."""

from __future__ import annotations

import re
import sqlite3
import time

from helpers import add_contacts, cli, ledger_rows, make_issue, outbox, parse, smtp_args

from newsletter import tokens
from newsletter.send.preflight import DEV_SECRET
from newsletter.store import open_db
from newsletter.tokens import (
    ENTRY,
    MEMBERS,
    make_return_token,
    make_token,
    read_link_token,
)


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


def test_a_dry_run_shows_the_sample_reader_s_personal_links_decoded(outbox_ready):
    result = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0, result.output
    for page, purpose in (("entry", ENTRY), ("members", MEMBERS)):
        found = re.search(rf"https://\S+/{page}/(\S+)", result.output)
        assert found is not None, page
        link = read_link_token(DEV_SECRET, purpose, found[1], time.time())
        # Signed for contact 0, who exists nowhere: the output opens no one's pages.
        assert link is not None and link.contact_id == 0


def test_a_dry_run_shows_the_signed_envelope_sender_of_its_sample(outbox_ready):
    settings = outbox_ready / "pyproject.toml"
    settings.write_text(
        settings.read_text()
        + '\n[tool.newsletter.send]\nreturn_path = "bounces+{token}@example.org"\n'
    )
    result = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Envelope sender"))
    token = make_return_token(DEV_SECRET, 0, "2026-Q4")  # contact 0: the sample's shape only
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


def test_a_dry_run_shows_its_sample_decoded_not_quoted_printable(project):
    folder = make_issue(project)
    toml = folder / "issue.toml"
    toml.write_text(toml.read_text().replace(": test issue", " : numéro d’été"))
    assert cli(project, "build", "2026-Q4").exit_code == 0
    add_contacts(project, [{"email": "amina@example.org", "name": "Amina Okafor-Müller"}])
    result = cli(project, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0, result.output
    # What changes on every run: the date, the Message-ID, the boundary.
    shown = re.sub(r"Date: .*", "Date: DATE", result.output)
    shown = re.sub(r"<2026-Q4\.[0-9a-f]{16}@example\.org>", "<MESSAGE-ID>", shown)
    shown = re.sub(r'boundary="[^"]+"', 'boundary="B"', shown)
    token = make_token(DEV_SECRET, 0, "2026-Q4")  # the sample is signed for contact 0
    assert ledger_rows(project) == [] and not outbox(project)
    # The sizes, from the message a real send writes (its varying parts are fixed-width).
    assert cli(project, "send", "2026-Q4", "--yes").exit_code == 0
    (eml,) = outbox(project)
    data = eml.read_bytes()
    text, html = (p.get_payload(decode=True) for p in parse(data).walk() if not p.is_multipart())
    assert shown.split("EDITOR'S NOTE")[0] == (
        "Note: NEWSLETTER_SECRET is not set; the outbox uses the development secret, so its"
        " unsubscribe links only work for rehearsals.\n"
        'issues/2026-Q4 "The UN-Business Focal Point : numéro d’été" via outbox: 1 to send'
        " (new snapshot of subscribed contacts).\n"
        "Dry run: nothing written or sent. Sample message to amina@example.org,"
        f" {len(data):,} bytes:\n"
        "Envelope sender (MAIL FROM, where bounces go): focalpoint@example.org\n"
        "\n"
        "From: UN Global Compact Office <focalpoint@example.org>\n"
        "To: Amina Okafor-Müller <amina@example.org>\n"
        "Subject: The UN-Business Focal Point : numéro d’été\n"
        "Date: DATE\n"
        "Message-ID: <MESSAGE-ID>\n"
        "List-Id: The UN-Business Focal Point <the-un-business-focal-point.example.org>\n"
        f"List-Unsubscribe: <https://focalpoint.example.org/unsubscribe/{token}>,"
        f" <mailto:focalpoint@example.org?subject=unsubscribe%20{token}>\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
        "Feedback-ID: 2026-Q4:newsletter:example.org\n"
        "Reply-To: partnerships@example.org\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/alternative; boundary="B"\n'
        "\n"
        f"Parts, decoded: text/plain ({len(text):,} bytes), text/html ({len(html):,} bytes)\n"
        "\n"
        "Text part, decoded:\n"
        "\n"
        "THE UN-BUSINESS FOCAL POINT\n"
        "Issue 7 · Test issue · 15 December 2026\n"
        "\n"
        "View this issue in your browser: https://focalpoint.example.org/2026-Q4/\n"
        "\n"
    )
    assert "Dear Amina Okafor-Müller,\n" in result.output
    assert not re.search(r"=3D|=C2|=20|[^=\n]=\n", result.output)  # no quoted-printable left
    # The whole text part, as sent, but for the links: the sample's are signed for nobody.
    unsigned = tokens.SHAPE.sub("TOKEN", text.decode().replace("\r\n", "\n"))
    assert unsigned in tokens.SHAPE.sub("TOKEN", result.output)
    assert unsigned.count("TOKEN") == 4  # entry, members, submit, unsubscribe
