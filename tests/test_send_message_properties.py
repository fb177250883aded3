"""newsletter.send.message, by property: the text part keeps 78 characters a line
once a recipient's name and address are in.

Found (issue 11): the greeting's name went in after the text was wrapped, so a
long name made a line of any length. Whatever name a contact may have (up to
the contact fields' MAX_TEXT, long words, East Asian text without spaces) and
whatever address, every line of the sent text part is at most 78 code points,
except a URL or an address too long for any line, which stands alone on its
line or after a short label ("[3] ", "Unsubscribe: "). Code points, not
columns: a wide character counts as one (see render.wrap).
"""

from __future__ import annotations

import email
import email.policy
import quopri
import re

import pytest
from helpers import LAYOUT, cli, item, make_issue, new_project
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from newsletter.contacts.fields import MAX_TEXT, clean_text
from newsletter.send.dispatch import problem
from newsletter.send.message import Composer, Recipient, qp, qp_lines

LONG_URL = "https://www.un.org/en/partnerships/" + "long-path-segment/" * 6 + "guide.pdf"
INLINE_URL = "https://example.org/" + "a-link-written-out-in-the-summary/" * 3 + "end"


@pytest.fixture(scope="module")
def composer(tmp_path_factory) -> Composer:
    """The Composer `send` makes, for an issue whose text part has long links."""
    project = new_project(tmp_path_factory.mktemp("wrap") / "project")
    make_issue(
        project,
        items={
            "long.md": item("A guide with a long address", link=LONG_URL),
            "inline.md": item("A summary that writes its link out", section="tools")
            + f"Read it at {INLINE_URL} before the meeting.\n",
        },
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    build = project / "issues" / "2026-Q4" / "build"
    text = (build / "email.txt").read_text(encoding="utf-8")
    return Composer(LAYOUT, text, (build / "email.html").read_text(encoding="utf-8"), None)


def cleaned(raw: str) -> str | None:
    try:
        return clean_text(raw)  # what every way into contacts.db does to a name
    except ValueError:
        return None


WORDS = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Z")), min_size=1, max_size=120),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=90),
    st.sampled_from(["Dr.", "José", "Núñez-Ávila", "O'Brien", "(UNDP)", "李小龍", "x" * 77]),
)
NAMES = st.one_of(
    st.text(max_size=MAX_TEXT),
    st.lists(WORDS, max_size=12).map(" ".join),
).map(cleaned)


def lone(line: str) -> bool:
    """A URL or an address on its own, or after one short label."""
    words = line.split()
    whole = words[-1] if words else ""
    short_label = len(words) == 1 or (len(words) == 2 and len(words[0]) <= len("Unsubscribe:"))
    return short_label and ("://" in whole or "@" in whole)


def text_part(data: bytes) -> str:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


@settings(deadline=None)
@given(name=NAMES, address=st.emails())
@example(name="Wolfeschlegelsteinhausenbergerdorff " * 8 + "Jr.", address="a@example.org")
@example(name="李" * MAX_TEXT, address="a@example.org")
@example(name="A" * 75, address="x" * 64 + "@" + "partnership-office." * 10 + "example.org")
def test_every_line_of_the_text_part_fits_with_the_values_in(composer, name, address):
    assume(name is not None and problem(1, address, name) is None)
    data = composer.compose(Recipient(address, name, "<2026-Q4.a@example.org>", "MTo.token"))
    text = text_part(data)
    lines = text.splitlines()
    for line in lines:
        assert len(line) <= 78 or lone(line), line
    assert address in lines  # the footer's address, on a line of its own
    flat = re.sub(r"\s", "", text)
    assert re.sub(r"\s", "", f"Dear {name or 'colleague'},") in flat


def test_long_links_stand_alone(composer):
    ann = Recipient("a@example.org", "Ann", "<m@x>", "t")
    lines = text_part(composer.compose(ann)).splitlines()
    assert INLINE_URL in lines  # written out in a summary: wrapped onto a line of its own
    assert any(re.fullmatch(rf"\[\d+\] {re.escape(LONG_URL)}", line) for line in lines)
    assert "Dear Ann," in lines


@given(
    st.lists(
        st.text(
            st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=120
        ),
        min_size=2,
    )
)
def test_the_fast_encoding_of_wrapped_lines_decodes_as_the_careful_one(lines):
    text = "\n".join(lines)
    fast, careful = qp_lines(text), qp(text)
    assert quopri.decodestring(fast) == quopri.decodestring(careful)
    assert all(len(line) <= 76 for line in fast.split(b"\r\n"))
    assert not re.search(rb"^(\.|From )", fast, re.M)  # no dot-stuffing, no mbox "From "
