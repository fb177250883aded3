"""Properties of newsletter/desk/sending.py: whatever the test-send form holds, the
answer is the Send page with one line per address or one error, never a 500, and
nothing enters the ledger."""

from __future__ import annotations

import html
import re

import pytest
from helpers import PROPERTY, add_contacts, built, examples, ledger_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.config import load_settings
from newsletter.desk import desk_app
from newsletter.desk.sending import MAX_TESTS, addresses

NOTICE = re.compile(r'<p class="(notice|error)" role="(?:status|alert)">([^<]*)</p>')
ADDRESS = st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True)
FIELD = st.one_of(
    st.text(max_size=120),
    st.lists(st.one_of(ADDRESS, st.text(max_size=12)), max_size=12).map(", ".join),
)


@given(st.text(max_size=200))
def test_the_address_field_gives_each_address_once_and_no_blank(text):
    found = addresses(text)
    assert all(a and not re.search(r"[\s,;]", a) for a in found)
    assert len(set(found)) == len(found)
    assert all(a in text for a in found)


@pytest.fixture
def client(project):
    """The desk on a built issue and one contact; the outbox is the house sender."""
    built(project)
    add_contacts(project, 1)
    app = desk_app(load_settings(project), project / "contacts.db")
    return app.test_client(), project


@settings(max_examples=examples(40), **PROPERTY)
@given(to=FIELD)
def test_any_test_send_form_gets_the_page_with_a_line_per_address_or_one_error(client, to):
    browser, project = client
    page = browser.get("/issues/2026-Q4/send").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    reply = browser.post(
        "/issues/2026-Q4/send/test", data={"csrf": csrf, "to": to}, follow_redirects=True
    )
    assert reply.status_code == 200
    shown = [(kind, html.unescape(text)) for kind, text in NOTICE.findall(reply.get_data(True))]
    wanted = addresses(to)
    if shown and shown[-1][1].endswith("test message(s) tried."):
        assert 0 < len(wanted) <= MAX_TESTS
        assert [text.split(":")[0] for _, text in shown[:-1]] == [f"Test to {a}" for a in wanted]
    else:
        assert len(shown) == 1 and shown[0][0] == "error", shown
    assert ledger_rows(project) == []
