"""Properties of newsletter.directory.vcard: whatever a contact holds, its vCard has exactly
the properties we write, folded lines of at most 75 octets, and reads back as it was."""

from __future__ import annotations

import pytest
from helpers import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.directory.vcard import Card, vcard

vobject = pytest.importorskip("vobject")

# Any text, with the characters that matter to a vCard's syntax made likely.
TEXT = st.text(
    st.one_of(st.sampled_from(",;:\\\r\n= \t\x00é漢"), st.characters(codec="utf-8")), max_size=120
)
PROPERTIES = ["BEGIN", "VERSION", "UID", "FN", "N", "EMAIL", "END"]


@settings(max_examples=examples(200))
@given(name=TEXT, email=TEXT, organisation=TEXT, title=TEXT, role=TEXT, phone=TEXT, city=TEXT)
def test_untrusted_values_never_add_a_property(name, email, organisation, title, role, phone, city):
    card = vcard(Card(5, name, email, organisation, title, role, phone, city, "Kenya"))
    data = card.encode("utf-8")
    assert data.endswith(b"\r\n")
    lines = data[:-2].split(b"\r\n")
    assert all(len(line) <= 75 and b"\r" not in line and b"\n" not in line for line in lines)
    starts = [line.split(b":")[0].split(b";")[0].decode() for line in lines if line[:1] != b" "]
    wanted = (
        PROPERTIES[:5]
        + [p for p, v in (("ORG", organisation), ("TITLE", title), ("ROLE", role)) if v]
        + ["EMAIL"]
        + (["TEL"] if phone else [])
        + ["ADR", "END"]
    )
    assert starts == wanted
    parsed = vobject.readOne(card)
    plain = " ".join((name or email).replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    assert " ".join(parsed.fn.value.split("\n")) == _controls(plain)


def _controls(text: str) -> str:
    """What the card keeps of text: control characters other than a line break are spaces."""
    return "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in text)
