"""Properties of newsletter.directory.web: whatever a form sends, the answer is never a
500, and it either queues a proposal whose values pass the contact rules, or nothing."""

from __future__ import annotations

import itertools
import time

import pytest
from helpers import PROPERTY, examples
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import tokens
from newsletter.config import load_settings
from newsletter.contacts.fields import ROW
from newsletter.directory import steward
from newsletter.models import Contact
from newsletter.server import create_app
from newsletter.store import open_db
from newsletter.store.contacts import create_contact, mark_left
from newsletter.store.proposals import pending_proposals
from newsletter.store.seats import seats

SECRET = b"a-test-secret-that-is-long-enough"
NAMES = [
    "name",
    "job_title",
    "phone",
    "city",
    "email",
    "successor_name",
    "successor_email",
    "successor_job_title",
    "contact",
    "seat",
    "country",
    "status",
    "listed",
]
VALUE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["", "a@b.example", "Jane <jane@x.example>", "1", "2", "3", "4", "5", "-1", "x" * 1200]
    ),
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True),
)
FORM = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), VALUE, max_size=8)


@pytest.fixture
def app(project):
    db = open_db(project / "contacts.db")
    ids = {}
    for key, email, org in (
        ("jane", "jane@unicef.example", "UNICEF"),
        ("ana", "ana@unicef.example", "UNICEF"),
        ("lea", "lea@unicef.example", "UNICEF"),
        ("omar", "omar@undp.example", "UNDP"),
    ):
        ids[key] = create_contact(db, Contact(email=email, name=key, organisation=org), "t", "t").id
    mark_left(db, ids["lea"], "test", "t")
    steward(db, "jane@unicef.example")
    db.conn.close()
    made = create_app(load_settings(project), project / "contacts.db", secret=SECRET)
    # Each form an hour after the last, for the rate limit: it is not what this tests
    # (tests/test_server_limits.py is), and Hypothesis sends many from one link.
    made.extensions["newsletter.site"].posts.clock = itertools.count(0, 3600).__next__
    return made.test_client(), project, ids


RULE = {"successor_name": "name", "successor_email": "email", "successor_job_title": "job_title"}


def passes_the_rules(fields: dict[str, str]) -> bool:
    raw = {RULE.get(k, k): v for k, v in fields.items()}
    checked = ROW.check(raw)
    return checked.ok and all(checked.values[k] == v for k, v in raw.items())


@settings(max_examples=examples(60), **PROPERTY)
@given(action=st.sampled_from(["confirm", "correct", "left", "new"]), form=FORM)
def test_any_form_gets_an_answer_and_a_valid_proposal_or_nothing(app, action, form):
    client, project, ids = app
    token = tokens.make_link_token(SECRET, tokens.ENTRY, ids["jane"], time.time())
    csrf = tokens.make_form_token(SECRET, token, int(time.time()))
    db = open_db(project / "contacts.db")
    before = {p.id for p in pending_proposals(db)}
    reply = client.post(f"/entry/{token}/{action}", data={**form, "csrf": csrf})
    assert reply.status_code in (200, 400, 403), reply.status_code
    added = [p for p in pending_proposals(db) if p.id not in before]
    vacant = {s.id for s in seats(db) if s.vacant}
    db.conn.close()
    if reply.status_code != 200 or action == "confirm":
        assert added == []
        return
    assert len(added) <= 1
    for proposal in added:
        assert passes_the_rules(proposal.fields), proposal.fields
        assert proposal.proposed_by == ids["jane"]
        if proposal.kind == "new":
            assert proposal.organisation == "UNICEF" and proposal.fields.get("email")
            assert int(form["seat"]) in vacant
        else:
            assert proposal.contact_id in (ids["jane"], ids["ana"])  # never Omar of UNDP
