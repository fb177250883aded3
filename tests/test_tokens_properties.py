"""newsletter.tokens.read_token, by property: it accepts only the tokens make_token made.

An unsubscribe link's token comes back from anyone on the internet; read_token
must answer (contact, issue) for a genuine token and None for anything else:
made-up text, a damaged or re-spelled genuine token, one made under another secret.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.issue.folder import ISSUE_ID
from newsletter.tokens import (
    MAX_RETURN_TOKEN,
    make_return_token,
    make_token,
    read_return_token,
    read_token,
)

SECRET = b"a-test-secret-that-is-long-enough"
CONTACTS = st.integers(min_value=0, max_value=2**63)
ISSUES = st.from_regex(ISSUE_ID, fullmatch=True)
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def genuine(secret: bytes, token: str) -> bool:
    """Whether ``token`` is exactly what make_token makes for what it claims to carry."""
    found = read_token(secret, token)
    return found is not None and make_token(secret, *found) == token


@given(contact=CONTACTS, issue=ISSUES)
def test_a_token_reads_back_as_what_it_was_made_for(contact, issue):
    assert read_token(SECRET, make_token(SECRET, contact, issue)) == (contact, issue)


@given(token=st.one_of(st.text(), st.text(B64 + ".=%", min_size=40, max_size=80)))
@example(token="MTo.x")
@example(token="MToyMDI2LVE0." + "A" * 43)
def test_made_up_text_is_never_accepted(token):
    assert read_token(SECRET, token) is None or genuine(SECRET, token)


@st.composite
def damaged(draw):
    """A genuine token, and the same with one character changed, added or removed."""
    token = make_token(SECRET, draw(CONTACTS), draw(ISSUES))
    at = draw(st.integers(min_value=0, max_value=len(token)))
    char = draw(st.sampled_from([*B64, ".", "=", "%", " ", "\n", "é"]))
    edit = draw(st.sampled_from(["replace", "insert", "delete", "swap case"]))
    if edit == "replace":
        return token, token[:at] + char + token[at + 1 :]
    if edit == "insert":
        return token, token[:at] + char + token[at:]
    if edit == "delete":
        return token, token[:at] + token[at + 1 :]
    return token, token[:at] + token[at:].swapcase()


def spare_bits(token: str) -> str:
    """The token with its last character swapped for one that decodes to the same bytes:
    43 characters carry 32 bytes and two spare bits, which base64 decoding ignores."""
    return token[:-1] + B64[B64.index(token[-1]) ^ 1]


ONE = make_token(SECRET, 1, "2026-Q4")


@given(pair=damaged())
@example(pair=(ONE, ONE + "="))
@example(pair=(ONE, spare_bits(ONE)))
def test_a_damaged_token_is_refused(pair):
    token, changed = pair
    assert read_token(SECRET, changed) is None or changed == token


@given(contact=CONTACTS, issue=ISSUES, other=st.binary(min_size=16, max_size=40))
def test_a_token_made_under_another_secret_is_refused(contact, issue, other):
    if other != SECRET:
        assert read_token(SECRET, make_token(other, contact, issue)) is None


# -- return-path tokens: the same promises, in any letter case ---------------------

B32 = "abcdefghijklmnopqrstuvwxyz234567"


@given(contact=st.integers(min_value=0, max_value=2**63 - 1), issue=ISSUES)
def test_a_return_token_reads_back_in_any_case(contact, issue):
    token = make_return_token(SECRET, contact, issue)
    assert len(token) <= MAX_RETURN_TOKEN
    for spelling in (token, token.upper(), token.swapcase()):
        found = read_return_token(SECRET, spelling)
        assert found is not None and found.contact_id == contact and found.names(issue)


@given(token=st.text(B32 + B32.upper() + "=.", min_size=20, max_size=40))
def test_made_up_return_tokens_are_never_accepted(token):
    # Guessing an 80-bit MAC: a chance in 2**80, so any acceptance is a bug.
    assert read_return_token(SECRET, token) is None


@given(
    contact=st.integers(min_value=0, max_value=2**63 - 1),
    issue=ISSUES,
    at=st.integers(min_value=0, max_value=40),
    char=st.sampled_from([*B32, "8", "=", "."]),
    edit=st.sampled_from(["replace", "insert", "delete"]),
)
def test_a_damaged_return_token_is_refused(contact, issue, at, char, edit):
    token = make_return_token(SECRET, contact, issue)
    at = min(at, len(token))
    changed = {
        "replace": token[:at] + char + token[at + 1 :],
        "insert": token[:at] + char + token[at:],
        "delete": token[:at] + token[at + 1 :],
    }[edit]
    assert read_return_token(SECRET, changed) is None or changed.lower() == token
    assert read_token(SECRET, token) is None  # never an unsubscribe token


# -- the organisation part of a click link, read from any request's path ---------------

ORGS = st.integers(min_value=0, max_value=2**63 - 1)


@given(issue=ISSUES, org=ORGS)
def test_an_organisation_part_reads_back_for_its_issue_only(issue, org):
    from newsletter.tokens import make_click_org_token, read_click_org_token

    part = make_click_org_token(SECRET, issue, org)
    assert read_click_org_token(SECRET, part, issue) == org
    assert read_click_org_token(SECRET, part, issue + "x") is None  # swapped between issues
    assert read_click_org_token(b"another-secret-long-enough", part, issue) is None
    assert read_token(SECRET, part) is None  # never an unsubscribe token


@given(
    part=st.one_of(st.text(), st.text(B64 + ".=%/", min_size=40, max_size=170)),
    issue=ISSUES,
)
@example(part="MjAyNi1RNAox." + "A" * 43, issue="2026-Q4")
def test_an_organisation_part_nobody_made_is_refused_without_an_error(part, issue):
    from newsletter.tokens import make_click_org_token, read_click_org_token

    found = read_click_org_token(SECRET, part, issue)
    # Only what make_click_org_token made, spelled as it spells it, is read at all.
    assert found is None or make_click_org_token(SECRET, issue, found) == part


@given(issue=ISSUES, org=ORGS, data=st.data())
def test_any_change_to_an_organisation_part_is_refused(issue, org, data):
    from newsletter.tokens import make_click_org_token, read_click_org_token

    part = make_click_org_token(SECRET, issue, org)
    at = data.draw(st.integers(0, len(part) - 1))
    other = data.draw(st.sampled_from(B64 + ".").filter(lambda c: c != part[at]))
    changed = part[:at] + other + part[at + 1 :]
    assert read_click_org_token(SECRET, changed, issue) is None
