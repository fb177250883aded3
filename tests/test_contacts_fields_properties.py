"""newsletter.contacts.fields, by property: clean_row, normalise_email and clean_text on any value.

Every contact value (an import's cells, a sync's JSON, `contacts add` options)
goes through these; whatever it is, the answer is a clean value or the one
documented error (RowError, ValueError) with its reason.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.contacts.fields import (
    MAX_TEXT,
    TEXT_FIELDS,
    RowError,
    clean_row,
    clean_text,
    normalise_email,
)
from newsletter.models import STATUSES

ADDRESSES = st.one_of(
    st.emails(),
    st.text(max_size=40),
    st.from_regex(r"[ ]?[\w.+'=-]{0,20}@[\w.-]{0,20}\.[a-z\u00e0-\u00ff]{0,6}[ ]?", fullmatch=True),
    st.builds(lambda name, address: f"{name} <{address}>", st.text(max_size=20), st.emails()),
    st.sampled_from(
        ["a@b.co", "A@B.CO ", "x@a.local", "a@xn--bcher-kva.example", "j\u00fcrgen@b\u00fccher.example",
         '"quoted"@x.org', "a@[127.0.0.1]", "a..b@x.org", "a@x", "@x.org", "a@", " ", "a@b.c\n"]
    ),
)  # fmt: skip
# What a CSV cell, a JSON value or a command-line option can hold.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    # Within CPython's 4300-digit limit on int to str: a bigger number never gets here,
    # json.loads refuses it first (see test_contacts_tabular_properties).
    st.integers(min_value=-(10**4000), max_value=10**4000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.text(max_size=50).map(lambda t: "=" + t),
    st.text(min_size=MAX_TEXT - 2, max_size=MAX_TEXT + 2),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ADDRESSES,
    st.sampled_from(["yes", "No", "oui", "maybe", "subscribed", "LEFT", "unknown", "'=x", "\t"]),
)
ROWS = st.dictionaries(
    st.sampled_from(["email", "listed", "status", *TEXT_FIELDS, "notes"]), VALUES, max_size=6
)
_DISPLAY = re.compile(r'"?([^"<>]*?)"?\s*<([^<>\s]+)>')


@given(raw=ROWS)
@example(raw={"email": "a@who.example.org", "name": "Ann", "listed": "yes"})
@example(raw={"email": "Jane Doe <Jane@WHO.example.org>"})
@example(raw={"email": "a@who.example.org", "first_name": "  Ann ", "last_name": "Lee"})
@example(raw={"email": "a@who.example.org", "phone": 10**4000})
def test_clean_row_answers_clean_values_or_a_row_error(raw):
    labels = {key: f"column '{key}'" for key in raw}
    try:
        values = clean_row(raw, labels)
    except RowError as refused:
        assert str(refused) and "\n" not in str(refused), refused
        return
    assert set(values) <= set(raw) | {"name"}
    if "email" in values:
        assert values["email"] == normalise_email(values["email"])
    for key in TEXT_FIELDS:
        if key == "name" and not raw.get("name") and len(values.get("name", "")) > MAX_TEXT:
            continue  # made from first and last name: test_a_name_made_of_two_is_held_to_the_limit
        if key in values:
            assert values[key] == clean_text(values[key]), (key, values[key])
    assert values.get("listed", True) in (True, False)
    assert values.get("status", "subscribed") in STATUSES


@pytest.mark.parametrize(
    "cell",
    ["Jo\x01e <a@who.example.org>", "x" * 400 + " <a@who.example.org>"],
    ids=["control-character", "too-long"],
)
def test_a_bad_name_beside_an_address_is_a_row_error(cell):
    with pytest.raises(RowError):
        clean_row({"email": cell}, {"email": "column 'Email'"})


@pytest.mark.parametrize("status", [True, False])
def test_a_true_or_false_status_is_refused(status):
    try:
        values = clean_row({"email": "a@who.example.org", "status": status}, {})
    except RowError:
        return
    assert values["status"] in STATUSES, values


def test_a_name_made_of_two_is_held_to_the_limit():
    raw = {"email": "a@who.example.org", "first_name": "A" * 200, "last_name": "B" * 200}
    try:
        values = clean_row(raw, {})
    except RowError:
        return
    assert len(values["name"]) <= MAX_TEXT


@given(address=ADDRESSES)
@example(address="Jane.Doe@UNICEF.example.org")
@example(address="a" * 64 + "@x.org")
@example(address="a@" + "b" * 64 + ".org")
def test_normalise_email_answers_a_stored_form_or_value_error(address):
    try:
        stored = normalise_email(address)
    except ValueError as refused:
        assert str(refused), address
        return
    assert stored == stored.lower() == stored.strip()
    assert stored.count("@") == 1 and not any(c.isspace() for c in stored)
    assert normalise_email(stored) == stored  # the stored form is its own stored form
    assert normalise_email(address.upper()) == stored or not address.isascii()


@given(value=VALUES)
@example(value="a\u2028b\u00a0c\td")
@example(value="e\u0301")  # NFD: stored as NFC
@example(value="A\u202eB")  # a bidi override
def test_clean_text_answers_one_clean_line_or_value_error(value):
    try:
        text = clean_text(value)
    except ValueError as refused:
        assert str(refused)
        return
    assert isinstance(text, str) and len(text) <= MAX_TEXT
    assert text == " ".join(text.split()) and len(text.splitlines()) <= 1
    assert clean_text(text) == text
