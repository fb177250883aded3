"""newsletter.returns.bounces: `newsletter bounces` maps returned mail through the ledger to contacts."""

from __future__ import annotations

import datetime as dt
import json
import mailbox
import os
import re
from pathlib import Path

import pytest
from helpers import cli, cli_within, configure_sources

from newsletter.config import load_settings
from newsletter.contacts.directory import build_directory
from newsletter.models import Contact
from newsletter.returns.dsn import classify
from newsletter.store import ledger, open_db
from newsletter.store.bounces import soft_streak
from newsletter.store.contacts import create_contact, get_contact, history, is_suppressed
from newsletter.tokens import make_return_token, make_token

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


def test_the_sample_mailbox_end_to_end_and_twice(project, db, tmp_path):
    path = mbox(tmp_path, ALL)
    first = cli(project, "bounces", str(path))
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines == [
        "message 1: hard bounce 5.1.1 for gone.away@unicef.example (issue 2026-Q4, by Message-ID): marked bounced",
        "message 2: soft bounce 4.2.2 for full.box@undp.example (issue 2026-Q4, by Message-ID): 1 of 3 soft bounces in a row",
        "message 3: auto-reply for amina.diallo@wfp.example (issue 2026-Q4, by Message-ID):"
        " ignored (Automatic reply: The UN-Business Focal Point: test issue)",
        f"message 4: {UNAPPLIED_MOVED_ON}",
        f"message 5: {MALFORMED}",
        "message 6: hard bounce 5.1.1 for old.post@unhcr.example (issue 2026-Q4, by Message-ID): marked bounced",
        "message 7: hard bounce 5.1.1 for no.such.user@unops.example (issue 2026-Q4, by Message-ID): marked bounced",
        "message 8: delivery delay 4.4.1 for slow.server@who.example (issue 2026-Q4, by Message-ID):"
        " ignored, the server is still trying",
        "8 messages: 4 hard bounces, 1 soft bounce, 1 auto-reply, 1 delivery delay, 1 unreadable,"
        " 1 left unapplied; 3 contacts changed.",
    ]
    status = {e: get_contact(db, e).status for e in PEOPLE}
    assert [e for e, s in status.items() if s == "bounced"] == [
        "gone.away@unicef.example",
        "old.post@unhcr.example",
        "no.such.user@unops.example",
    ]
    gone = get_contact(db, "gone.away@unicef.example")
    assert [(h.field, h.new, h.source) for h in history(db, gone.id)][-1] == (
        "status",
        "bounced",
        "bounce:2026-Q4",
    )
    rows = db.execute("SELECT count(*) FROM history").fetchone()[0]

    second = cli(project, "bounces", str(path))
    assert second.exit_code == 0
    assert second.output.splitlines()[0] == "message 1: already processed; nothing to do"
    # The unapplied bounce and the malformed message are looked at again, every run.
    assert second.output.splitlines()[3:5] == [
        f"message 4: {UNAPPLIED_MOVED_ON}",
        f"message 5: {MALFORMED}",
    ]
    assert second.output.splitlines()[-1] == (
        "8 messages: 1 hard bounce, 1 unreadable, 1 left unapplied, 6 already processed;"
        " 0 contacts changed."
    )
    assert db.execute("SELECT count(*) FROM history").fetchone()[0] == rows
    assert status == {e: get_contact(db, e).status for e in PEOPLE}

    # The editor who checked message 4 applies it by address.
    third = cli(project, "bounces", "--match-address", str(path))
    assert third.output.splitlines()[3:5] == [
        "message 4: hard bounce 5.1.10 for moved.on@ilo.example"
        " (issue 2026-Q4, by address only, no Message-ID or signed return path): marked bounced",
        f"message 5: {MALFORMED}",
    ]
    assert get_contact(db, "moved.on@ilo.example").status == "bounced"
    fourth = cli(project, "bounces", "--match-address", str(path))
    assert fourth.output.splitlines()[-1] == (
        "8 messages: 1 unreadable, 7 already processed; 0 contacts changed."
    )
    quiet = cli(project, "bounces", "-q", str(path))
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (
        0,
        "8 messages: 1 unreadable, 7 already processed; 0 contacts changed.\n",
        "",
    )


UNAPPLIED_MOVED_ON = (
    "hard bounce 5.1.10 for moved.on@ilo.example (by address only, no Message-ID or signed"
    " return path): left unapplied, an address alone proves nothing; if it is real, run again"
    " with --match-address"
)
MALFORMED = (
    "unreadable (no mail headers): skipped, not marked as processed, so the next run reads it again"
)
# Three lines anyone can send: no Message-ID of ours, only an address.
FORGED = b"X-Failed-Recipients: stays@ilo.example\nSubject: Mail delivery failed\n\n550 5.1.1 user unknown\n"


def test_a_complaint_unsubscribes_with_history_and_counts_once(project, db, tmp_path):
    path = mbox(tmp_path, ["arf-abuse.eml"])
    result = cli(project, "bounces", str(path))
    assert (result.exit_code, result.output) == (
        0,
        "message 1: complaint from gone.away@unicef.example (issue 2026-Q4, by Message-ID),"
        " feedback report: abuse from Yahoo!-Mail-Feedback/2.0: unsubscribed and suppressed\n"
        "1 message: 1 complaint; 1 contact changed.\n",
    )
    gone = get_contact(db, "gone.away@unicef.example")
    assert gone.status == "unsubscribed"
    assert [(h.field, h.new, h.source) for h in history(db, gone.id)][-2:] == [
        ("status", "unsubscribed", "complaint:2026-Q4"),
        ("suppressed", "complaint", "complaint:2026-Q4"),
    ]
    assert is_suppressed(db, "gone.away@unicef.example")
    # A complaint is about the mail, not the role: the focal point stays listed.
    assert gone.listed
    today = dt.date.today()
    directory = build_directory(db, load_settings(project), today, today)
    assert "gone.away" in [e.name for g in directory.groups for e in g.entries]
    again = cli(project, "bounces", str(path))
    assert again.output.splitlines()[-1] == "1 message: 1 already processed; 0 contacts changed."


def test_a_forged_bounce_naming_only_an_address_retires_nobody(project, db, tmp_path):
    path = tmp_path / "forged.eml"
    path.write_bytes(FORGED)
    for _ in range(2):  # reported each run, never remembered, never applied
        result = cli(project, "bounces", str(path))
        assert (result.exit_code, result.output) == (
            0,
            "forged.eml: hard bounce 5.1.1 for stays@ilo.example (by address only, no Message-ID"
            " or signed return path): left unapplied, an address alone proves nothing; if it is"
            " real, run again with --match-address\n"
            "1 message: 1 hard bounce, 1 left unapplied; 0 contacts changed.\n",
        )
        assert get_contact(db, "stays@ilo.example").status == "subscribed"
    assert db.execute("SELECT count(*) FROM bounce_messages").fetchone()[0] == 0

    applied = cli(project, "bounces", "--match-address", str(path))
    assert applied.output.splitlines()[0] == (
        "forged.eml: hard bounce 5.1.1 for stays@ilo.example"
        " (issue 2026-Q4, by address only, no Message-ID or signed return path): marked bounced"
    )
    assert get_contact(db, "stays@ilo.example").status == "bounced"


def test_maildir_works_too(project, db, tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir")
    for name in ("hard-5.1.1.eml", "out-of-office.eml"):
        box.add((DATA / name).read_bytes())
    result = cli(project, "bounces", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    assert "marked bounced" in result.output and "auto-reply for " in result.output
    assert get_contact(db, "gone.away@unicef.example").status == "bounced"


def test_a_fifo_in_a_maildir_is_skipped_not_waited_for(project, db, tmp_path):
    # Opening a FIFO for reading waits for a writer forever: bounces hung on one.
    box = mailbox.Maildir(tmp_path / "Maildir")
    box.add((DATA / "hard-5.1.1.eml").read_bytes())
    os.mkfifo(tmp_path / "Maildir" / "cur" / "0000.pipe:2,S")
    result = cli_within(20, project, "bounces", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        lines[0] == "0000.pipe: unreadable: cur/0000.pipe:2,S is a FIFO (named pipe), not a file;"
        " skipped, move it out"
    )
    assert lines[-1] == "2 messages: 1 hard bounce, 1 unreadable; 1 contact changed."
    assert get_contact(db, "gone.away@unicef.example").status == "bounced"


def test_a_fifo_given_as_the_mailbox_is_one_line(project, db, tmp_path):
    os.mkfifo(tmp_path / "bounces.mbox")
    result = cli_within(20, project, "bounces", str(tmp_path / "bounces.mbox"))
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {tmp_path / 'bounces.mbox'}: is a FIFO (named pipe), not a mailbox. "
        "Pass an mbox file or Maildir.\n",
    )


def test_one_saved_message_over_the_size_cap_is_one_line(project, db, tmp_path):
    """Found in review: a single .eml was read whole, whatever its size."""
    from newsletter.returns.bounces import MAX_MESSAGE

    path = tmp_path / "huge.eml"
    path.write_bytes(b"Subject: x\n\n" + b"x" * MAX_MESSAGE)
    result = cli(project, "bounces", str(path))
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {path}: is larger than {MAX_MESSAGE:,} bytes, so not one message. "
        "Pass an mbox file or Maildir.\n",
    )


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
    result = cli(project, "bounces", str(mbox(tmp_path, [name])))
    assert result.exit_code == 0, result.output
    status = classify((DATA / name).read_bytes()).status
    assert result.output.splitlines()[0] == (
        f"message 1: hard bounce {status} for gone.away@unicef.example"
        " (issue 2026-Q4, by Message-ID): marked bounced"
    )
    assert get_contact(db, "gone.away@unicef.example").status == "bounced"


def test_an_out_of_office_with_a_bounces_words_changes_nothing(project, db, tmp_path):
    box = mbox(tmp_path, ["ooo-no-longer-monitored.eml", "automatische-antwort.eml"])
    result = cli(project, "bounces", str(box))
    assert result.output.splitlines() == [
        # "I have left UNICEF": a departure notice, proposed for review, never a bounce.
        "message 1: auto-reply: departure notice from paolo.ferri@unicef.example"
        " (successor partnerships@unicef.example) for gone.away@unicef.example"
        " (issue 2026-Q4, by Message-ID): proposed as left (proposal 1), with the successor as a"
        " new contact; see newsletter directory review",
        "message 2: auto-reply for moved.on@ilo.example (issue 2026-Q4, by Message-ID):"
        " ignored (Automatische Antwort: Undeliverable: The UN-Business Focal Point)",
        "2 messages: 1 departure notice, 1 auto-reply; 0 contacts changed.",
    ]
    assert get_contact(db, "gone.away@unicef.example").status == "subscribed"


def test_an_empty_mailbox_and_a_single_saved_message(project, db, tmp_path):
    (tmp_path / "empty.mbox").write_bytes(b"")
    result = cli(project, "bounces", str(tmp_path / "empty.mbox"))
    assert (result.exit_code, result.output) == (0, "0 messages: none; 0 contacts changed.\n")
    saved = tmp_path / "returned.eml"
    saved.write_bytes((DATA / "gmail-5.1.1.eml").read_bytes())
    result = cli(project, "bounces", str(saved))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "returned.eml: hard bounce 5.1.1 for gone.away@unicef.example"
        " (issue 2026-Q4, by Message-ID): marked bounced"
    )


def test_no_database_is_a_user_error_not_an_empty_one(project, tmp_path):
    result = cli(project, "bounces", str(mbox(tmp_path, ["hard-5.1.1.eml"])))
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
        result = cli(project, "bounces", str(target))
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
        result = cli(project, "bounces", str(tmp_path / f"{issue}.mbox"))
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
    assert cli(project, "bounces", str(tmp_path / "box.mbox")).exit_code == 0
    assert soft_streak(db, full.id) == 1
    assert get_contact(db, full.id).status == "subscribed"


def test_bounces_for_mail_we_did_not_send_change_nothing(project, db, tmp_path):
    foreign = (DATA / "hard-5.1.1.eml").read_bytes().replace(b"1111111111111111", b"0" * 16)
    stranger = (DATA / "no-message-id.eml").read_bytes().replace(b"moved.on", b"someone")
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(foreign)
    box.add(stranger)
    box.close()
    result = cli(project, "bounces", str(tmp_path / "box.mbox"))
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
    result = cli(project, "bounces", str(tmp_path / "box.mbox"))
    assert re.search(r"message 1: unsubscribe request .*: unsubscribed", result.output)
    assert "message 2: unsubscribe request with an invalid token: ignored" in result.output
    assert get_contact(db, amina.id).status == "unsubscribed"


def test_a_bounced_focal_point_shows_up_as_a_seat_to_fill(project, tmp_path):
    db = open_db(project / "contacts.db")
    create_contact(
        db, Contact(email="gone.away@unicef.example", name="Gone Away", organisation="UNICEF"), "t"
    )
    sent(db, "2026-Q4", {"gone.away@unicef.example": PEOPLE["gone.away@unicef.example"]})
    assert cli(project, "bounces", str(mbox(tmp_path, ["hard-5.1.1.eml"]))).exit_code == 0
    today = dt.date.today()
    directory = build_directory(db, load_settings(project), today - dt.timedelta(days=1), today)
    # The seat stays theirs (the agency's nominee until someone says otherwise),
    # shown as needing an update: UNICEF is not "vacant", it has a seat to fill.
    assert directory.vacant == ()
    assert [(g.title, [(s.role, s.unreachable) for s in g.seats]) for g in directory.groups] == [
        ("UNICEF", [("Private-sector focal point", "Gone Away")])
    ]
    assert [(d.name, d.organisation, d.status) for d in directory.departures] == [
        ("Gone Away", "UNICEF", "bounced")
    ]


def test_an_unsubscribe_request_waits_for_the_secret(project, db, tmp_path, monkeypatch):
    amina = get_contact(db, "amina.diallo@wfp.example")
    token = make_token(SECRET.encode(), amina.id, "2026-Q4")
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(f"From: amina.diallo@wfp.example\nSubject: unsubscribe {token}\n\n".encode())
    box.close()
    first = cli(project, "bounces", str(tmp_path / "box.mbox"))
    assert "NEWSLETTER_SECRET is not set; run again with it" in first.output
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    second = cli(project, "bounces", str(tmp_path / "box.mbox"))
    assert ": unsubscribed" in second.output
    assert get_contact(db, amina.id).status == "unsubscribed"


# -- the signed return path (VERP) --------------------------------------------------

SIGNED = 'return_path = "bounces+{token}@example.org"'


def signed(project, monkeypatch):
    """Set a signed return path and the secret, as a send with VERP had them."""
    settings = project / "pyproject.toml"
    settings.write_text(settings.read_text() + f"\n[tool.newsletter.send]\n{SIGNED}\n")
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)


def returned_to(db, email, issue="2026-Q4", message_id=None, secret=SECRET):
    """hard-5.1.1.eml as it comes back to ``email``'s signed envelope sender, quoting
    ``message_id`` (another contact's, or none) instead of gone.away's."""
    token = make_return_token(secret.encode(), get_contact(db, email).id, issue)
    text = (DATA / "hard-5.1.1.eml").read_text()
    text = text.replace("bounces@example.org", f"bounces+{token}@example.org")
    text = text.replace(PEOPLE["gone.away@unicef.example"], message_id or "<elsewhere@x.example>")
    return text.replace("<elsewhere@x.example>", "")  # no Message-ID left at all


def test_a_bounce_is_matched_by_its_signed_return_path_first(project, db, tmp_path, monkeypatch):
    signed(project, monkeypatch)
    # It names gone.away in its text and quotes full.box's Message-ID, but came back
    # to stays@'s envelope sender: the signed token is what we sent, so it decides.
    text = returned_to(db, "stays@ilo.example", message_id=PEOPLE["full.box@undp.example"])
    (tmp_path / "verp.eml").write_text(text)
    result = cli(project, "bounces", str(tmp_path / "verp.eml"))
    assert (result.exit_code, result.output) == (
        0,
        "verp.eml: hard bounce 5.1.1 for stays@ilo.example (issue 2026-Q4, by signed return"
        " path): marked bounced\n"
        "1 message: 1 hard bounce; 1 contact changed.\n",
    )
    assert [get_contact(db, e).status for e in PEOPLE if e != "stays@ilo.example"] == [
        "subscribed"
    ] * 7
    stays = get_contact(db, "stays@ilo.example")
    assert history(db, stays.id)[-1].source == "bounce:2026-Q4"


def test_a_lowercased_or_uppercased_return_path_still_matches(project, db, tmp_path, monkeypatch):
    signed(project, monkeypatch)
    text = returned_to(db, "stays@ilo.example")
    token = re.search(r"bounces\+(\w+)@", text).group(1)
    (tmp_path / "upper.eml").write_text(text.replace(token, token.upper()))
    result = cli(project, "bounces", str(tmp_path / "upper.eml"))
    assert "for stays@ilo.example (issue 2026-Q4, by signed return path): marked bounced" in (
        result.output
    )


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda t: t[:-2] + ("aa" if t[-2:] != "aa" else "bb"), id="damaged"),
        pytest.param(lambda t: t[:10], id="cut"),
        pytest.param(lambda t: None, id="another-secret"),
    ],
)
def test_a_forged_or_damaged_token_is_reported_not_applied(
    project, db, tmp_path, monkeypatch, damage
):
    signed(project, monkeypatch)
    # No Message-ID of ours beside it, and the address alone proves nothing.
    text = returned_to(db, "stays@ilo.example")
    token = re.search(r"bounces\+(\w+)@", text).group(1)
    bad = damage(token)
    if bad is None:
        text = returned_to(db, "stays@ilo.example", secret="another-secret-16+")
        bad = re.search(r"bounces\+(\w+)@", text).group(1)
    (tmp_path / "bad.eml").write_text(text.replace(token, bad))
    for _ in range(2):  # reported each run, never remembered, never applied
        result = cli(project, "bounces", str(tmp_path / "bad.eml"))
        assert (result.exit_code, result.output) == (
            0,
            "bad.eml: hard bounce 5.1.1 for gone.away@unicef.example: left unapplied, the token"
            f" of its signed return path ({bad}) does not verify: forged, damaged, or signed"
            " under another NEWSLETTER_SECRET\n"
            "1 message: 1 hard bounce, 1 left unapplied; 0 contacts changed.\n",
        )
    assert {get_contact(db, e).status for e in PEOPLE} == {"subscribed"}
    assert db.execute("SELECT count(*) FROM bounce_messages").fetchone()[0] == 0


def test_after_the_secret_is_rotated_a_message_id_of_ours_still_applies(
    project, db, tmp_path, monkeypatch
):
    """Rotating NEWSLETTER_SECRET revokes the links; it must not orphan the bounces of
    the issues sent before it, whose tokens no longer verify. Their Message-ID does."""
    signed(project, monkeypatch)
    text = returned_to(
        db, "stays@ilo.example", message_id=PEOPLE["stays@ilo.example"], secret="the-old-secret-16+"
    )
    (tmp_path / "old.eml").write_text(text)
    result = cli(project, "bounces", str(tmp_path / "old.eml"))
    assert (result.exit_code, result.output) == (
        0,
        "old.eml: hard bounce 5.1.1 for stays@ilo.example (issue 2026-Q4, by Message-ID; its"
        " signed return path does not verify): marked bounced\n"
        "1 message: 1 hard bounce; 1 contact changed.\n",
    )


def test_a_signed_return_path_waits_for_the_secret(project, db, tmp_path, monkeypatch):
    signed(project, monkeypatch)
    (tmp_path / "verp.eml").write_text(returned_to(db, "stays@ilo.example"))
    monkeypatch.delenv("NEWSLETTER_SECRET")
    first = cli(project, "bounces", str(tmp_path / "verp.eml"))
    assert first.output == (
        "verp.eml: hard bounce: skipped, a signed return path but NEWSLETTER_SECRET is not set;"
        " run again with it\n"
        "1 message: 1 hard bounce; 0 contacts changed.\n"
    )
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    second = cli(project, "bounces", str(tmp_path / "verp.eml"))
    assert "(issue 2026-Q4, by signed return path): marked bounced" in second.output


def test_without_token_in_the_setting_the_return_path_is_not_read(project, db, tmp_path):
    text = returned_to(db, "stays@ilo.example", message_id=PEOPLE["full.box@undp.example"])
    (tmp_path / "verp.eml").write_text(text)
    result = cli(project, "bounces", str(tmp_path / "verp.eml"))
    assert result.output.splitlines()[0] == (
        "verp.eml: hard bounce 5.1.1 for full.box@undp.example (issue 2026-Q4, by Message-ID):"
        " marked bounced"
    )


def redacted_complaint(db, email, secret=SECRET):
    """arf-abuse.eml as a provider sends it with the recipient redacted and no Message-ID:
    only the original's envelope sender, our signed return path, says who it was."""
    token = make_return_token(secret.encode(), get_contact(db, email).id, "2026-Q4")
    text = (DATA / "arf-abuse.eml").read_text()
    text = text.replace(
        "Original-Mail-From: <bounces@example.org>",
        f"Original-Mail-From: <bounces+{token}@example.org>",
    )
    text = text.replace("Original-Rcpt-To: <gone.away@unicef.example>\n", "")
    text = text.replace("To: gone.away@unicef.example\n", "To: redacted@yahoo.example\n")
    return text.replace(f"Message-ID: {PEOPLE['gone.away@unicef.example']}\n", "")


def test_a_complaint_with_the_address_redacted_is_matched_by_the_return_path(
    project, db, tmp_path, monkeypatch
):
    signed(project, monkeypatch)
    (tmp_path / "arf.eml").write_text(redacted_complaint(db, "amina.diallo@wfp.example"))
    result = cli(project, "bounces", str(tmp_path / "arf.eml"))
    assert (result.exit_code, result.output) == (
        0,
        "arf.eml: complaint from amina.diallo@wfp.example (issue 2026-Q4, by signed return path),"
        " feedback report: abuse from Yahoo!-Mail-Feedback/2.0: unsubscribed and suppressed\n"
        "1 message: 1 complaint; 1 contact changed.\n",
    )
    amina = get_contact(db, "amina.diallo@wfp.example")
    assert amina.status == "unsubscribed" and is_suppressed(db, amina.email)


def test_no_import_or_sync_brings_a_complainer_back(project, db, tmp_path):
    assert cli(project, "bounces", str(mbox(tmp_path, ["arf-abuse.eml"]))).exit_code == 0
    gone = "gone.away@unicef.example"
    # An import that lists them as subscribed again: noted, status kept.
    (project / "again.csv").write_text(f"Email,Name,Status\n{gone},Gone Away,subscribed\n")
    result = cli(project, "contacts", "import", str(project / "again.csv"))
    assert result.exit_code == 0, result.output
    assert "stays unsubscribed; an import never re-subscribes anyone" in result.output
    # A sync whose source owns their organisation and lists them.
    (project / "unicef.csv").write_text(f"Email,Name\n{gone},Gone Away\n")
    configure_sources(project, '{ organisation = "UNICEF", path = "unicef.csv" }')
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 0 and get_contact(db, gone).status == "unsubscribed", result.output
    # Even re-subscribed by hand, the send skips them: the ledger checks the suppression
    # list just before each message, whatever the status says.
    assert cli(project, "contacts", "edit", gone, "--resubscribe").exit_code == 0
    assert get_contact(db, gone).status == "subscribed" and is_suppressed(db, gone)
    # Erased and imported anew: the suppression list refuses the row.
    assert cli(project, "contacts", "remove", gone, "--purge", "--yes").exit_code == 0
    result = cli(project, "contacts", "import", str(project / "again.csv"))
    assert "is on the suppression list; it is never re-added" in result.output
    assert get_contact(db, gone) is None


def test_mail_that_is_not_a_bounce_is_named_so(project, db, tmp_path):
    delivered = (
        (DATA / "delayed.eml")
        .read_text()
        .replace("Action: delayed", "Action: delivered")
        .replace("Status: 4.4.1", "Status: 2.0.0")
    )
    box = mailbox.mbox(tmp_path / "box.mbox")
    box.add(b"From: a@b.example\nSubject: Hello there\nMessage-ID: <x@b.example>\n\nHi\n")
    box.add(delivered.encode())
    box.close()
    result = cli(project, "bounces", str(tmp_path / "box.mbox"))
    assert result.output.splitlines() == [
        "message 1: not a bounce: ignored ('Hello there')",
        "message 2: not a bounce for slow.server@who.example (issue 2026-Q4, by Message-ID):"
        " ignored (a report of successful delivery)",
        "2 messages: 2 not bounces; 0 contacts changed.",
    ]


def test_the_bounce_domain_s_postmaster_is_no_forged_token(project, db, tmp_path, monkeypatch):
    """With return_path = "{token}@bounces.example.org", a report that names the bounce
    domain's postmaster is still read by its Message-ID, not held as a forgery."""
    settings = project / "pyproject.toml"
    text = (
        settings.read_text()
        + '\n[tool.newsletter.send]\nreturn_path = "{token}@bounces.example.org"\n'
    )
    settings.write_text(text)
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    report = (DATA / "hard-5.1.1.eml").read_text()
    (tmp_path / "pm.eml").write_text(
        report.replace("bounces@example.org", "postmaster@bounces.example.org")
    )
    result = cli(project, "bounces", str(tmp_path / "pm.eml"))
    assert result.output.splitlines()[0] == (
        "pm.eml: hard bounce 5.1.1 for gone.away@unicef.example (issue 2026-Q4, by Message-ID):"
        " marked bounced"
    )


def test_a_complaint_is_the_ledger_s_contact_not_the_address_it_names(project, db, tmp_path):
    """An ARF report naming stays@ in Original-Rcpt-To but quoting gone.away's
    Message-ID: the ledger says whose copy it was; the named address changes nothing."""
    report = (DATA / "arf-abuse.eml").read_text()
    named = report.replace("Original-Rcpt-To: <gone.away@unicef.example>", "")
    named = named.replace("Source-IP:", "Original-Rcpt-To: <stays@ilo.example>\nSource-IP:")
    (tmp_path / "arf.eml").write_text(named.replace("To: gone.away@", "To: stays@"))
    result = cli(project, "bounces", str(tmp_path / "arf.eml"))
    assert result.output.splitlines()[0].startswith(
        "arf.eml: complaint from gone.away@unicef.example (issue 2026-Q4, by Message-ID)"
    )
    assert get_contact(db, "gone.away@unicef.example").status == "unsubscribed"
    assert get_contact(db, "stays@ilo.example").status == "subscribed"
    assert not is_suppressed(db, "stays@ilo.example")


def test_a_complaint_tied_by_nothing_but_an_address_waits_for_match_address(project, db, tmp_path):
    report = (DATA / "arf-abuse.eml").read_text()
    bare = report.replace(PEOPLE["gone.away@unicef.example"], "")
    (tmp_path / "arf.eml").write_text(bare.replace("Message-ID: \n", ""))
    for _ in range(2):
        result = cli(project, "bounces", str(tmp_path / "arf.eml"))
        assert "left unapplied, an address alone proves nothing" in result.output
        assert get_contact(db, "gone.away@unicef.example").status == "subscribed"
    assert not is_suppressed(db, "gone.away@unicef.example")
    applied = cli(project, "bounces", "--match-address", str(tmp_path / "arf.eml"))
    assert "unsubscribed and suppressed" in applied.output


def test_a_dmarc_failure_report_unsubscribes_no_one(project, db, tmp_path):
    """RFC 6591 auth-failure reports quote our message too; no reader complained."""
    report = (DATA / "arf-abuse.eml").read_text()
    (tmp_path / "auth.eml").write_text(
        report.replace("Feedback-Type: abuse", "Feedback-Type: auth-failure")
    )
    result = cli(project, "bounces", str(tmp_path / "auth.eml"))
    assert result.output == (
        "auth.eml: not a bounce for gone.away@unicef.example (issue 2026-Q4, by Message-ID):"
        " ignored (feedback report: auth-failure, not a complaint from a reader)\n"
        "1 message: 1 not a bounce; 0 contacts changed.\n"
    )
    assert get_contact(db, "gone.away@unicef.example").status == "subscribed"
    assert not is_suppressed(db, "gone.away@unicef.example")


DEPARTURES = [
    "departure-outlook.eml",
    "departure-gmail-vacation.eml",
    "departure-reponse-automatique.eml",
    "departure-respuesta-automatica.eml",
    "vacation-left-for-the-day.eml",
]


def test_departure_notices_become_proposed_changes_once(project, db, tmp_path):
    path = mbox(tmp_path, DEPARTURES)
    rows = db.execute("SELECT count(*) FROM history").fetchone()[0]
    first = cli(project, "bounces", str(path))
    review = "see newsletter directory review"

    def proposed(left):
        return f"proposed as left (proposal {left}), with the successor as a new contact; {review}"

    expected = [
        "message 1: auto-reply: departure notice from thomas.berger@unhcr.example (successor"
        " jane.doe@unhcr.example) for old.post@unhcr.example (issue 2026-Q4, by Message-ID): "
        + proposed(1),
        "message 2: auto-reply: departure notice from sara.okafor@gmail.example (successor"
        " psengagement@who.example) for slow.server@who.example (issue 2026-Q4, by Message-ID): "
        + proposed(2),
        "message 3: auto-reply: departure notice from claire.lefevre@ilo.example (successor"
        " paul.martin@ilo.example) for moved.on@ilo.example (issue 2026-Q4, by Message-ID): "
        + proposed(3),
        "message 4: auto-reply: departure notice from lherrera@unops.example (successor"
        " mgomez@unops.example) for no.such.user@unops.example (issue 2026-Q4, by Message-ID): "
        + proposed(4),
        "message 5: auto-reply for amina.diallo@wfp.example (issue 2026-Q4, by Message-ID):"
        " ignored (Automatic reply: The UN-Business Focal Point: December 2026)",
    ]
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[:-1] == expected
    # Nothing is applied: the editor decides (newsletter directory approve / reject).
    assert {get_contact(db, e).status for e in PEOPLE} == {"subscribed"}
    assert db.execute("SELECT count(*) FROM history").fetchone()[0] == rows
    queued = db.execute(
        "SELECT kind, source, contact_id, fields FROM proposals ORDER BY id"
    ).fetchall()
    assert [(k, s) for k, s, _, _ in queued] == [("left", "auto-reply")] * 4
    assert queued[0][2] == get_contact(db, "old.post@unhcr.example").id
    assert json.loads(queued[0][3]) == {"successor_email": "jane.doe@unhcr.example"}
    # Remembered: a second run proposes nothing twice.
    second = cli(project, "bounces", str(path))
    assert second.output.splitlines()[:5] == [
        f"message {n}: already processed; nothing to do" for n in range(1, 6)
    ]
    assert db.execute("SELECT count(*) FROM proposals").fetchone()[0] == 4


def test_a_second_departure_notice_for_the_same_person_proposes_nothing_more(project, db, tmp_path):
    raw = (DATA / "departure-outlook.eml").read_text()
    (tmp_path / "again.eml").write_text(raw.replace("Message-ID: <", "Message-ID: <again-", 1))
    path = mbox(tmp_path, ["departure-outlook.eml", tmp_path / "again.eml"])
    lines = cli(project, "bounces", str(path)).output.splitlines()
    assert lines[1].endswith(": already proposed as left; nothing more to do")
    assert db.execute("SELECT count(*) FROM proposals WHERE kind = 'left'").fetchone()[0] == 1


def test_a_departure_notice_tied_by_its_sender_alone_says_so(project, db, tmp_path):
    raw = (DATA / "departure-outlook.eml").read_text()
    raw = re.sub(r"(?m)^(In-Reply-To|References): .*\n", "", raw)
    contact = raw.replace("Thomas Berger <thomas.berger@unhcr.example>", "<stays@ilo.example>")
    (tmp_path / "contact.eml").write_text(contact)
    # From someone who is not a contact: nothing to review, ever; remembered.
    (tmp_path / "stranger.eml").write_text(raw)
    path = mbox(tmp_path, [tmp_path / "contact.eml", tmp_path / "stranger.eml"])
    result = cli(project, "bounces", str(path))
    assert result.output.splitlines() == [
        "message 1: auto-reply: departure notice from stays@ilo.example (successor"
        " jane.doe@unhcr.example) for stays@ilo.example (issue 2026-Q4, by address only, no"
        " Message-ID or signed return path): left unapplied, an address alone proves nothing;"
        " if it is real, run again with --match-address",
        "message 2: auto-reply: departure notice from thomas.berger@unhcr.example (successor"
        " jane.doe@unhcr.example): ignored, no Message-ID, and thomas.berger@unhcr.example is"
        " not a contact the ledger says we mailed",
        "2 messages: 2 departure notices, 1 left unapplied; 0 contacts changed.",
    ]
    again = cli(project, "bounces", str(path))
    assert again.output.splitlines()[1:] == [
        "message 2: already processed; nothing to do",
        "2 messages: 1 departure notice, 1 left unapplied, 1 already processed;"
        " 0 contacts changed.",
    ]
