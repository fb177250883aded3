"""`newsletter bounces`: DSNs and older formats, mapped through the delivery ledger."""

from __future__ import annotations

import base64
import datetime as dt
import mailbox
import quopri
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.config import load_settings
from newsletter.contacts.directory import build_directory
from newsletter.models import Contact
from newsletter.returns.dsn import classify, severity
from newsletter.store import ledger, open_db
from newsletter.store.bounces import soft_streak
from newsletter.store.contacts import create_contact, get_contact, history
from newsletter.tokens import make_token

DATA = Path(__file__).parent / "data" / "bounces"
SECRET = "a-test-secret-that-is-long-enough"

# Who each sample bounce is about, and the Message-ID the ledger gave them.
PEOPLE = {
    "gone.away@unicef.example": "<2026-Q4.1111111111111111@example.org>",
    "full.box@undp.example": "<2026-Q4.2222222222222222@example.org>",
    "amina.diallo@wfp.example": "<2026-Q4.3333333333333333@example.org>",
    "old.post@unhcr.example": "<2026-Q4.4444444444444444@example.org>",
    "no.such.user@unops.example": "<2026-Q4.5555555555555555@example.org>",
    "slow.server@who.example": "<2026-Q4.6666666666666666@example.org>",
    "moved.on@ilo.example": "<2026-Q4.7777777777777777@example.org>",
    "stays@ilo.example": "<2026-Q4.8888888888888888@example.org>",
}


def sent(db, issue, ids=None, at="2026-12-15T09:00:00+00:00"):
    """Snapshot ``issue`` in the ledger and mark every row sent, with chosen Message-IDs."""
    ledger.snapshot(db, issue, "smtp", issue, "example.org")
    with db.atomic():
        for contact_id, email in db.execute(
            "SELECT contact_id, email FROM deliveries WHERE issue = ?", [issue]
        ).fetchall():
            mid = (ids or {}).get(email)
            db.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?,"
                " message_id = coalesce(?, message_id) WHERE issue = ? AND contact_id = ?",
                [at, mid, issue, contact_id],
            )


@pytest.fixture
def db(project):
    db = open_db(project / "contacts.db")
    for email in PEOPLE:
        create_contact(db, Contact(email=email, name=email.split("@")[0]), "test", "t")
    sent(db, "2026-Q4", PEOPLE)
    return db


def mbox(tmp_path, names, name="returned.mbox"):
    path = tmp_path / name
    box = mailbox.mbox(path)
    for n in names:
        box.add((DATA / n).read_bytes())
    box.close()
    return path


ALL = [
    "hard-5.1.1.eml",
    "soft-4.2.2.eml",
    "out-of-office.eml",
    "no-message-id.eml",
    "malformed.eml",
    "exim-5.1.1.eml",
    "qmail.eml",
    "delayed.eml",
]


@pytest.mark.parametrize(
    "name,kind,status,recipient,message_id",
    [
        ("hard-5.1.1.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("soft-4.2.2.eml", "soft", "4.2.2", "full.box@undp.example", "2222"),
        ("out-of-office.eml", "auto-reply", "", None, "3333"),
        ("no-message-id.eml", "hard", "5.1.10", "moved.on@ilo.example", None),
        ("malformed.eml", "malformed", "", None, None),
        ("exim-5.1.1.eml", "hard", "5.1.1", "old.post@unhcr.example", "4444"),
        ("qmail.eml", "hard", "5.1.1", "no.such.user@unops.example", "5555"),
        ("delayed.eml", "delayed", "4.4.1", "slow.server@who.example", "6666"),
        ("global-5.1.1.eml", "hard", "5.1.1", "jürgen@beispiel.example", "9999"),
        ("yahoo-554.eml", "hard", "5.1.1", "someone@yahoo.example", "aaaa"),
        ("exchange-text.eml", "hard", "5.1.10", "ann@contoso.example", "bbbb"),
        ("office365-5.1.10.eml", "hard", "5.1.10", "gone.away@unicef.example", "1111"),
        ("exchange-legacy.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("outlook-delivery-has-failed.eml", "hard", "5.5.0", "gone.away@unicef.example", "1111"),
        ("sendmail-5.1.1.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("gmail-5.1.1.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("gmail-5.2.2.eml", "soft", "5.2.2", "full.box@undp.example", "2222"),
        ("ses-5.1.1.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("mailgun-style.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("references-only.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("german-latin1.eml", "hard", "5.1.1", "old.post@unhcr.example", "4444"),
        ("broken-mime.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("expired-4.4.7.eml", "soft", "4.4.7", "slow.server@who.example", "6666"),
        ("domino.eml", "hard", "5.1.1", "hans.muster@unido.example", None),  # words, no code
        # Status says only "failed"; the diagnostic, with no code, says a full mailbox.
        ("status-5.0.0-mailbox-full.eml", "soft", "5.2.2", "full.box@undp.example", "2222"),
        # Out-of-office replies with a bounce's words, or a bounce's subject quoted.
        ("ooo-no-longer-monitored.eml", "auto-reply", "", None, "1111"),
        ("automatische-antwort.eml", "auto-reply", "", None, "7777"),
    ],
)
def test_classify_samples(name, kind, status, recipient, message_id):
    b = classify((DATA / name).read_bytes())
    assert (b.kind, b.status) == (kind, status)
    if recipient:
        assert b.recipients[0] == recipient
    if message_id:
        assert b.message_ids[0] == f"<2026-Q4.{message_id * 4}@example.org>"
    else:
        assert b.message_ids == ()


@pytest.mark.parametrize(
    "fields,kind,status",
    [
        ("Status: 5.0.0\nDiagnostic-Code: smtp; 550 5.1.1 user unknown", "hard", "5.1.1"),
        ("Status: 5.0.0\nDiagnostic-Code: smtp; 552 Mailbox full", "soft", "5.2.2"),
        ("Status: 5.0.0\nDiagnostic-Code: smtp; 552-5.2.2 over quota", "soft", "5.2.2"),
        (
            "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.7.1 policy",
            "hard",
            "5.1.1",
        ),  # specific wins
        ("Status: 4.0.0\nDiagnostic-Code: smtp; 452 4.2.2 mailbox full", "soft", "4.2.2"),
        ("Diagnostic-Code: smtp; 550 5.1.10 RecipientNotFound", "hard", "5.1.10"),  # no Status
        ("Status: 5.1.1 (bad destination mailbox address)", "hard", "5.1.1"),
        ("Diagnostic-Code: smtp; 550 no such user", "hard", "5.0.0"),  # only the reply code
        ("Status: 4.4.7\nDiagnostic-Code: X-Postfix; connect timed out", "soft", "4.4.7"),
        ("Status: 5.2.2", "soft", "5.2.2"),
        ("", "hard", "5.0.0"),  # "failed" alone is permanent (RFC 3464)
    ],
)
def test_status_and_diagnostic_disagreements(fields, kind, status):
    report = (
        "From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail Returned to Sender\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; a@b.example\nAction: failed\n{fields}\n\n--b--\n"
    )
    b = classify(report.encode())
    assert (b.kind, b.status) == (kind, status)


def test_severity_keeps_full_mailboxes_and_policy_blocks_soft():
    assert [severity(s) for s in ("5.1.1", "5.1.10", "5.0.0", "5.4.4")] == ["hard"] * 4
    assert [severity(s) for s in ("4.2.2", "5.2.2", "5.7.1", "5.3.4", "4.4.7")] == ["soft"] * 5


def test_auto_replies_in_many_forms_are_ignored():
    base = "From: a@b.example\nTo: focalpoint@example.org\nSubject: {subject}\n{extra}\nAway.\n"
    for subject, extra in [
        ("Out of Office: The UN-Business Focal Point", ""),
        ("Re: The UN-Business Focal Point", "X-Autoreply: yes"),
        ("Re: The UN-Business Focal Point", "Precedence: auto_reply"),
        ("AUTO: Jane Doe is out of the office", ""),
        ("Abwesenheitsnotiz", ""),
        ("Automatische Antwort: The UN-Business Focal Point", ""),
        ("Resposta automática: The UN-Business Focal Point", ""),
        ("Автоматический ответ: The UN-Business Focal Point", ""),
        ("自动回复: The UN-Business Focal Point", ""),
        ("OOO: back on Monday", ""),
        ("Thank you for your message", "Auto-Submitted: auto-replied"),
        # A person's auto-reply that reads like a bounce, sent with a null return path.
        ("Out of Office", "Return-Path: <>\n\nDelivery has failed: permanent error"),
        ("Automatic reply: Undeliverable: your mail", "Auto-Submitted: auto-replied"),
    ]:
        assert classify(base.format(subject=subject, extra=extra).encode()).kind == "auto-reply"
    plain = base.format(subject="Thanks for the issue", extra="").encode()
    assert classify(plain).kind == "other"


def test_a_bounce_whose_subject_quotes_an_out_of_office_is_still_a_bounce():
    data = (
        (DATA / "references-only.eml")
        .read_bytes()
        .replace(
            b"Subject: Mail delivery failed", b"Subject: Undeliverable: Out of office hours support"
        )
    )
    assert classify(data.replace(b"MAILER-DAEMON", b"it")).kind == "hard"


ORIGINAL = b"Message-ID: <2026-Q4.1111111111111111@example.org>\r\nSubject: x\r\n\r\nHello\r\n"


@pytest.mark.parametrize(
    "part,encoding",
    [
        ("message/rfc822", "base64"),
        ("message/rfc822", "quoted-printable"),
        ("message/global", "base64"),  # RFC 6533 allows it
        ("message/global-headers", "base64"),
        ("text/rfc822-headers", "base64"),
        ("message/delivery-status", "base64"),
    ],
)
def test_encoded_report_parts_are_decoded(part, encoding):
    status = b"Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\n"
    status += b"Action: failed\r\nStatus: 5.1.1\r\n"
    parts = {"message/delivery-status": status, "text/rfc822-headers": ORIGINAL, part: ORIGINAL}
    if part == "message/delivery-status":
        parts = {part: status, "text/rfc822-headers": ORIGINAL}
    body = b""
    for ctype, data in parts.items():
        cte = encoding if ctype == part else "7bit"
        data = base64.encodebytes(data) if cte == "base64" else quopri.encodestring(data)
        body += f"--b\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode()
        body += data + b"\r\n"
    message = (
        b"From: MAILER-DAEMON@x.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/report; boundary="b"\r\n\r\n'
        + body
        + b"--b--\r\n"
    )
    b = classify(message)
    assert (b.kind, b.status, b.recipients) == ("hard", "5.1.1", ("a@b.example",))
    assert b.message_ids == ("<2026-Q4.1111111111111111@example.org>",)


def test_a_message_id_quoted_without_angle_brackets():
    text = (DATA / "qmail.eml").read_bytes()
    bare = text.replace(
        b"<2026-Q4.5555555555555555@example.org>", b"2026-Q4.5555555555555555@example.org"
    )
    assert classify(bare).message_ids == ("<2026-Q4.5555555555555555@example.org>",)


def test_a_person_replying_about_an_error_is_not_a_bounce():
    reply = (
        "From: Jane <gone.away@unicef.example>\nSubject: {subject}\n"
        "In-Reply-To: <2026-Q4.1111111111111111@example.org>\n\n"
        "Delivery has failed for my colleague, 550 5.1.1 user unknown. A permanent error?\n"
    )
    for subject in ("Re: The UN-Business Focal Point", "Re: Undeliverable: your newsletter"):
        assert classify(reply.format(subject=subject).encode()).kind == "other"


def test_broken_inputs_never_raise():
    for data in [b"", b"\xff" * 50, b"Subject: x\n\n", b"Content-Type: multipart/report\n\n--"]:
        assert classify(data).kind in ("malformed", "other")
    truncated = (DATA / "hard-5.1.1.eml").read_bytes()[:900]
    assert classify(truncated).kind in ("hard", "malformed", "other")


def run(project, *args):
    return CliRunner().invoke(main, ["--root", str(project), *args])


def test_the_sample_mailbox_end_to_end_and_twice(project, db, tmp_path):
    path = mbox(tmp_path, ALL)
    first = run(project, "bounces", str(path))
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines == [
        "message 1: hard bounce 5.1.1 for gone.away@unicef.example (issue 2026-Q4, by Message-ID): marked bounced",
        "message 2: soft bounce 4.2.2 for full.box@undp.example (issue 2026-Q4, by Message-ID): 1 of 3 soft bounces in a row",
        "message 3: ignored: auto-reply (Automatic reply: The UN-Business Focal Point: test issue)",
        "message 4: hard bounce 5.1.10 for moved.on@ilo.example (issue 2026-Q4, no Message-ID; matched by address): marked bounced",
        "message 5: skipped: malformed message (no mail headers)",
        "message 6: hard bounce 5.1.1 for old.post@unhcr.example (issue 2026-Q4, by Message-ID): marked bounced",
        "message 7: hard bounce 5.1.1 for no.such.user@unops.example (issue 2026-Q4, by Message-ID): marked bounced",
        "message 8: ignored: delivery delayed, the server is still trying (4.4.1)",
        "8 messages: 4 hard bounces, 1 soft bounce, 1 auto-reply, 2 other; 4 contacts changed.",
    ]
    status = {e: get_contact(db, e).status for e in PEOPLE}
    assert [e for e, s in status.items() if s == "bounced"] == [
        "gone.away@unicef.example",
        "old.post@unhcr.example",
        "no.such.user@unops.example",
        "moved.on@ilo.example",
    ]
    gone = get_contact(db, "gone.away@unicef.example")
    assert [(h.field, h.new, h.source) for h in history(db, gone.id)][-1] == (
        "status",
        "bounced",
        "bounce:2026-Q4",
    )
    rows = db.execute("SELECT count(*) FROM history").fetchone()[0]

    second = run(project, "bounces", str(path))
    assert second.exit_code == 0
    assert second.output.splitlines()[0] == "message 1: already processed; nothing to do"
    assert second.output.splitlines()[-1] == "8 messages: 8 already processed; 0 contacts changed."
    assert db.execute("SELECT count(*) FROM history").fetchone()[0] == rows
    assert status == {e: get_contact(db, e).status for e in PEOPLE}


def test_maildir_works_too(project, db, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir")
    for name in ("hard-5.1.1.eml", "out-of-office.eml"):
        box.add((DATA / name).read_bytes())
    result = run(project, "bounces", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    assert "marked bounced" in result.output and "ignored: auto-reply" in result.output
    assert get_contact(db, "gone.away@unicef.example").status == "bounced"


@pytest.mark.parametrize(
    "name",
    [
        "office365-5.1.10.eml",
        "exchange-legacy.eml",
        "outlook-delivery-has-failed.eml",
        "sendmail-5.1.1.eml",
        "gmail-5.1.1.eml",
        "ses-5.1.1.eml",
        "mailgun-style.eml",
        "references-only.eml",
        "broken-mime.eml",
    ],
)
def test_each_format_reaches_its_contact_through_the_ledger(project, db, tmp_path, name):
    result = run(project, "bounces", str(mbox(tmp_path, [name])))
    assert result.exit_code == 0, result.output
    status = classify((DATA / name).read_bytes()).status
    assert result.output.splitlines()[0] == (
        f"message 1: hard bounce {status} for gone.away@unicef.example"
        " (issue 2026-Q4, by Message-ID): marked bounced"
    )
    assert get_contact(db, "gone.away@unicef.example").status == "bounced"


def test_an_out_of_office_with_a_bounces_words_changes_nothing(project, db, tmp_path):
    box = mbox(tmp_path, ["ooo-no-longer-monitored.eml", "automatische-antwort.eml"])
    result = run(project, "bounces", str(box))
    assert result.output.splitlines() == [
        "message 1: ignored: auto-reply (Out of Office: The UN-Business Focal Point: test issue)",
        "message 2: ignored: auto-reply (Automatische Antwort: Undeliverable: The UN-Business Focal Point)",
        "2 messages: 2 auto-replies; 0 contacts changed.",
    ]
    assert get_contact(db, "gone.away@unicef.example").status == "subscribed"


def test_an_empty_mailbox_and_a_single_saved_message(project, db, tmp_path):
    (tmp_path / "empty.mbox").write_bytes(b"")
    result = run(project, "bounces", str(tmp_path / "empty.mbox"))
    assert (result.exit_code, result.output) == (0, "0 messages: none; 0 contacts changed.\n")
    saved = tmp_path / "returned.eml"
    saved.write_bytes((DATA / "gmail-5.1.1.eml").read_bytes())
    result = run(project, "bounces", str(saved))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "returned.eml: hard bounce 5.1.1 for gone.away@unicef.example"
        " (issue 2026-Q4, by Message-ID): marked bounced"
    )


def test_no_database_is_a_user_error_not_an_empty_one(project, tmp_path):
    result = run(project, "bounces", str(mbox(tmp_path, ["hard-5.1.1.eml"])))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {project / 'contacts.db'}: no contacts database here. "
        "Run it in the project folder, or pass --root or --db.\n"
    )
    assert not (project / "contacts.db").exists()


def test_wrong_paths_are_user_errors(project, db, tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "folder").mkdir()
    for target, message in [
        (tmp_path / "notes.txt", "not an mbox file"),
        (tmp_path / "folder", "not a Maildir"),
    ]:
        result = run(project, "bounces", str(target))
        assert result.exit_code == 1
        assert message in result.output and "Traceback" not in result.output


def soft_for(message_id):
    text = (DATA / "soft-4.2.2.eml").read_text()
    return text.replace("<2026-Q4.2222222222222222@example.org>", message_id).encode()


def test_three_soft_bounces_in_a_row_across_issues(project, tmp_path):
    db = open_db(project / "contacts.db")
    full = create_contact(db, Contact(email="full.box@undp.example"), "test", "t")
    ids = {}
    for n, issue in enumerate(("2026-Q2", "2026-Q3", "2026-Q4")):
        ids[issue] = f"<{issue}.abc@example.org>"
        sent(db, issue, {"full.box@undp.example": ids[issue]}, f"2026-0{n + 4}-15T09:00:00+00:00")
    for n, issue in enumerate(("2026-Q2", "2026-Q3", "2026-Q4"), 1):
        box = mailbox.mbox(tmp_path / f"{issue}.mbox")
        box.add(soft_for(ids[issue]))
        box.add(soft_for(ids[issue]).replace(b"10:40:11", b"11:40:11"))  # a second try, same issue
        box.close()
        result = run(project, "bounces", str(tmp_path / f"{issue}.mbox"))
        assert result.exit_code == 0, result.output
        assert soft_streak(db, full.id) == n
    assert "3 soft bounces in a row: marked bounced" in result.output
    assert get_contact(db, full.id).status == "bounced"


def test_an_issue_that_got_through_breaks_the_run(project, tmp_path):
    db = open_db(project / "contacts.db")
    full = create_contact(db, Contact(email="full.box@undp.example"), "test", "t")
    for n, issue in enumerate(("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")):
        sent(db, issue, {"full.box@undp.example": f"<{issue}.x@example.org>"}, f"2026-0{n + 1}-15")
    box = mailbox.mbox(tmp_path / "box.mbox")
    for issue in ("2026-Q1", "2026-Q2", "2026-Q4"):  # Q3 arrived
        box.add(soft_for(f"<{issue}.x@example.org>"))
    box.close()
    assert run(project, "bounces", str(tmp_path / "box.mbox")).exit_code == 0
    assert soft_streak(db, full.id) == 1
    assert get_contact(db, full.id).status == "subscribed"


def test_bounces_for_mail_we_did_not_send_change_nothing(project, db, tmp_path):
    foreign = (DATA / "hard-5.1.1.eml").read_bytes().replace(b"1111111111111111", b"0" * 16)
    stranger = (DATA / "no-message-id.eml").read_bytes().replace(b"moved.on", b"someone")
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(foreign)
    box.add(stranger)
    box.close()
    result = run(project, "bounces", str(tmp_path / "box.mbox"))
    assert "is not in the delivery ledger (not our mail)" in result.output
    assert "someone@ilo.example is not a contact the ledger says we mailed" in result.output
    assert get_contact(db, "gone.away@unicef.example").status == "subscribed"


def test_an_unsubscribe_request_by_mail(project, db, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    amina = get_contact(db, "amina.diallo@wfp.example")
    token = make_token(SECRET.encode(), amina.id, "2026-Q4")
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(f"From: amina.diallo@wfp.example\nSubject: unsubscribe {token}\n\n".encode())
    box.add(f"From: x@y.example\nSubject: unsubscribe {token[:-3]}abc\n\n".encode())
    box.close()
    result = run(project, "bounces", str(tmp_path / "box.mbox"))
    assert re.search(r"message 1: unsubscribe request .*: unsubscribed", result.output)
    assert "message 2: ignored: an unsubscribe request with an invalid token" in result.output
    assert get_contact(db, amina.id).status == "unsubscribed"


def test_a_bounced_focal_point_shows_up_as_a_seat_to_fill(project, tmp_path):
    db = open_db(project / "contacts.db")
    create_contact(
        db, Contact(email="gone.away@unicef.example", name="Gone Away", organisation="UNICEF"), "t"
    )
    sent(db, "2026-Q4", {"gone.away@unicef.example": PEOPLE["gone.away@unicef.example"]})
    assert run(project, "bounces", str(mbox(tmp_path, ["hard-5.1.1.eml"]))).exit_code == 0
    today = dt.date.today()
    directory = build_directory(db, load_settings(project), today - dt.timedelta(days=1), today)
    assert [g.title for g in directory.vacant] == ["UNICEF"]
    assert [(d.name, d.organisation, d.status) for d in directory.departures] == [
        ("Gone Away", "UNICEF", "bounced")
    ]


def test_an_unsubscribe_request_waits_for_the_secret(project, db, tmp_path, monkeypatch):
    amina = get_contact(db, "amina.diallo@wfp.example")
    token = make_token(SECRET.encode(), amina.id, "2026-Q4")
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(f"From: amina.diallo@wfp.example\nSubject: unsubscribe {token}\n\n".encode())
    box.close()
    first = run(project, "bounces", str(tmp_path / "box.mbox"))
    assert "NEWSLETTER_SECRET is not set; run again with it" in first.output
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    second = run(project, "bounces", str(tmp_path / "box.mbox"))
    assert ": unsubscribed" in second.output
    assert get_contact(db, amina.id).status == "unsubscribed"
