"""newsletter.tokens: unsubscribe and return-path tokens, each for one purpose only."""

from __future__ import annotations

import pytest

from newsletter import tokens
from newsletter.tokens import (
    FORM_MAX_AGE,
    MAX_LOCAL_PART,
    MAX_RETURN_TOKEN,
    MIN_RETURN_TOKEN,
    form_token_ok,
    make_form_token,
    make_return_token,
    make_token,
    read_return_token,
    read_token,
    return_address,
    return_tokens,
    template_problem,
)

SECRET = b"a-test-secret-that-is-long-enough"
# Made by the unsubscribe code as it was before the return-path tokens came:
# links like it are in mailboxes already and must keep working.
MAILED_BEFORE = "NDI6MjAyNi1RNA.ws3UTO2XcSi58n1d94een0trbGn-fRZnlP6Co79sXEY"


def test_an_unsubscribe_link_mailed_before_still_works():
    assert read_token(SECRET, MAILED_BEFORE) == (42, "2026-Q4")
    assert make_token(SECRET, 42, "2026-Q4") == MAILED_BEFORE


def test_a_return_path_token_is_short_lowercase_and_names_its_delivery():
    token = make_return_token(SECRET, 42, "2026-Q4")
    assert (len(token), token == token.lower(), token.isalnum()) == (24, True, True)
    found = read_return_token(SECRET, token)
    assert found is not None and found.contact_id == 42
    assert (found.names("2026-Q4"), found.names("2026-Q3")) == (True, False)


def test_a_return_path_token_survives_case_folding():
    token = make_return_token(SECRET, 311, "2026-Q4")
    assert read_return_token(SECRET, token.upper()) == read_return_token(SECRET, token)


def test_the_longest_token_fits_a_local_part():
    longest = make_return_token(SECRET, 2**63 - 1, "x" * 64)
    assert len(longest) == MAX_RETURN_TOKEN == 37
    assert len("bounces+" + longest) <= MAX_LOCAL_PART


def test_one_purpose_token_is_never_accepted_as_the_other():
    unsubscribe = make_token(SECRET, 42, "2026-Q4")
    back = make_return_token(SECRET, 42, "2026-Q4")
    assert read_return_token(SECRET, unsubscribe) is None
    assert read_token(SECRET, back) is None
    # The same bytes under the other purpose's label do not verify either: the MAC
    # of a return-path record is not the first 10 bytes of an unsubscribe MAC.
    assert read_return_token(SECRET, unsubscribe.replace(".", "").lower()[:24]) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1] + ("a" if t[-1] != "a" else "b"),  # one letter changed
        lambda t: t[:-1],  # cut short
        lambda t: t + "a",  # one added
        lambda t: t.replace(t[5], "8"),  # not base32
        lambda t: "",
    ],
)
def test_a_damaged_return_path_token_is_refused(damage):
    assert read_return_token(SECRET, damage(make_return_token(SECRET, 42, "2026-Q4"))) is None


def test_a_return_path_token_under_another_secret_is_refused():
    assert read_return_token(SECRET, make_return_token(b"another secret, 16+", 42, "x")) is None


def test_the_envelope_sender_and_finding_its_token_again():
    template = "bounces+{token}@example.org"
    address = return_address(template, SECRET, 42, "2026-Q4")
    token = make_return_token(SECRET, 42, "2026-Q4")
    assert address == f"bounces+{token}@example.org"
    assert return_address("news@example.org", SECRET, 42, "2026-Q4") == "news@example.org"
    text = (
        f"To: <{address.upper()}>\nReturn-Path: <{address}>\n"
        f"x: notbounces+{token}@example.org bounces+{token}@example.org.evil"
    )
    assert return_tokens(template, text) == [token.upper(), token]
    assert return_tokens("news@example.org", text) == []


def test_only_a_word_of_the_token_s_shape_is_a_token():
    """With the token as the whole local part, the bounce domain's other mailboxes
    (postmaster@, abuse@) in a report are no tokens, forged or otherwise."""
    template = "{token}@bounces.example.org"
    token = make_return_token(SECRET, 7, "2026-Q4")
    text = (
        "From: postmaster@bounces.example.org\nCc: abuse@bounces.example.org\n"
        f"Return-Path: <{token}@bounces.example.org>\nX: {token[:-1]}@bounces.example.org"
    )
    assert len(token) == MIN_RETURN_TOKEN  # so one letter less is no longer one
    assert return_tokens(template, text) == [token]
    assert return_tokens(template, text + f" {token}a@bounces.example.org") == [token, f"{token}a"]
    assert return_tokens(template, "To: postmaster@bounces.example.org") == []


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("bounces+{token}@example.org", None),
        ("bounces@example.org", None),
        ("b+{token}{token}@x.org", "has {token} 2 times: put it in once"),
        ("b+{token}@{token}.org", "has braces after the @: {token} goes in the part before it"),
        ("b+{TOKEN}@x.org", "has braces other than {token}: only {token} is filled in"),
        (
            "b" * 28 + "+{token}@x.org",
            "would have a local part of up to 66 octets with the 37-character token in it;"
            " the limit is 64: shorten the part before the @",
        ),
    ],
)
def test_template_problems(template, problem):
    assert template_problem(template) == problem


NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("issued", "link", "secret", "ok"),
    [
        (NOW, "link-a", SECRET, True),
        (NOW - FORM_MAX_AGE, "link-a", SECRET, True),
        (NOW - FORM_MAX_AGE - 1, "link-a", SECRET, False),  # too old
        (NOW + 61, "link-a", SECRET, False),  # from the future
        (NOW, "link-b", SECRET, False),  # made for another link's page
        (NOW, "link-a", b"another-secret-long-enough", False),
    ],
)
def test_a_form_token_is_good_for_its_link_and_a_day(issued, link, secret, ok):
    assert form_token_ok(SECRET, "link-a", make_form_token(secret, link, issued), NOW) is ok


@pytest.mark.parametrize("token", ["", "1800000000", "1800000000.", "x.y", "-1.abc"])
def test_a_malformed_form_token_is_refused(token):
    assert form_token_ok(SECRET, "link-a", token, NOW) is False


def test_a_form_token_is_never_an_unsubscribe_token():
    form = make_form_token(SECRET, "link-a", NOW)
    assert read_token(SECRET, form) is None
    mac = form.split(".")[1]
    assert not form_token_ok(SECRET, "link-a", f"{NOW}.{make_token(SECRET, 1, 'x')[-43:]}", NOW)
    assert len(mac) == 43


# -- click tokens (readership = "aggregate") ------------------------------------


@pytest.mark.parametrize(
    "issue_id, index, url",
    [
        ("2026-Q4", 1, "https://example.org/a"),
        ("2027-Q1-special", 42, "https://example.org/é?x=1&y=%20#part"),
        ("x", 7, "https://example.org/" + "a" * (tokens.MAX_CLICK_URL - 20)),
    ],
)
def test_a_click_token_names_its_issue_link_and_address(issue_id, index, url):
    token = tokens.make_click_token(SECRET, issue_id, index, url)
    assert tokens.read_click_token(SECRET, token) == tokens.Click(issue_id, index, url)
    assert tokens.read_click_token(b"another-secret-long-enough", token) is None


def test_a_click_token_and_every_other_purpose_never_open_each_other():
    click = tokens.make_click_token(SECRET, "2026-Q4", 1, "https://example.org/")
    assert read_token(SECRET, click) is None
    for purpose in tokens.LINK_PURPOSES:
        assert tokens.read_link_token(SECRET, purpose, click, NOW) is None
        page = tokens.make_link_token(SECRET, purpose, 1, NOW)
        assert tokens.read_click_token(SECRET, page) is None
    assert tokens.read_click_token(SECRET, make_token(SECRET, 1, "2026-Q4")) is None
    # The same payload signed under the unsubscribe label is still no click token.
    payload = click.split(".")[0]
    mac = tokens._b64(tokens._mac(SECRET, tokens.UNSUBSCRIBE, tokens._unb64(payload)))
    assert tokens.read_click_token(SECRET, f"{payload}.{mac}") is None


def test_a_link_too_long_or_with_a_line_break_gets_no_click_token():
    with pytest.raises(ValueError):
        tokens.make_click_token(SECRET, "x", 1, "https://e.org/" + "a" * tokens.MAX_CLICK_URL)
    with pytest.raises(ValueError):
        tokens.make_click_token(SECRET, "x", 1, "https://e.org/\nhttps://evil.test/")


# -- review links --------------------------------------------------------------------

ONE_DAY = 86400
REVIEWED = 1_790_000_000.0  # the moment a review link is made


def test_a_review_token_names_its_issue_and_reviewer_and_its_days():
    token = tokens.make_review_token(SECRET, "2026-Q4", "boss@example.org", REVIEWED, 7)
    found = tokens.read_review_token(SECRET, token, REVIEWED + 7 * ONE_DAY)
    assert (found.issue_id, found.reviewer, found.days) == ("2026-Q4", "boss@example.org", 7)
    assert tokens.read_review_token(SECRET, token, REVIEWED + 8 * ONE_DAY) is None
    assert tokens.read_review_token(SECRET, token, REVIEWED - 2 * ONE_DAY) is None  # dated ahead


def test_review_and_page_tokens_never_open_each_other():
    review = tokens.make_review_token(SECRET, "1", "1", REVIEWED)
    for purpose in tokens.LINK_PURPOSES:
        assert tokens.read_link_token(SECRET, purpose, review, REVIEWED) is None
        page = tokens.make_link_token(SECRET, purpose, 1, REVIEWED)
        assert tokens.read_review_token(SECRET, page, REVIEWED) is None
    assert tokens.read_token(SECRET, review) is None
    assert (
        tokens.read_review_token(SECRET, tokens.make_token(SECRET, 1, "2026-Q4"), REVIEWED) is None
    )


@pytest.mark.parametrize("days", [0, 91])
def test_a_review_link_lives_1_to_90_days(days):
    with pytest.raises(ValueError):
        tokens.make_review_token(SECRET, "2026-Q4", "boss@example.org", REVIEWED, days)


def test_a_review_token_with_a_line_break_in_a_name_is_never_made():
    with pytest.raises(ValueError):
        tokens.make_review_token(SECRET, "2026-Q4", "a@example.org\nb@example.org", REVIEWED)
