"""intake.message: one email read as a contribution, or the reason it is none."""

from __future__ import annotations

import datetime as dt
import time
from email.message import EmailMessage

import pytest
from intake_mail import auto_reply, bounce, plain

from newsletter.intake import Contribution, Skip, key_of, read_message

SECTIONS = ("news", "tools", "events", "spotlight")


def mail(body: str = "A short note.\n", subject: str | None = "A note", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Ann Lee <Ann@WHO.example>")
    if subject is not None:
        msg["Subject"] = subject
    msg["Message-ID"] = "<m1@who.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def read(data: bytes) -> Contribution:
    found = read_message(data, SECTIONS)
    assert isinstance(found, Contribution), found
    return found


@pytest.mark.parametrize(
    "line,date,warnings",
    [
        ("Date: 12 March 2027", dt.date(2027, 3, 12), ()),
        ("Date: 12 Mar 2027", dt.date(2027, 3, 12), ()),
        ("Date: March 12, 2027", dt.date(2027, 3, 12), ()),
        ("date:   2027-03-12", dt.date(2027, 3, 12), ()),
        ("Date: 29 February 2028", dt.date(2028, 2, 29), ()),
        ("Date: 29 February 2027", None, ("date '29 February 2027' is not a real date; ignored",)),
        ("Date: 2027-13-01", None, ("date '2027-13-01' is not a real date; ignored",)),
        ("Date: next Tuesday", None, ("date 'next Tuesday' is not a real date; ignored",)),
        ("Date: 12/03/2027", None, ("date '12/03/2027' is not a real date; ignored",)),
        ("The date: is not a field here", None, ()),
    ],
)
def test_a_date_written_plainly_is_read_strictly(line, date, warnings):
    found = read(mail(f"{line}\n\nOur news.\n"))
    assert (found.date, found.warnings) == (date, warnings)


@pytest.mark.parametrize(
    "line,section,warnings",
    [
        ("Section: events", "events", ()),
        ("SECTION: Tools", "tools", ()),
        (
            "Section: gossip",
            None,
            ("section 'gossip' is not one of news, tools, events, spotlight; ignored",),
        ),
        ("", None, ()),
    ],
)
def test_a_section_must_be_a_house_section(line, section, warnings):
    found = read(mail(f"{line}\n\nOur news.\n"))
    assert (found.section, found.warnings) == (section, warnings)


@pytest.mark.parametrize("separator", ["-- ", "--"])
def test_a_signature_is_not_in_the_summary(separator):
    # Its phone and address would be printed in the email and the archive.
    body = f"Our news.\n\n{separator}\nJane Doe, UNICEF\n+41 22 555 0100\njane@unicef.example\n"
    found = read(mail(body))
    assert found.summary == "Our news."


def test_a_dash_line_inside_the_text_is_no_signature():
    found = read(mail("Our news.\n--- a rule ---\nMore news.\n"))
    assert "More news." in found.summary


def test_the_field_lines_are_not_in_the_summary():
    found = read(mail("Section: events\nDate: 12 March 2027\n\nOur news.\n"))
    assert found.summary == "Our news."


@pytest.mark.parametrize(
    "subject,title",
    [
        ("=?utf-8?q?R=C3=A9union_des_points_focaux?=", "Réunion des points focaux"),
        ("=?utf-8?q?Line_one=0D=0A=09line_two?=", "Line one line two"),
        ("Evil \u202etxt.exe\u202c title", "Evil txt.exe title"),
        ("Tab\there\x07bell", "Tab herebell"),
        ("x" * 1_000_000, "x" * 200),
        ("", "A short note."),  # no subject: the text's first line
    ],
)
def test_the_subject_becomes_one_safe_line(subject, title):
    found = read(mail(subject=None, **({"Subject": subject} if subject else {})))
    assert found.title == title


def test_a_subject_with_raw_line_breaks_in_the_bytes_stays_one_line():
    data = (
        b"From: Ann <ann@who.example>\r\nSubject: First\r\n part\rsecond\nMessage-ID: <x@y>\r\n"
        b"\r\nSome text.\r\n"
    )
    assert read(data).title == "First part"


@pytest.mark.parametrize(
    "make,why",
    [
        (auto_reply, "an auto-reply"),
        (bounce, "a delivery report, not a contribution"),
        (lambda: mail(X_Autoreply="yes"), "an auto-reply"),
        (lambda: mail(Precedence="auto_reply"), "an auto-reply"),
        (lambda: mail(Subject="Out of office: back Monday", subject=None), "an auto-reply"),
        (lambda: mail(Precedence="bulk"), "mass mail (Precedence: bulk, junk or list)"),
        (lambda: mail(Precedence="junk"), "mass mail (Precedence: bulk, junk or list)"),
        (lambda: mail(" \n\n"), "no text"),
        (lambda: mail("Section: news\nDate: 12 March 2027\n"), "no text"),
    ],
)
def test_what_is_no_contribution_is_skipped_with_its_reason(make, why):
    assert read_message(make(), SECTIONS) == Skip(why)


def test_html_is_sanitised_before_it_becomes_markdown():
    msg = EmailMessage()
    msg["From"] = "ann@who.example"
    msg["Subject"] = "HTML"
    msg.set_content(
        '<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:alert(2)">bad</a> '
        '<a href="https://who.example/a?utm_medium=mail">good</a><img src="https://t.example/p.gif"></p>',
        subtype="html",
    )
    found = read(msg.as_bytes())
    # A link with no address left is kept as HTML: the house sanitiser's output either way.
    assert found.summary == (
        '<p>Hi <a rel="noopener noreferrer">bad</a> '
        '<a href="https://who.example/a?utm_medium=mail" rel="noopener noreferrer">good</a></p>'
    )
    assert found.link == "https://who.example/a"


def test_text_plain_is_preferred_to_html():
    msg = EmailMessage()
    msg["From"] = "ann@who.example"
    msg["Subject"] = "Both"
    msg.set_content("The plain words.\n")
    msg.add_alternative("<p>The <b>HTML</b> words.</p>", subtype="html")
    assert read(msg.as_bytes()).summary == "The plain words."


def test_a_wrong_charset_is_read_as_utf8_not_a_crash():
    data = (
        b"From: ann@who.example\r\nSubject: Charset\r\n"
        b"Content-Type: text/plain; charset=x-no-such\r\n\r\nCaf\xc3\xa9 news.\r\n"
    )
    assert read(data).summary == "Café news."


def test_the_sender_is_one_line_and_the_address_lower_case():
    found = read(mail(From='"Lee,\u202e Ann" <Ann.Lee@WHO.example>'))
    assert (found.name, found.address) == ("Lee, Ann", "ann.lee@who.example")


def test_inline_pictures_count_as_attachments():
    msg = EmailMessage()
    msg["From"] = "ann@who.example"
    msg["Subject"] = "With a picture"
    msg.set_content("See the picture.\n")
    msg.add_related(b"\x89PNG", maintype="image", subtype="png", cid="<p1>")
    assert read(msg.as_bytes()).attachments == 1


@pytest.mark.parametrize(
    "data,key",
    [
        (b"Message-ID: <a@b>\r\n\r\nx", "id:a@b"),
        (b"Subject: s\nmessage-id:\n <folded@b>\n\nx", "id:folded@b"),
        (b"Subject: s\n\nMessage-ID: <in-the-body@b>\n", None),
        (b"Message-ID: <" + b"x" * 300 + b">\n\nx", None),
    ],
)
def test_a_message_is_known_by_its_message_id_else_by_a_digest(data, key):
    found = key_of(data)
    if key is None:
        assert found.startswith("sha256:") and len(found) == 7 + 64
    else:
        assert found == key


def test_the_same_bytes_give_the_same_key():
    stripped = plain().replace(b"Message-ID: <plain@unicef.example>\n", b"")
    assert key_of(stripped) == key_of(stripped) != key_of(stripped + b"more")


def test_a_1_mb_subject_of_many_words_is_read_in_seconds_not_minutes():
    # The default email policy's header parser took 18 s over this on one core.
    data = b"From: a@b.example\r\nSubject: " + b"y " * 500_000 + b"\r\n\r\nText.\r\n"
    start = time.monotonic()
    found = read(data)
    assert time.monotonic() - start < 6
    assert found.title == " ".join(["y"] * 100)[:200].strip()


@pytest.mark.parametrize(
    "quoted",
    [
        "---------- Forwarded message ---------\nFrom: X <x@y>\nDate: Mon, Oct 5, 2026",
        "-----Original Message-----\nFrom: X\nSent: Monday\nDate: 1 June 2020",
        "From: X <x@y>\nSent: Monday, 5 October 2026\nSection: gossip",
        "Begin forwarded message:\n\nDate: 31 February 2027",
        "> Date: 31 February 2027",
    ],
)
def test_fields_in_a_forwarded_or_quoted_message_are_not_the_contributions(quoted):
    found = read(mail(f"Section: tools\n\nOur news.\n\n{quoted}\n"))
    assert (found.section, found.date, found.warnings) == ("tools", None, ())


def test_an_outlook_reply_header_in_html_ends_the_senders_own_words():
    msg = EmailMessage()
    msg["From"] = "ann@who.example"
    msg["Subject"] = "Fw: Forum"
    msg.set_content(
        "<p>Section: events</p><p>See below.</p>"
        "<p><b>From:</b> Forum &lt;f@x.example&gt;<br><b>Sent:</b> Monday<br>"
        "<b>Date:</b> 31 February 2027</p><p>The forum.</p>",
        subtype="html",
    )
    found = read(msg.as_bytes())
    assert (found.section, found.date, found.warnings) == ("events", None, ())
    assert found.summary.startswith("See below.\n\n**From:**")
