"""newsletter.directory.round, by property: whatever a focal point's entry holds (any text
the contact fields let in), their round email shows it, keeps the text part's lines to 78
characters, carries only its reader's entry links, and the members' link only for a listed one."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import html
import re

import pytest
from helpers import LAYOUT, new_project
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from newsletter.build.render import small_mail
from newsletter.config import load_settings
from newsletter.contacts.fields import MAX_TEXT, clean_text
from newsletter.directory.round import TEMPLATE
from newsletter.send.message import Composer, Recipient

FIELDS = ("job_title", "organisation", "phone", "city")


@pytest.fixture(scope="module")
def composer(tmp_path_factory) -> Composer:
    project = new_project(tmp_path_factory.mktemp("round") / "project")
    text, body = small_mail(
        load_settings(project), project / "mailings" / "r", TEMPLATE, {"subject": "s"}
    )
    layout = dataclasses.replace(
        LAYOUT,
        entry_url="https://focalpoint.example.org/entry/",
        members_url="https://focalpoint.example.org/members/",
    )
    return Composer(layout, text, body, None)


def cleaned(raw: str) -> str | None:
    try:
        return clean_text(raw)
    except ValueError:
        return None


VALUES = st.one_of(
    st.text(max_size=MAX_TEXT),
    st.lists(
        st.sampled_from(["Head", "of", "%%PHONE%%", "<b>", "&amp;", "李小龍", "x" * 80]), max_size=8
    ).map(" ".join),
).map(cleaned)


def parts(data: bytes) -> tuple[str, str]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return text, msg.get_body(("html",)).get_content()


@settings(deadline=None)
@given(values=st.tuples(*(VALUES for _ in FIELDS)), listed=st.booleans())
def test_the_entry_shows_whole_and_safe(composer, values, listed):
    assume(all(v is not None and "/entry/" not in v and "/members/" not in v for v in values))
    fields = tuple(zip(FIELDS, values, strict=True))
    who = Recipient("a@example.org", "Ann", "<r.a@x>", "MTo.t", "ent.tok", "mem.tok" * listed)
    text, body = parts(composer.compose(dataclasses.replace(who, fields=fields)))
    flat = re.sub(r"\s", "", text)
    for label, value in zip(("Title", "Organisation", "Phone", "City"), values, strict=True):
        assert re.sub(r"\s", "", f"{label}: {value}") in flat
        assert f"<td>{html.escape(value)}</td>" in body
    for part in (text, body):
        # Every entry link is the reader's own (the body's, the footer's): no value made one.
        assert part.count("/entry/") == part.count("/entry/ent.tok") >= 1
        assert ("/members/mem.tok" in part) is listed and ("/members/" in part) is listed
    for line in text.splitlines():
        words = line.split()
        assert len(line) <= 78 or (len(words) <= 2 and "://" in words[-1]) or len(words) == 1
