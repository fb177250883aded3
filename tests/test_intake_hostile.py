"""intake: hostile and unusual contribution emails, read as a real mail client sends them."""

from __future__ import annotations

import email.utils
import mailbox
import time
from pathlib import Path

import pytest
from helpers import cli
from hypothesis import given
from hypothesis import strategies as st

from newsletter.contacts import add_contact
from newsletter.intake import Contribution, key_of, read_message
from newsletter.intake.call import silent_holders
from newsletter.models import Contact
from newsletter.store import open_db, seats
from newsletter.store.contacts import create_contact

SECTIONS = ("news", "tools", "events", "spotlight")


def maildir_of(path: Path, messages: list[bytes]) -> Path:
    mailbox.Maildir(path, create=True).close()
    for n, data in enumerate(messages):
        (path / "new" / f"m{n}").write_bytes(data)
    return path


def read(data: bytes) -> Contribution:
    found = read_message(data, SECTIONS)
    assert isinstance(found, Contribution), found
    return found


@pytest.mark.parametrize(
    "head,title,name,address",
    [
        # RFC 6532: a client may send UTF-8 in the headers themselves, unencoded.
        (
            b"From: J\xc3\xa9r\xc3\xb4me <j@who.int>\r\nSubject: Caf\xc3\xa9 news",
            "Café news",
            "Jérôme",
            "j@who.int",
        ),
        (b"From: Ann <ann@b\xc3\xbccher.example>\r\nSubject: x", "x", "Ann", "ann@bücher.example"),
        # The ASCII form of an international domain, as most clients write it, is stored
        # as the contacts keep it (contacts.fields.normalise_email).
        (b"From: Ann <Ann@XN--BCHER-KVA.example>\r\nSubject: x", "x", "Ann", "ann@bücher.example"),
        # Not 8-bit and not UTF-8: still one line, never a crash.
        (
            b"From: \xff\xfe <j@who.int>\r\nSubject: \xe9t\xe9",
            "\ufffdt\ufffd",
            "\ufffd\ufffd",
            "j@who.int",
        ),
    ],
)
def test_utf8_headers_and_international_domains_are_read_as_written(head, title, name, address):
    found = read(head + b"\r\nMessage-ID: <u@who.int>\r\n\r\nOur news.\r\n")
    assert (found.title, found.name, found.address) == (title, name, address)


def test_a_sender_writing_their_domain_in_ascii_is_the_contact_with_the_unicode_one(
    contributors, tmp_path
):
    db = open_db(contributors / "contacts.db")
    contact = Contact(email="ann@bücher.example", name="Ann Lee", organisation="UNEP")
    create_contact(db, contact, "test", "t")
    db.conn.close()
    box = maildir_of(
        tmp_path / "box",
        [
            b"From: Ann <ann@xn--bcher-kva.example>\r\nSubject: Ocean data\r\n"
            b"Message-ID: <idn@b.example>\r\n\r\nOur news.\r\n"
        ],
    )
    result = cli(contributors, "intake", "2026-Q4", str(box))
    assert result.output == (
        "inbox/ocean-data.md  from UNEP (Ann Lee)\n1 acknowledgement sent.\n"
        "1 taken into issues/2026-Q4/inbox, 0 skipped.\n"
    )


@pytest.mark.parametrize(
    "html",
    [
        "<p><b>Section:</b> events</p><p><strong>Date:</strong> 12 March 2027</p>",
        "<p>Section: <b>events</b></p><p>Date: <i>12 March 2027</i></p>",
        "<p><b>Section: events</b></p><p><em>Date: 12 March 2027</em></p>",
    ],
)
def test_field_lines_in_bold_or_italics_are_read_as_plain_ones(html):
    """Outlook and Gmail users bold the label or the value; to_markdown keeps the marks."""
    msg = b"From: a@who.int\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n"
    found = read(msg + html.encode() + b"<p>Our news.</p>")
    assert (found.section, str(found.date), found.warnings, found.summary) == (
        "events",
        "2027-03-12",
        (),
        "Our news.",
    )


@pytest.mark.parametrize("day", ["1 January 0001", "0001-01-01", "31 December 9999"])
def test_a_date_line_no_item_can_hold_is_ignored_with_a_warning(day):
    """An item's date keeps a day's room in the calendar (schema.FIRST_DAY, LAST_DAY):
    taken as it is, the candidate would be a file that neither inbox nor check can read."""
    found = read(
        b"From: a@who.int\r\nSubject: s\r\n\r\nDate: " + day.encode() + b"\r\n\r\nNews.\r\n"
    )
    assert (found.date, found.warnings) == (None, (f"date {day!r} is not a real date; ignored",))


LONG = "United Nations Office for Partnerships, Private Sector Engagement and Sustainable Development Goals Advocacy"  # noqa: E501


# intake.run._candidate records one_line(contact.organisation, 100): cut at 100 characters
# and without the ZWNJ that one_line drops, so the name no longer matches the directory's
# and the reminder goes to an organisation that did send news. The fix is in run.py
# (record contact.organisation as stored: contacts.fields.clean_text already made it one
# line), which another helper is editing; strict, so the fix turns this red to remove it.
@pytest.mark.parametrize(
    "organisation",
    [
        LONG,  # over 100 characters: the contacts keep up to 300
        "\u0633\u0627\u0632\u0645\u0627\u0646\u200c\u0647\u0627",  # a Persian name with its ZWNJ
    ],
)
def test_an_organisation_that_sent_news_by_email_is_not_reminded(
    contributors, tmp_path, organisation
):
    db = open_db(contributors / "contacts.db")
    contact = add_contact(
        db, {"email": "kim@org.example", "name": "Kim", "organisation": organisation}
    )
    box = maildir_of(
        tmp_path / "box",
        [b"From: kim@org.example\r\nSubject: News\r\nMessage-ID: <k@org.example>\r\n\r\nOurs.\r\n"],
    )
    db.conn.close()
    assert cli(contributors, "intake", "2026-Q4", str(box)).exit_code == 0
    db = open_db(contributors / "contacts.db")
    assert contact.id in seats.listed_holders(db)
    assert contact.id not in silent_holders(db, "2026-Q4")


SAFE = (
    "https://eur03.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.unicef.org%2Freport"
    "%3Flang%3Den&data=05%7C02%7Cjane.doe%40unicef.org%7Cabc%7C0&sdata=xyz%3D&reserved=0"
)


@pytest.mark.parametrize(
    "kind,body,summary",
    [
        (
            "plain",
            f"Our report: {SAFE}\n",
            "Our report: https://www.unicef.org/report?lang=en",
        ),
        (
            "html",
            f'<p>Our report: <a href="{SAFE.replace("&", "&amp;")}">here</a></p>',
            "Our report: [here](https://www.unicef.org/report?lang=en)",
        ),
    ],
)
def test_outlook_safe_links_are_unwrapped_so_no_address_is_published(kind, body, summary):
    """Microsoft 365 rewrites each link a message brings in; the wrapper's data= holds the
    recipient's address, which must not reach an item's link, the email or the archive."""
    found = read(
        f"From: a@who.int\r\nSubject: s\r\nContent-Type: text/{kind}\r\n\r\n{body}".encode()
    )
    assert (found.summary, found.link) == (
        summary,
        "https://www.unicef.org/report?lang=en" if "report" in summary else None,
    )


def test_a_safe_link_wrapping_no_web_address_is_dropped_with_its_wrapper():
    body = (
        '<p>See <a href="https://nam02.safelinks.protection.outlook.com/?data=05%7Cjane%40'
        'unicef.org">this</a> and <a href="https://eur01.safelinks.protection.outlook.com/'
        '?url=javascript%3Aalert(1)&amp;data=x%40y.org">that</a>.</p>'
    )
    found = read(f"From: a@who.int\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n{body}".encode())
    # The sanitiser's way with a link it refuses: the words stay, the address goes.
    assert found.summary == (
        '<p>See <a rel="noopener noreferrer">this</a> and <a rel="noopener noreferrer">that</a>.</p>'
    )
    assert found.link is None


@pytest.mark.parametrize(
    "results,failed",
    [
        (
            "mx.who.int; spf=pass smtp.mailfrom=who.int; dkim=pass header.d=who.int; dmarc=pass",
            False,
        ),
        (
            "mx.who.int; spf=fail smtp.mailfrom=who.int; dmarc=fail action=none header.from=who.int",
            True,
        ),
        ("mx.who.int; DMARC=FAIL (p=reject) header.from=who.int", True),
        ("mx.who.int; dmarc=failure", False),  # not the verdict "fail"
        (None, False),  # no verdict at all: as before
    ],
)
def test_a_sender_the_receiving_server_found_forged_is_flagged(results, failed):
    """Anyone can write a focal point's address in From:. A "fail" verdict is safe to
    believe wherever it stands: a forger only ever writes "pass"."""
    head = f"Authentication-Results: {results}\r\n" if results else ""
    found = read(f"{head}From: ann@who.int\r\nSubject: s\r\n\r\nNews.\r\n".encode())
    assert found.forged is failed
    assert found.warnings == (
        (
            "the receiving server found From: ann@who.int forged (dmarc=fail): "
            "check with the sender before accepting it",
        )
        if failed
        else ()
    )


FORGED = (
    b"Authentication-Results: mx.example.org; dmarc=fail action=none header.from=unicef.example\r\n"
    b"From: Jane Doe <jane.doe@unicef.example>\r\nSubject: Urgent: new bank details\r\n"
    b"Message-ID: <forged@evil.example>\r\n\r\nPlease update our bank details.\r\n"
)


def test_intake_warns_of_a_sender_that_failed_dmarc(contributors, tmp_path):
    result = cli(contributors, "intake", "2026-Q4", str(maildir_of(tmp_path / "box", [FORGED])))
    assert result.stderr == (
        "warning: <forged@evil.example>: the receiving server found From: "
        "jane.doe@unicef.example forged (dmarc=fail): check with the sender before accepting it\n"
    )


# intake.run._candidate still looks the forged address up among the contacts, so the
# candidate is credited to UNICEF and the forgery silences UNICEF's reminder. The fix is
# in run.py (``contact = None if c.forged else senders.get(c.address)``), which another
# helper is editing; strict, so the fix turns this red to remove it.
def test_a_sender_that_failed_dmarc_is_unverified(contributors, tmp_path):
    result = cli(contributors, "intake", "2026-Q4", str(maildir_of(tmp_path / "box", [FORGED])))
    assert result.stdout.startswith(
        "inbox/urgent-new-bank-details.md  from Unverified: Jane Doe <jane.doe@unicef.example>\n"
    )


@pytest.mark.parametrize("mid", [b"<>", b"<<>>", b"<", b'""'])
def test_an_empty_message_id_is_no_key_two_messages_share(mid):
    """Else the first message with "Message-ID: <>" makes every later one "already taken"."""
    one, two = (
        b"From: a@who.int\r\nMessage-ID: " + mid + b"\r\nSubject: " + s + b"\r\n\r\nNews.\r\n"
        for s in (b"One", b"Two")
    )
    assert key_of(one).startswith("sha256:") and key_of(one) != key_of(two)


@pytest.mark.parametrize("fold", [b" ", b"\r\n "], ids=["one line", "folded"])
def test_a_subject_of_many_encoded_words_is_read_in_seconds_not_minutes(fold):
    """Python's decode_header takes time in the square of a header's encoded words, and
    dsn.classify decodes the whole header: 2 MB of them took over a minute."""
    words = fold.join([b"=?utf-8?q?a?="] * 150_000)
    data = b"From: a@who.int\r\nSubject: " + words + b"\r\n\r\nNews.\r\n"
    start = time.monotonic()
    found = read(data)
    assert time.monotonic() - start < 6
    assert found.title == "a" * 200


def test_noncharacters_in_the_subject_or_name_leave_a_candidate_that_loads(contributors, tmp_path):
    """The item reader refuses U+FFFE and U+FFFF in a title (schema's control characters):
    kept, they made a candidate that neither inbox nor check could read."""
    data = (
        b"From: =?utf-8?q?Jane=EF=BF=BF?= <jane.doe@unicef.example>\r\n"
        b"Subject: =?utf-8?q?Ocean=EF=BF=BE_data=EF=BF=BF?=\r\nMessage-ID: <nc@x>\r\n\r\nNews.\r\n"
    )
    unknown = data.replace(b"jane.doe@unicef", b"sam@other").replace(b"<nc@", b"<nc2@")
    box = maildir_of(tmp_path / "box", [data, unknown])
    assert cli(contributors, "intake", "2026-Q4", str(box)).exit_code == 0
    listed = cli(contributors, "inbox", "2026-Q4")
    assert (listed.stderr, listed.stdout.count("Ocean data")) == ("", 2)


@pytest.mark.parametrize(
    "sender,address",
    [
        ("Ann Lee <Ann@WHO.example>", "ann@who.example"),
        ('"Lee, Ann" <ann@who.int>', "ann@who.int"),
        ("ann@who.int (Ann Lee)", "ann@who.int"),
        ("<ann@who.int>", "ann@who.int"),
        ("ann@who.int <ann@who.int>", "ann@who.int"),
        ('"jane.doe@unicef.example" <atk@evil.example>', "atk@evil.example"),
        # Python's parseaddr takes the first address it meets in each of these; the one
        # that sent it (and that DMARC checked) is the other, or none can tell which.
        ("jane.doe@unicef.example <atk@evil.example>", "atk@evil.example"),
        ("jane.doe@unicef.example (Jane) <atk@evil.example>", "atk@evil.example"),
        ("<jane.doe@unicef.example>@evil.example", ""),
        ("jane.doe@unicef.example, atk@evil.example", ""),
        ("<jane.doe@unicef.example> <atk@evil.example>", ""),
    ],
)
def test_the_sender_is_the_address_a_mail_server_would_take_or_none(sender, address):
    """A known address slipped in before the real one made a stranger a verified focal
    point, under a From: whose domain the sender owns and DMARC passes."""
    found = read(f"From: {sender}\r\nSubject: s\r\n\r\nNews.\r\n".encode())
    assert found.address == address


@given(name=st.text(max_size=40), local=st.from_regex(r"[a-z0-9._+-]{1,20}", fullmatch=True))
def test_any_name_a_client_writes_before_an_address_leaves_that_address(name, local):
    """A display name, however odd, quoted or encoded as a client writes it with
    formataddr, never changes which address is the sender's."""
    sender = email.utils.formataddr((name, f"{local}@who.int"))
    found = read_message(f"From: {sender}\r\nSubject: s\r\n\r\nNews.\r\n".encode(), SECTIONS)
    assert not isinstance(found, Contribution) or found.address == f"{local}@who.int".lower()


@pytest.mark.parametrize(
    "subject,body,title",
    [
        (b"=?utf-8?q?=E2=80=8B?=", b"\xe2\x80\x8b\n\nOur news.", "Our news."),
        (b"\xe2\x80\x8b", b"\xe2\x80\x8b\n\nOur news.", "Our news."),  # raw UTF-8 (RFC 6532)
        (b"\xe2\x80\xae", b"\xe2\x80\x8b\xe2\x80\x8b", "(no subject)"),
    ],
)
def test_a_subject_of_unseen_characters_still_gives_a_title(subject, body, title):
    """An empty title is a candidate the item reader refuses."""
    found = read(
        b"From: a@who.int\r\nSubject: "
        + subject
        + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + body
    )
    assert found.title == title
