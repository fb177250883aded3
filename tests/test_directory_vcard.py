"""newsletter.directory.vcard: RFC 6350 vCards whose values can never add a property."""

from __future__ import annotations

import pytest

from newsletter.directory.vcard import Card, escape, fold, uid, vcard, vcards

JANE = Card(
    7,
    "Jane Doe",
    "jane.doe@unicef.example",
    "UNICEF",
    "Focal point",
    "Private-sector focal point",
    "+41 22 917 12 34",
    "Geneva",
    "Switzerland",
    "2026-11-20T09:30:00+00:00",
)


def test_a_card_as_written():
    assert vcard(JANE) == (
        "BEGIN:VCARD\r\n"
        "VERSION:4.0\r\n"
        f"UID:{uid(7)}\r\n"
        "FN:Jane Doe\r\n"
        "N:Doe;Jane;;;\r\n"
        "ORG:UNICEF\r\n"
        "TITLE:Focal point\r\n"
        "ROLE:Private-sector focal point\r\n"
        "EMAIL;TYPE=work:jane.doe@unicef.example\r\n"
        "TEL;VALUE=uri;TYPE=work,voice:tel:+41229171234\r\n"
        "ADR;TYPE=work:;;;Geneva;;;Switzerland\r\n"
        "REV:20261120T093000Z\r\n"
        "END:VCARD\r\n"
    )


def test_the_uid_is_stable_per_contact_and_differs_between_contacts():
    assert uid(7) == uid(7) != uid(8)
    assert uid(7).startswith("urn:uuid:") and len(uid(7)) == len("urn:uuid:") + 36


def test_a_phone_that_does_not_parse_is_kept_as_text():
    card = vcard(Card(1, "A", "a@x.example", phone="ext. 1234; ask"))
    assert "TEL;VALUE=text;TYPE=work,voice:ext. 1234\\; ask\r\n" in card


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\nb"),
        ("a\rb", "a\\nb"),
        ("a\x00b\x1bc\x7f", "a b c "),
        ("\\n", "\\\\n"),  # a backslash and an n stay two characters
    ],
)
def test_escape(value, escaped):
    assert escape(value) == escaped


def test_no_value_adds_a_property_line():
    evil = "x\r\nEMAIL:evil@attacker.example;\nTEL:1\r"
    card = vcard(
        Card(2, evil, evil, evil, evil, evil, evil, evil, evil, "2026-11-20T09:30:00+00:00")
    )
    names = [
        line.split(":")[0].split(";")[0] for line in card.split("\r\n") if line[:1] not in ("", " ")
    ]
    assert names == [
        "BEGIN", "VERSION", "UID", "FN", "N", "ORG", "TITLE", "ROLE", "EMAIL", "TEL", "ADR",
        "REV", "END",
    ]  # fmt: skip
    assert "\n" not in card.replace("\r\n", "") and "\r" not in card.replace("\r\n", "")


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    name = "Zoë " * 40
    card = vcard(Card(3, name, "z@x.example"))
    lines = card.encode("utf-8").split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # each line of octets holds whole characters
    unfolded = card.replace("\r\n ", "")
    assert f"FN:{name}\r\n" in unfolded
    assert fold("x" * 75) == "x" * 75 + "\r\n"
    assert fold("x" * 76) == "x" * 75 + "\r\n x\r\n"


def test_several_cards_in_one_file_parse():
    vobject = pytest.importorskip("vobject")
    other = Card(8, "Ana, Lima; Jr.", "ana@unicef.example", "UNICEF", "Alternate")
    found = list(vobject.readComponents(vcards([JANE, other])))
    assert [c.fn.value for c in found] == ["Jane Doe", "Ana, Lima; Jr."]
    assert found[1].email.value == "ana@unicef.example"
