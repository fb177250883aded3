"""Properties of newsletter.intake.form (the contribution form's parser): whatever the boxes
hold, the form is either a candidate whose file passes the item reader `check` uses, or
errors named by field; through the app, never a 500, and a 303 only with one candidate
more in the inbox."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from helpers import PROPERTY, examples, make_issue
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import tokens
from newsletter.config import load_settings
from newsletter.intake.form import SIZES, SUMMARY, read_form
from newsletter.issue.inbox import render
from newsletter.issue.items import read_item_text
from newsletter.models import Contact
from newsletter.server import create_app
from newsletter.store import open_db
from newsletter.store.contacts import create_contact

SECRET = b"a-test-secret-that-is-long-enough"
NAMES = (*SIZES, SUMMARY)
PLAUSIBLE = {
    "title": ["Youth skills toolkit", "x" * 201, "A\r\nBcc: x@y.example", "%%NAME%%", "{{ x }}"],
    "section": ["news", "tools", "events", "spotlight", "gossip", ""],
    "link": ["https://www.unicef.example/t", "javascript:alert(1)", "http://x", "ftp://x"],
    "date": ["2026-11-12", "2027-02-30", "12 March 2027", "2026-13-01", "0001-01-01"],
    "image": ["https://www.unicef.example/p.jpg", "http://x.example/p.jpg", "data:image/png,x"],
    "image_alt": ["A picture", ""],
    "starts": ["2026-11-20", "2026-11-20 09:00", "2026-11-20 25:00", "2026-11-20T09:00+01:00"],
    "ends": ["2026-11-21", "2026-11-19", "2026-11-20 17:00"],
    "timezone": ["Europe/Zurich", "Europe/Genf", "UTC", "../../etc/passwd"],
    "location": ["Geneva", "Online"],
    "summary": ["Words.", "<script>alert(1)</script>", "**bold** [l](javascript:x)", "y" * 1501],
}
FORM = st.fixed_dictionaries(
    {},
    optional={
        name: st.one_of(st.text(max_size=40), st.sampled_from(PLAUSIBLE[name])) for name in NAMES
    },
)


@pytest.fixture
def issue(project):
    folder = make_issue(project)
    toml = folder / "issue.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "draft = true\n", encoding="utf-8")
    db = open_db(project / "contacts.db")
    jane = Contact(email="jane.doe@unicef.example", name="Jane Doe", organisation="UNICEF")
    made = create_contact(db, jane, "t", "t")
    db.conn.close()
    return project, folder, made


@settings(max_examples=examples(200), **PROPERTY)
@given(form=FORM)
def test_a_form_is_a_candidate_that_passes_check_or_errors_by_field(issue, form):
    project, folder, jane = issue
    settings_ = load_settings(project)
    sent = read_form(settings_, folder, form, jane)
    assert sent.values == {name: form.get(name, "") for name in NAMES}
    if sent.candidate is None:
        assert sent.errors and set(sent.errors) <= {*NAMES, ""}, sent.errors
        assert all(m and "\n" not in m for m in sent.errors.values())
        return
    assert sent.errors == {}
    text = render(sent.candidate, "2026-12-01T09:00:00+00:00")
    item, problems = read_item_text(text, "x", "inbox/x.md", settings_.section_keys, None)
    assert item is not None, problems
    assert [p for p in problems if p.severity == "error"] == []
    assert (item.source, item.contributor, item.organisation) == ("UNICEF", "Jane Doe", "UNICEF")
    assert "\n" not in item.title and "\r" not in item.title
    assert "<script" not in item.summary_html


@settings(max_examples=examples(60), **PROPERTY)
@given(
    form=st.dictionaries(
        st.one_of(st.sampled_from(NAMES), st.text(max_size=8)), st.text(max_size=60), max_size=12
    )
)
def test_any_post_gets_an_answer_never_a_500(issue, form):
    project, folder, jane = issue
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET)
    # Each form an hour after the last: the rate limit is tested on its own.
    app.extensions["newsletter.site"].posts.clock = itertools.count(0, 3600).__next__
    client = app.test_client()
    token = tokens.make_link_token(SECRET, tokens.SUBMIT, jane.id, time.time())
    page = client.get(f"/submit/{token}").get_data(as_text=True)
    hidden = dict(re.findall(r'name="(csrf|once)" value="([^"]*)"', page))
    before = len(list((folder / "inbox").glob("*.md")))
    reply = client.post(f"/submit/{token}", data={**form, **hidden})
    assert reply.status_code in (303, 400), reply.status_code
    after = len(list((folder / "inbox").glob("*.md")))
    assert after == before + (reply.status_code == 303)
