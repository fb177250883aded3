"""`newsletter send` into the outbox: refusals, rehearsals, consent, injection, the ledger."""

from __future__ import annotations

import fcntl
import json
import re
import sqlite3

import pytest
from helpers import add_contacts, built, cli, ledger_rows, make_issue, parse, set_status, suppress

from newsletter.build.pipeline import build, input_digest
from newsletter.config import load_settings
from newsletter.send.headers import header_problem
from newsletter.send.preflight import DEV_SECRET
from newsletter.store import ledger, open_db
from newsletter.tokens import read_token

ATTACKS = [
    "Eve\r\nBcc: victim@example.org",
    "Eve\nBcc: victim@example.org",
    "Eve\rBcc: victim@example.org",
    "Eve\u2028Bcc: victim@example.org",
    "Eve\x85Bcc: victim@example.org",
    "Eve%0d%0aBcc: victim@example.org",
    "Eve=0D=0ABcc: victim@example.org",
    "=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?=",
    "Eve&#13;&#10;Bcc: victim@example.org",
]


@pytest.fixture
def ready(project):
    built(project)
    add_contacts(project, 5)
    return project


def outbox(root):
    return sorted((root / "issues" / "2026-Q4" / "outbox").glob("*.eml"))


def test_send_fills_the_outbox_on_a_fresh_clone(ready):
    result = cli(ready, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    assert "NEWSLETTER_SECRET is not set; the outbox uses the development secret" in result.output
    assert "Sent 5 via outbox" in result.output
    files = outbox(ready)
    assert [f.name for f in files] == [f"person{n}@example.org.eml" for n in range(5)]
    msg = parse(files[0].read_bytes())
    token = msg["List-Unsubscribe"].split("/unsubscribe/")[1].split(">")[0]
    assert read_token(DEV_SECRET, token) == (1, "2026-Q4")
    assert {r["status"] for r in ledger_rows(ready)} == {"sent"}
    again = cli(ready, "send", "2026-Q4", "--yes")
    assert again.exit_code == 0 and "Nothing to send." in again.output


def test_refuses_a_missing_failing_or_stale_build(project):
    folder = built(project)
    add_contacts(project, 2)
    report = folder / "build" / "report.json"
    saved = report.read_text()
    report.write_text(saved.replace('"ok": true', '"ok": false'))
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "the build has accessibility or size errors" in result.output
    report.write_text(saved)
    (folder / "items" / "item-1.md").write_text("---\ntitle: Changed\n---\nNew text.\n")
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1
    assert "older than its inputs" in result.output and "newsletter build 2026-Q4" in result.output
    # Fresh by digest but failing the check (the item now lacks a section): still refused.
    data = json.loads(saved)
    data["inputs"] = input_digest(load_settings(project), folder)
    report.write_text(json.dumps(data))
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "nothing was sent" in result.output
    report.unlink()
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "no complete build to send" in result.output
    assert "Traceback" not in result.output and not outbox(project)


def test_a_real_sender_needs_the_secret(ready):
    result = cli(ready, "send", "2026-Q4", "--yes", "--sender", "smtp", "-o", "host=127.0.0.1")
    assert result.exit_code == 1
    assert "sender smtp delivers real mail, so: NEWSLETTER_SECRET: not set" in result.output
    assert ledger_rows(ready) == []


def test_dry_run_writes_nothing_and_shows_a_sample(ready):
    result = cli(ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "5 to send (new snapshot of subscribed contacts)" in result.output
    assert (
        "Dry run: nothing written or sent. Sample message to person0@example.org" in result.output
    )
    assert "To: Person 0 <person0@example.org>" in result.output
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in result.output
    assert ledger_rows(ready) == [] and not outbox(ready)


def test_asks_before_sending(ready):
    result = cli(ready, "send", "2026-Q4", input="n\n")
    assert result.exit_code == 1 and "Send to 5 recipients via outbox? [y/N]" in result.output
    assert ledger_rows(ready) == [] and not outbox(ready)
    result = cli(ready, "send", "2026-Q4", input="y\n")
    assert result.exit_code == 0 and len(outbox(ready)) == 5


def test_unsubscribed_bounced_left_and_suppressed_are_never_mailed(project):
    built(project)
    add_contacts(project, 8)
    set_status(project, "person1@example.org", "unsubscribed")
    suppress(project, "person2@example.org")
    # A snapshot taken before the changes below: they must still be honoured.
    db = open_db(project / "contacts.db")
    assert ledger.snapshot(db, "2026-Q4", "outbox", "2026-Q4", "example.org") == 7
    db.conn.close()
    set_status(project, "person3@example.org", "bounced")
    set_status(project, "person4@example.org", "left")
    suppress(project, "Person5@Example.org")
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    assert "Sent 3 via outbox" in result.output and "4 skipped" in result.output
    names = [f.name for f in outbox(project)]
    assert names == [f"person{n}@example.org.eml" for n in (0, 6, 7)]
    reasons = {
        r["email"]: r["last_error"] for r in ledger_rows(project) if r["status"] == "skipped"
    }
    assert reasons == {
        "person2@example.org": "the address is on the suppression list",
        "person3@example.org": "the contact is bounced",
        "person4@example.org": "the contact is left",
        "person5@example.org": "the address is on the suppression list",
    }


def test_header_injection_in_names_is_refused_per_contact(project, corpus):
    built(project)
    hostile = json.loads((corpus / "contacts" / "blns" / "blns.json").read_text("utf-8"))
    names = ATTACKS + hostile
    ids = add_contacts(
        project, [{"email": f"c{n}@example.org", "name": name} for n, name in enumerate(names)]
    )
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    rows = {r["contact_id"]: r for r in ledger_rows(project)}
    files = {f.name: f for f in outbox(project)}
    for n, (contact_id, name) in enumerate(zip(ids, names, strict=True)):
        row, file = rows[contact_id], files.get(f"c{n}@example.org.eml")
        if n < len(ATTACKS) or header_problem(name):
            assert row["status"] == "failed" and file is None
            assert row["last_error"].startswith(f"contact {contact_id} <'c{n}@example.org'>: name ")
            assert "which could add a header" in row["last_error"]
            continue
        assert row["status"] == "sent", (name, row["last_error"])
        data = file.read_bytes()
        head = data.split(b"\r\n\r\n", 1)[0]
        assert b"victim" not in head and b"\r\nBcc" not in head and b"\r\nCc" not in head
        assert len(parse(data).keys()) == 12
    assert "failed: contact 1 <'c0@example.org'>: name contains a line break" in result.output


@pytest.mark.parametrize("attack", ATTACKS[3:], ids=range(len(ATTACKS) - 3))
def test_header_injection_in_the_subject_is_refused(project, attack):
    folder = built(project)
    toml = folder / "issue.toml"
    subject = attack.replace("\u2028", "\\u2028").replace("\x85", "\\u0085")
    toml.write_text(toml.read_text().replace('subject = "', f'subject = "{subject} ', 1))
    assert cli(project, "build", "2026-Q4").exit_code == 0
    add_contacts(project, 1)
    result = cli(project, "send", "2026-Q4", "--yes")
    if result.exit_code == 0:  # `check` already folded the Unicode line break into a space
        head = outbox(project)[0].read_bytes().split(b"\r\n\r\n", 1)[0]
        assert b"victim" not in head.split(b"Subject:")[0] and b"\r\nBcc" not in head
        assert "\n" not in parse(outbox(project)[0].read_bytes())["Subject"]
        return
    assert result.exit_code == 1
    assert "issues/2026-Q4/issue.toml: subject contains" in result.output
    assert "which could add a header" in result.output and not outbox(project)


def test_header_injection_in_a_test_address_is_refused(ready):
    result = cli(ready, "send", "2026-Q4", "--to", "a@example.org\r\nBcc: victim@example.org")
    assert result.exit_code == 1 and "--to a@example.org" in result.output
    assert "address contains a line break" in result.output and not outbox(ready)


def test_a_second_send_of_the_same_issue_is_refused(ready):
    with open(ready / "issues" / "2026-Q4" / "build" / ".send.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        result = cli(ready, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "another newsletter send for this issue is running" in (
        result.output
    )


def test_rate_spaces_messages_evenly(ready):
    result = cli(ready, "send", "2026-Q4", "--yes", "--rate", "20")
    assert result.exit_code == 0
    stamps = sorted(f.stat().st_mtime for f in outbox(ready))
    gaps = sorted(b - a for a, b in zip(stamps, stamps[1:], strict=False))
    # Messages are released 0.05 s apart; a worker thread the scheduler holds back
    # can land one just before the next, so the median gap is asserted, not the least.
    assert gaps[len(gaps) // 2] > 0.03 and stamps[-1] - stamps[0] >= 0.18


def test_send_settings_are_validated(project):
    built(project)
    add_contacts(project, 1)
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.newsletter.send]\nconcurency = 2\n")
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1
    line = len(path.read_text().splitlines())
    assert (
        f"pyproject.toml:{line}: [tool.newsletter.send] unknown key 'concurency'" in result.output
    )
    assert ledger_rows(project) == []


def test_a_dry_run_neither_migrates_nor_creates_the_database(ready, project):
    db = open_db(ready / "contacts.db")  # as if made by an older version: m002 pending
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_deliveries_indexes'")
    db.execute("CREATE INDEX idx_deliveries_todo ON deliveries(issue, sender, status, id)")
    db.conn.close()
    path = ready / "contacts.db"
    raw = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    before = list(raw.iterdump())
    result = cli(ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0 and "5 to send" in result.output, result.output
    assert list(raw.iterdump()) == before
    path.unlink()
    result = cli(ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0 and "0 to send" in result.output, result.output
    assert "Sample message to colleague@example.org" in result.output
    assert not path.exists()


@pytest.mark.parametrize(
    "web_url,sender,message",
    [
        ("https://focalpoint.example.org/a b", "outbox", "cannot go in the List-Unsubscribe"),
        ("https://focalpoint.example.org/a>,<x", "outbox", "cannot go in the List-Unsubscribe"),
        ("https://exämple.org", "outbox", "cannot go in the List-Unsubscribe header"),
        ("http://focalpoint.example.org", "smtp", "must start with https:// for a sender"),
    ],
)
def test_web_url_is_checked_before_it_goes_in_a_header(
    project, monkeypatch, web_url, sender, message
):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-0123456789abcdef")
    toml = project / "pyproject.toml"
    toml.write_text(toml.read_text().replace('"https://focalpoint.example.org"', f'"{web_url}"', 1))
    built(project)
    add_contacts(project, 1)
    options = ["-o", "host=127.0.0.1"] if sender == "smtp" else []
    result = cli(project, "send", "2026-Q4", "--yes", "--sender", sender, *options)
    assert result.exit_code == 1 and "[tool.newsletter] 'web_url'" in result.output
    assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(project) == [] and not outbox(project)


def test_an_issue_id_any_folder_name_makes_valid_message_ids(project):
    # The CLI only makes plain IDs, but a folder made by hand may hold anything.
    issue_id = "Q4 2026 <é>"
    folder = make_issue(project, issue_id)  # the ID is not YYYY-Qn: give a window
    toml = folder / "issue.toml"
    toml.write_text(toml.read_text() + "window = { from = 2026-10-01, to = 2026-12-31 }\n")
    assert build(load_settings(project), folder).ok
    add_contacts(project, [{"email": "a@example.org", "name": " "}])
    result = cli(project, "send", issue_id, "--yes")
    assert result.exit_code == 1
    assert "not a valid issue ID" in result.output
    result = cli(project, "send", "Special_Edition.2026", "--yes")
    assert "not a valid issue ID" not in result.output
    from newsletter.send.message import id_label, new_message_id

    assert id_label(issue_id) == "Q4-2026"
    assert re.fullmatch(
        r"<Q4-2026\.[0-9a-f]{16}@example\.org>", new_message_id(issue_id, "example.org")
    )


def test_a_blank_name_is_no_name(project):
    folder = make_issue(project, "2026-Q4")
    assert build(load_settings(project), folder).ok
    add_contacts(project, [{"email": "a@example.org", "name": " "}])
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0 and "Sent 1 via outbox" in result.output, result.output
    (file,) = (project / "issues" / "2026-Q4" / "outbox").glob("*.eml")
    msg = parse(file.read_bytes())
    assert re.fullmatch(r"<2026-Q4\.[0-9a-f]{16}@example\.org>", msg["Message-ID"])
    assert msg["Feedback-ID"] == "2026-Q4:newsletter:example.org"
    assert ledger_rows(project, "2026-Q4")[0]["message_id"] == msg["Message-ID"]
    # A blank name is no name: no empty phrase in To, "colleague" in the greeting.
    assert msg["To"] == "a@example.org"
    assert "Dear colleague," in msg.get_body(("plain",)).get_content()
