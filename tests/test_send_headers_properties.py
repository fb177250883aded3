"""newsletter.send.headers, by property: header injection refused; the rest folds and reads back.

Names come from contact lists and subjects from editors; whatever they hold,
check/check_address refuse it with HeaderInjection or pass it, and what passes
comes out of mailbox and unstructured as 7-bit folded lines.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.header import decode_header, make_header

from hypothesis import assume, example, given
from hypothesis import strategies as st

from newsletter.send import headers
from newsletter.send.headers import HeaderInjection

NAMES = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [
                "Jane",
                "Doe",
                "José",
                "Núñez-Ávila",
                "O'Brien",
                '"Tom"',
                "李小龍",
                "(UNDP)",
                "Jr.",
                "=?utf-8?q?x?=",
                "%0d%0a",
                "=0A",
                "a\\nb",
                "&#13;",
                "\t",
                "",
                "Ana-María",
                "x" * 70,
            ]
        ),  # fmt: skip
        max_size=8,
    ).map(" ".join),
)
ADDRESSES = st.one_of(
    st.emails(),
    st.text(max_size=30),
    st.sampled_from(["a@example.org", "j\u00fcrgen@b.example", "a@b\u00fccher.example",
                     "a@example.org\r\nBcc: v@x.org", "a..b@x.org", "@x.org", "a@", "a@-x.org"]),
)  # fmt: skip
LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


@given(value=NAMES)
@example(value="Eve\u2028Bcc: victim@example.org")
@example(value="=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?=")
@example(value="\ud800 lone surrogate")
def test_check_passes_a_value_as_it_is_or_refuses_it_naming_where(value):
    problem = headers.header_problem(value)
    try:
        passed = headers.check(value, "issues/x/issue.toml", "subject")
    except HeaderInjection as refused:
        assert problem and refused.message.startswith(f"issues/x/issue.toml: subject {problem}")
        return
    assert problem is None and passed == value
    assert not LINE_BREAKS.search(value), value


@given(address=ADDRESSES)
@example(address="a@exämple.org")
@example(address="a@" + "x" * 64 + "\u00e9.org")  # a label too long for IDNA
@example(address="a@" + "x" * 64 + ".org")  # ASCII too: it was a UnicodeError traceback
def test_check_address_answers_an_ascii_address_or_refuses_it(address):
    try:
        checked = headers.check_address(address, "contacts.db: contact 1")
    except HeaderInjection as refused:
        assert refused.message.startswith("contacts.db: contact 1: address ")
        return
    assert checked.isascii() and not LINE_BREAKS.search(checked) and " " not in checked
    local, _, domain = checked.rpartition("@")
    assert local == address.rpartition("@")[0] and domain.lower() == domain.lower().strip()


def folded(value: str) -> list[str]:
    """The lines of a folded header value, each checked to add no header of its own."""
    assert value.isascii(), value
    lines = value.split("\r\n")
    assert "\r" not in value.replace("\r\n", "") and "\n" not in value.replace("\r\n", "")
    assert all(line.startswith(" ") for line in lines[1:]), lines  # continuations only
    return lines


@given(name=NAMES, address=st.sampled_from(["jane@example.org", "a.b-c@un.example.org"]))
@example(name="Maria Concepción Fernández de la Rodríguez y Villanueva-Santos", address="a@b.org")
@example(name="Doe, Jane " * 8 + "(UNDP)", address="a@b.org")
@example(name="trailing space ", address="a@b.org")
def test_a_name_that_passes_is_one_mailbox_that_reads_back(name, address):
    assume(headers.header_problem(name) is None)
    value = headers.mailbox(name, address)
    lines = folded(value)
    assert all(len(line) <= 78 for line in [f"To: {lines[0]}", *lines[1:]]), lines
    msg = email.message_from_string(f"To: {value}\r\n\r\n", policy=email.policy.default)
    (parsed,) = msg["To"].addresses  # one mailbox: nothing in the name split it
    assert parsed.addr_spec == address
    if name.strip():
        # As a standards reader sees the phrase (Python's address parser shows a space
        # between adjacent encoded words, which RFC 2047 says is not there).
        phrase = value.replace("\r\n", "").rsplit(" <", 1)[0]
        shown = str(make_header(decode_header(phrase)))
        if phrase.startswith('"') and phrase.endswith('"'):  # a quoted string, not encoded
            shown = shown[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        assert shown == name, (value, shown)


@given(subject=NAMES)
@example(subject="Les nouvelles du réseau — édition " * 3)
@example(subject="x" * 200)
def test_a_subject_that_passes_folds_into_lines_that_read_back(subject):
    assume(headers.header_problem(subject) is None)
    value = headers.unstructured(subject)
    lines = folded(value)
    assert all(len(line) <= 78 for line in [f"Subject: {lines[0]}", *lines[1:]]), lines
    msg = email.message_from_string(f"Subject: {value}\r\n\r\n", policy=email.policy.default)
    assert " ".join(msg["Subject"].split()) == " ".join(subject.split())
