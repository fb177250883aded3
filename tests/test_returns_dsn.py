"""newsletter.returns.dsn: what a returned message is (bounce, delay, auto-reply...) and its status."""

from __future__ import annotations

import base64
import json
import quopri
import re
import time
from pathlib import Path

import pytest

from newsletter.returns.dsn import classify, severity

DATA = Path(__file__).parent / "data" / "bounces"


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
        # A spam complaint (RFC 5965), which quotes the original whole.
        ("arf-abuse.eml", "complaint", "", "gone.away@unicef.example", "1111"),
        # A policy or spam block says nothing about the address: soft, whatever the code.
        ("gmail-5.7.1-spam.eml", "soft", "5.7.1", "valid.person@unicef.example", "1111"),
        (
            "office365-5.7.1-notauthorized.eml",
            "soft",
            "5.7.1",
            "valid.person@contoso.example",
            "1111",
        ),
        ("postfix-5.7.1-blocklist.eml", "soft", "5.7.1", "valid.person@ilo.example", "1111"),
        # Amazon SES notifications by mail (SNS), and Microsoft's complaint form (JMRP).
        ("ses-notification-bounce.eml", "hard", "5.1.1", "gone.away@unicef.example", "1111"),
        ("ses-notification-complaint.eml", "complaint", "", "gone.away@unicef.example", "1111"),
        ("jmrp-complaint.eml", "complaint", "", "gone.away@unicef.example", "1111"),
        (
            "sendmail-5.1.2-host-unknown.eml",
            "hard",
            "5.1.2",
            "someone@no-such-agency.example",
            "1111",
        ),
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
        # "failed" alone is a failure (RFC 3464), but nothing says the address is gone.
        ("", "soft", "5.0.0"),
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


@pytest.mark.parametrize(
    "action,status,kind",
    [
        ("failed (Bad destination mailbox address)", "5.1.1", "hard"),  # read as a success
        ("failure", "5.1.1", "hard"),
        ("error", "5.1.1", "hard"),
        ("Failed", "5.1.1", "hard"),
        ("delivered", "5.1.1", "hard"),  # a failure code wins over the wording
        ("delayed", "4.4.7", "delayed"),
        ("delivered", "2.0.0", "delivered"),
    ],
)
def test_any_failure_wording_of_the_action_is_a_failure(action, status, kind):
    """Issue 11: the Action had to be exactly "failed"; dead addresses kept being mailed."""
    report = (
        "From: MAILER-DAEMON@mx.example.org\nSubject: Undelivered Mail Returned to Sender\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; a@b.example\nAction: {action}\nStatus: {status}\n\n--b--\n"
    )
    b = classify(report.encode())
    assert (b.kind, b.status, b.recipients) == (kind, status, ("a@b.example",))


@pytest.mark.parametrize(
    "body,kind,status",
    [
        (  # Gmail's own words, and no code anywhere: a failure, but not known gone
            "Delivery to the following recipient failed permanently:\n\n"
            "     gone.away@unicef.example\n",
            "soft",
            "5.0.0",
        ),
        (  # the phrase wrapped by the server
            "The following address failed:\n\n  full.box@undp.example\n    Mail quota\n"
            "    exceeded for this recipient\n",
            "soft",
            "4.2.2",
        ),
        ("Sorry, the mailbox is\n full.\n\n  full.box@undp.example\n", "soft", "4.2.2"),
        ("User\tunknown:\n\n  gone.away@unicef.example\n", "hard", "5.1.1"),
    ],
)
def test_phrases_are_read_whatever_the_wording_or_wrapping(body, kind, status):
    message = (
        "From: Mail Delivery Subsystem <mailer-daemon@mx.example.org>\n"
        "Subject: Delivery Status Notification (Failure)\n\n" + body
    )
    b = classify(message.encode())
    assert (b.kind, b.status) == (kind, status)
    assert b.recipients and b.recipients[0].endswith(".example")


def test_severity_keeps_full_mailboxes_and_policy_blocks_soft():
    assert [severity(s) for s in ("5.1.1", "5.1.10", "5.1.2", "5.4.4")] == ["hard"] * 4
    soft = ("4.2.2", "5.2.2", "5.7.1", "5.3.4", "4.4.7", "5.0.0", "5.2.1")
    assert [severity(s) for s in soft] == ["soft"] * 7


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
    assert classify(truncated).kind in ("hard", "soft", "malformed", "other")


def test_a_feedback_report_is_a_complaint_with_where_it_was_delivered_to():
    b = classify((DATA / "arf-abuse.eml").read_bytes())
    assert b.reason == "feedback report: abuse from Yahoo!-Mail-Feedback/2.0"
    # The signed return path's token travels in the address the report went to.
    assert b.envelope_to == ("bounces+AbCdEf.GhIj@example.org",)


@pytest.mark.parametrize(
    "headers,expected",
    [
        ("To: a@example.org\n", ("a@example.org",)),
        (
            "Delivered-To: b+t.s@example.org\nTo: Undisclosed recipients:;\n",
            ("b+t.s@example.org",),
        ),
        (
            "X-Original-To: c@example.org\nDelivered-To: c@example.org\nTo: d@example.org\n",
            ("c@example.org", "d@example.org"),
        ),
        ("", ()),
    ],
)
def test_envelope_to_lists_where_the_message_went_most_specific_first(headers, expected):
    raw = f"From: MAILER-DAEMON@mx.example\nSubject: hello\n{headers}\nbody\n"
    assert classify(raw.encode()).envelope_to == expected


# What each fixture is, in the words, and why, in Sisimai's.
CATEGORIES = {
    "hard": "hard bounce",
    "soft": "soft bounce",
    "complaint": "complaint",
    "auto-reply": "auto-reply",
    "delayed": "delivery delay",
    "other": "not a bounce",
    "delivered": "not a bounce",
    "unsubscribe": "not a bounce",
    "malformed": "unreadable",
}


SAMPLE_CAUSES = [
    ("arf-abuse.eml", "complaint", "feedback"),
    ("automatische-antwort.eml", "auto-reply", "vacation"),
    ("departure-gmail-vacation.eml", "auto-reply", "departure"),
    ("departure-outlook.eml", "auto-reply", "departure"),
    ("departure-reponse-automatique.eml", "auto-reply", "departure"),
    ("departure-respuesta-automatica.eml", "auto-reply", "departure"),
    ("broken-mime.eml", "hard bounce", "userunknown"),
    ("delayed.eml", "delivery delay", "expired"),
    ("domino.eml", "hard bounce", "userunknown"),
    ("exchange-legacy.eml", "hard bounce", "userunknown"),
    ("exchange-text.eml", "hard bounce", "userunknown"),  # 5.1.10 RecipientNotFound
    ("exim-5.1.1.eml", "hard bounce", "userunknown"),
    ("expired-4.4.7.eml", "soft bounce", "expired"),
    ("german-latin1.eml", "hard bounce", "userunknown"),
    ("global-5.1.1.eml", "hard bounce", "userunknown"),
    ("gmail-5.1.1.eml", "hard bounce", "userunknown"),
    ("gmail-5.2.2.eml", "soft bounce", "mailboxfull"),
    ("gmail-5.7.1-spam.eml", "soft bounce", "spamdetected"),
    ("jmrp-complaint.eml", "complaint", "feedback"),
    ("hard-5.1.1.eml", "hard bounce", "userunknown"),  # Postfix
    ("mailgun-style.eml", "hard bounce", "userunknown"),
    ("malformed.eml", "unreadable", ""),
    ("no-message-id.eml", "hard bounce", "userunknown"),
    ("office365-5.1.10.eml", "hard bounce", "userunknown"),
    ("office365-5.7.1-notauthorized.eml", "soft bounce", "filtered"),
    ("ooo-no-longer-monitored.eml", "auto-reply", "departure"),  # "as I have left UNICEF"
    ("out-of-office.eml", "auto-reply", "vacation"),
    ("outlook-delivery-has-failed.eml", "hard bounce", "userunknown"),
    ("postfix-5.7.1-blocklist.eml", "soft bounce", "blocked"),
    ("qmail.eml", "hard bounce", "userunknown"),
    ("references-only.eml", "hard bounce", "userunknown"),
    ("sendmail-5.1.1.eml", "hard bounce", "userunknown"),
    ("sendmail-5.1.2-host-unknown.eml", "hard bounce", "hostunknown"),
    ("ses-5.1.1.eml", "hard bounce", "userunknown"),
    ("ses-notification-bounce.eml", "hard bounce", "userunknown"),
    ("ses-notification-complaint.eml", "complaint", "feedback"),
    ("soft-4.2.2.eml", "soft bounce", "mailboxfull"),
    ("status-5.0.0-mailbox-full.eml", "soft bounce", "mailboxfull"),
    ("vacation-absent-du-bureau.eml", "auto-reply", "vacation"),
    ("vacation-left-for-the-day.eml", "auto-reply", "vacation"),
    ("yahoo-554.eml", "hard bounce", "userunknown"),
]


@pytest.mark.parametrize("name,category,why", SAMPLE_CAUSES)
def test_every_sample_has_a_category_and_a_cause(name, category, why):
    b = classify((DATA / name).read_bytes())
    assert (CATEGORIES[b.kind], b.cause) == (category, why)


def test_every_sample_is_in_the_category_table():
    assert sorted(name for name, _, _ in SAMPLE_CAUSES) == sorted(
        p.name for p in DATA.glob("*.eml")
    )


BOUNCE = (
    "From: MAILER-DAEMON@mx.example.org\nTo: bounces@example.org\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
    "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
    "{fields}\nAction: failed\nStatus: 5.1.1\n\n--b--\n"
)


def test_the_address_as_we_sent_it_comes_first():
    """Original-Recipient is the contact's address; Final-Recipient may be an alias's."""
    fields = (
        "Final-Recipient: rfc822; HAASM@host.ilo.example\nOriginal-Recipient: rfc822;a@ilo.example"
    )
    assert classify(BOUNCE.format(fields=fields).encode()).recipients == ("a@ilo.example",)


def test_exchange_smtp_prefix_is_not_part_of_the_address():
    text = (
        "From: System Administrator <postmaster@contoso.example>\nTo: bounces@example.org\n"
        "Subject: Undeliverable: The UN-Business Focal Point\n\n"
        "Your message did not reach some or all of the intended recipients.\n\n"
        "The following recipient(s) could not be reached:\n\n"
        "     ann@contoso.example on 15/12/2026 10:00\n"
        "            The e-mail account does not exist at the organization this message was sent to.\n"
        "            <mx.contoso.example #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>\n"
        "            MSEXCH:IMS:Contoso:MAIN 0 (000C05A6) Unknown Recipient c=US;dda:SMTP=ann@contoso.example;\n"
    )
    b = classify(text.encode())
    assert (b.kind, b.recipients) == ("hard", ("ann@contoso.example",))


def test_the_bounce_s_own_addresses_are_never_the_failed_one():
    text = (
        "From: MAILER-DAEMON@mx.example.org\nTo: list-bounces@example.org\n"
        "Subject: Returned mail: User unknown\n\n"
        "550 5.1.1 <gone@unicef.example>... User unknown\n"
        "(sent by list-bounces@example.org through mx.example.org)\n"
    )
    assert classify(text.encode()).recipients == ("gone@unicef.example",)


UNREADABLE = (
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: bounces@example.org\n"
    "Subject: Mail System Error - Returned Mail\n\n"
    "Here is your list of failed recipients:\n\n<gone@unicef.example>\n\n"
    "Here is your returned mail:\n\nSubject: The UN-Business Focal Point\n"
)


def test_a_bounce_ours_cannot_read_gets_flufl_bounce_s_second_opinion():
    """No code and no wording ours knows; flufl.bounce (Mailman's SimpleMatch) names
    the address, as permanent. Nothing says the address is gone, so it stays soft."""
    b = classify(UNREADABLE.encode())
    assert (b.kind, b.status, b.cause, b.recipients) == (
        "soft",
        "5.0.0",
        "onhold",
        ("gone@unicef.example",),
    )
    assert b.reason.startswith("read by flufl.bounce")


def test_ordinary_mail_gets_no_second_opinion():
    """flufl.bounce's generic patterns find "failed" addresses in a person's words too;
    it is consulted only on what says it is a bounce."""
    text = UNREADABLE.replace("MAILER-DAEMON@", "jane@").replace("Mail Delivery System", "Jane")
    text = text.replace("Mail System Error - Returned Mail", "About the newsletter")
    assert classify(text.encode()).kind == "other"
    assert classify(text.encode()).recipients == ()


SES = (DATA / "ses-notification-bounce.eml").read_text()
SES_JSON = SES[SES.index("{") : SES.rindex("}") + 1]


@pytest.mark.parametrize(
    "change,kind,status,why",
    [
        ({}, "hard", "5.1.1", "userunknown"),
        ({"bounceType": "Transient"}, "soft", "5.1.1", "userunknown"),  # SES: it may pass
        ({"bounceSubType": "MailboxFull"}, "soft", "5.1.1", "mailboxfull"),  # subtype says more
        ({"bounceSubType": "OnAccountSuppressionList"}, "soft", "5.1.1", "onhold"),
        (
            {"bouncedRecipients": [{"emailAddress": "gone.away@unicef.example"}]},
            "soft",
            "5.0.0",
            "undefined",
        ),
        (
            {
                "bouncedRecipients": [{"emailAddress": "gone.away@unicef.example"}],
                "bounceSubType": "NoEmail",
            },
            "hard",
            "5.0.0",
            "userunknown",
        ),
    ],
)
def test_amazon_ses_bounce_notifications(change, kind, status, why):
    notice = json.loads(SES_JSON)
    notice["bounce"].update(change)
    b = classify(SES.replace(SES_JSON, json.dumps(notice)).encode())
    assert (b.kind, b.status, b.cause, b.recipients) == (
        kind,
        status,
        why,
        ("gone.away@unicef.example",),
    )
    assert b.message_ids == ("<2026-Q4.1111111111111111@example.org>",)


def test_amazon_ses_notice_inside_sns_json_envelope():
    """An "email-json" subscription wraps SES's notification in SNS's own JSON."""
    envelope = json.dumps(
        {"Type": "Notification", "MessageId": "6f0d", "Message": SES_JSON}, indent=2
    )
    b = classify(SES.replace(SES_JSON, envelope).encode())
    assert (b.kind, b.status, b.recipients) == ("hard", "5.1.1", ("gone.away@unicef.example",))


def test_amazon_ses_notice_folded_by_the_way_is_still_read():
    folded = SES_JSON[:700] + "\n" + SES_JSON[700:]
    assert classify(SES.replace(SES_JSON, folded).encode()).kind == "hard"


def test_json_from_anyone_else_is_not_an_ses_notice():
    text = SES.replace("no-reply@sns.amazonaws.com", "jane@unicef.example")
    text = text.replace("x-amz-sns-message-id", "x-other").replace("AWS Notification Message", "hi")
    assert classify(text.encode()).kind == "other"


def test_an_amazon_ses_delivery_notice_is_a_success_report():
    notice = json.loads(SES_JSON)
    del notice["bounce"]
    notice.update(
        notificationType="Delivery", delivery={"recipients": ["gone.away@unicef.example"]}
    )
    b = classify(SES.replace(SES_JSON, json.dumps(notice)).encode())
    assert (b.kind, b.recipients, b.cause) == (
        "delivered",
        ("gone.away@unicef.example",),
        "delivered",
    )


def test_a_failure_neither_reader_can_explain_is_soft_and_names_no_message_id():
    """A daemon's "Mail delivery failed" with no code and no known wording is still a
    failure of the message it quotes (soft: nothing says the address is gone); the
    quoted Message-ID is not an address that failed."""
    text = (
        "From: MAILER-DAEMON <>\nTo: bounces@example.org\nSubject: Mail delivery failed\n\n"
        "The mail system could not finish the job for gone@unicef.example.\n\n"
        "Message-ID: <2026-Q4.1111111111111111@example.org>\n"
    )
    b = classify(text.encode())
    assert (b.kind, b.status, b.cause, b.recipients) == (
        "soft",
        "5.0.0",
        "onhold",
        ("gone@unicef.example",),
    )
    assert b.message_ids == ("<2026-Q4.1111111111111111@example.org>",)
    notice = text.replace("Mail delivery failed", "Delivery Status Notification")
    assert classify(notice.encode()).kind == "other"  # says nothing failed


@pytest.mark.parametrize(
    "feedback_type,kind",
    [
        ("abuse", "complaint"),
        ("fraud", "complaint"),
        ("opt-out", "complaint"),
        # A DMARC/SPF failure report (RFC 6591), "not spam", a server's virus scan: none
        # is a reader asking for no more mail, so none may unsubscribe anyone.
        ("auth-failure", "other"),
        ("not-spam", "other"),
        ("virus", "other"),
    ],
)
def test_only_a_reader_s_feedback_report_is_a_complaint(feedback_type, kind):
    data = (DATA / "arf-abuse.eml").read_bytes()
    data = data.replace(b"Feedback-Type: abuse", f"Feedback-Type: {feedback_type}".encode())
    b = classify(data)
    assert b.kind == kind
    assert b.message_ids == ("<2026-Q4.1111111111111111@example.org>",)


@pytest.mark.parametrize(
    "name,status,recipient",
    [
        ("qmail.eml", "5.1.1", "no.such.user@unops.example"),
        ("yahoo-554.eml", "5.1.1", "someone@yahoo.example"),
        ("exchange-text.eml", "5.1.10", "ann@contoso.example"),
    ],
)
def test_line_ends_of_cr_alone_are_read_as_lines(name, status, recipient):
    """Old Mac mail saved to a file (Sisimai's maildir/mac set) ends lines with CR;
    16 of its 56 samples read differently from their LF copies before."""
    data = (DATA / name).read_bytes().replace(b"\r\n", b"\n")
    b = classify(data.replace(b"\n", b"\r"))
    assert (b.kind, b.status, b.recipients) == ("hard", status, (recipient,))


def test_the_remote_server_s_code_outranks_a_relay_s_label_before_it():
    """Google's relays (SES's "5.1.0 - Unknown address error") put their own code and
    its name first; the remote reply after it says it was a policy block (Sisimai's
    lhost-amazonses-01: securityerror), so no address is retired."""
    report = (DATA / "hard-5.1.1.eml").read_text()
    data = re.sub(
        r"Diagnostic-Code: .*\n(?:[ \t].*\n)*",
        "Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'5.7.1 "
        "<bounces@example.org>... Access denied' (delivery attempts: 0)\n",
        report,
    ).replace("Status: 5.1.1", "Status: 5.0.0")
    b = classify(data.encode())
    assert (b.kind, b.status, b.cause) == ("soft", "5.7.1", "blocked")
    inner_gone = data.replace("550-'5.7.1", "550-'5.1.1")
    assert (classify(inner_gone.encode()).kind, classify(inner_gone.encode()).status) == (
        "hard",
        "5.1.1",
    )


PATHOLOGICAL = (
    "From: MAILER-DAEMON@example.org\nTo: bounces@example.org\n"
    "Subject: Undelivered Mail Returned to Sender\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
    "Content-Type: {}\n\n{}"
)


# Each cost the square of its length or worse before: 20 KB of blank lines 52 s (a
# "\s*" at each line start ran across all the blank lines after it), 100 KB with no
# "@" some 35 s (an address pattern tried from every letter), and a 10 MB body of a
# repeated phrase 10 to 65 s (flufl.bounce tests every line with dozens of patterns).
@pytest.mark.parametrize(
    "shape,size,content_type",
    [
        ("\n", 20_000, "text/plain"),
        (" \t\n", 20_000, "text/plain"),
        ("  \n", 20_000, "text/html"),
        ("a", 100_000, "text/plain"),
        ("<", 300_000, "text/html"),
        ("no such ", 10_000_000, "text/plain"),
    ],
)
def test_a_huge_or_pathological_body_is_read_in_bounded_time(shape, size, content_type):
    data = PATHOLOGICAL.format(content_type, shape * (size // len(shape))).encode()
    start = time.perf_counter()
    b = classify(data)
    assert time.perf_counter() - start < 5
    assert b.kind == "soft"  # a daemon's failure notice that says nothing: soft


# Real-looking auto-replies: who sent each, and the successor it names ("" for none).
@pytest.mark.parametrize(
    "name,cause,sender,successor",
    [
        # Outlook "Automatic reply:", text and HTML: "please contact my successor ... at".
        ("departure-outlook.eml", "departure", "thomas.berger@unhcr.example", "jane.doe@unhcr.example"),
        # Gmail's vacation responder, "Re:" subject: "now handled by the ... team:".
        ("departure-gmail-vacation.eml", "departure", "sara.okafor@gmail.example", "psengagement@who.example"),
        # "Réponse automatique :", quoted-printable, typographic apostrophe, "veuillez contacter".
        ("departure-reponse-automatique.eml", "departure", "claire.lefevre@ilo.example", "paul.martin@ilo.example"),
        # "Respuesta automática:", 8-bit: "ya no trabaja", "Por favor contacte a".
        ("departure-respuesta-automatica.eml", "departure", "lherrera@unops.example", "mgomez@unops.example"),
        # A generic mailbox is still a useful hint: kept, never guessed beyond.
        ("ooo-no-longer-monitored.eml", "departure", "paolo.ferri@unicef.example", "partnerships@unicef.example"),
        # Vacations, with "please contact" and "left" in its other senses: no departure.
        ("out-of-office.eml", "vacation", "", ""),
        ("vacation-left-for-the-day.eml", "vacation", "", ""),
        ("vacation-absent-du-bureau.eml", "vacation", "", ""),
        ("automatische-antwort.eml", "vacation", "", ""),
    ],
)  # fmt: skip
def test_a_departure_notice_names_its_sender_and_successor(name, cause, sender, successor):
    b = classify((DATA / name).read_bytes())
    assert (b.kind, b.cause, b.successor) == ("auto-reply", cause, successor)
    assert b.recipients == ((sender,) if sender else ())


REPLY = (
    "From: Ann Lee <ann.lee@unfpa.example>\nTo: focalpoint@example.org\n"
    "Subject: Automatic reply: The UN-Business Focal Point\nAuto-Submitted: auto-replied\n"
    "In-Reply-To: <2026-Q4.1111111111111111@example.org>\n"
    "Content-Type: text/plain; charset=utf-8\n\n{body}\n"
)


@pytest.mark.parametrize(
    "body,cause,successor",
    [
        ("Ann Lee is no longer with UNFPA.", "departure", ""),
        ("I am no\n   longer WORKING at UNFPA; please write to\nbo.chen@unfpa.example", "departure",
         "bo.chen@unfpa.example"),
        ("Ann has retired. Contact: Bo.Chen@UNFPA.example.", "departure", "Bo.Chen@UNFPA.example"),
        ("She has left the organization. Her address ann.lee@unfpa.example is closed.",
         "departure", ""),  # no cue before it, and it is the sender's own
        ("Ann no longer works here. Questions to focalpoint@example.org or contact "
         "ann.lee@unfpa.example", "departure", ""),  # ours and the sender's: never a successor
        ("Mme Lee ne fait plus partie de l'UNFPA.", "departure", ""),
        ("Ann Lee a quitte l'UNFPA ; veuillez contacter bo.chen@unfpa.example", "departure",
         "bo.chen@unfpa.example"),
        ("Elle n’est plus en poste.", "departure", ""),
        ("Ya no forma parte de UNFPA. Escriba a bo.chen@unfpa.example", "departure",
         "bo.chen@unfpa.example"),
        ("Ann ha dejado la organización.", "departure", ""),
        # Vacations: plain auto-replies, whatever address they give.
        ("I am out of the office until 4 January. Please contact bo.chen@unfpa.example",
         "vacation", ""),
        ("Back on Monday. If you have left me a voicemail I will call back.", "vacation", ""),
        ("I have left the office for the day.", "vacation", ""),
        ("Je suis absente et j'ai quitté le bureau pour les fêtes.", "vacation", ""),
        ("Si me ha dejado un mensaje, le responderé.", "vacation", ""),
        ("I left early today, no longer in the office until Monday.", "vacation", ""),
        # The quoted copy of our newsletter is not the reply's words.
        ("Back on Monday.\n\nOn Tue, 15 Dec 2026, UNGC wrote:\n> Ann has left UNICEF", "vacation",
         ""),
    ],
)  # fmt: skip
def test_departure_phrases_and_successors(body, cause, successor):
    b = classify(REPLY.format(body=body).encode())
    assert (b.kind, b.cause, b.successor) == ("auto-reply", cause, successor)


def test_a_departure_phrase_in_a_person_s_own_mail_is_not_an_auto_reply():
    """Only auto-replies are read for departures: a person's note stays "other"."""
    raw = REPLY.format(body="I have left UNICEF.").replace("Auto-Submitted: auto-replied\n", "")
    b = classify(raw.replace("Automatic reply: ", "Re: ").encode())
    assert (b.kind, b.cause) == ("other", "")


@pytest.mark.parametrize(
    "body",
    [
        "has left " * 20_000,
        "please contact " * 10_000 + "x@y.example " * 5_000,
        "no longer with " + "contact ann.lee@unfpa.example " * 4_000,  # the sender's, each
        "no longer with " + "x@y.example " * 8_000,  # no cue before any
        "On " + "x" * 100_000 + " wrote:\n",
        "a" * 200_000 + "@",
    ],
)
def test_a_huge_auto_reply_is_read_in_bounded_time(body):
    start = time.perf_counter()
    b = classify(REPLY.format(body=body).encode())
    assert time.perf_counter() - start < 2
    assert b.kind == "auto-reply"


def test_a_huge_header_is_read_only_so_far():
    """Decoding encoded words is slow on a huge header: only its start is read."""
    import email

    from newsletter.returns.dsn import MAX_HEADER, _header

    words = "=?utf-8?q?Abwesenheitsnotiz_?= " * 60_000  # about 2 MB
    msg = email.message_from_string(f"Subject: {words}\n\nbody\n")
    text = _header(msg, "Subject")
    assert text.startswith("Abwesenheitsnotiz")
    assert len(text) <= MAX_HEADER
