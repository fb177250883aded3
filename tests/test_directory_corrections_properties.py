"""newsletter.directory.corrections, by property: whatever the editor types, a correction
is one short line of plain text or one line of refusal, and its note is escaped."""

from __future__ import annotations

import datetime as dt
import html
import re

from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.directory.corrections import MAX_CHARS, correction_text
from newsletter.errors import NewsletterError
from newsletter.publish.webpage import with_corrections

UNSEEN = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TEXT = st.one_of(
    st.text(max_size=600),
    st.lists(
        st.sampled_from(["<script>", "&amp;", "%%EMAIL%%", "\n", "\u2028", " ", "é", "x"])
    ).map("".join),
)


@given(value=TEXT)
@example(value="x" * MAX_CHARS)
@example(value="x" * (MAX_CHARS + 1))
@example(value="\u2029")
def test_a_correction_is_one_short_line_or_one_line_of_refusal(value):
    try:
        found = correction_text(value)
    except NewsletterError as exc:
        message = exc.format_message()
        assert "\n" not in message and message.startswith("correction ")
        return
    assert found == " ".join(value.split()) and found
    assert len(found) <= MAX_CHARS and not UNSEEN.search(found)


@given(value=TEXT)
def test_the_archive_note_shows_the_text_and_no_markup_of_its_own(value):
    try:
        found = correction_text(value)
    except NewsletterError:
        return
    page = with_corrections("<main>\n</main>", [(dt.date(2026, 12, 1), found)])
    note = page.split("<strong>Correction, 1 December 2026:</strong> ", 1)[1].split("</p>")[0]
    assert "<" not in note and html.unescape(note) == found
