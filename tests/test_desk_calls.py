"""newsletter/desk/calls.py: the Call page on the real desk served on 127.0.0.1, with a
real SMTP server (aiosmtpd): the call to the listed focal points, its refusals, its
confirmation, and the reminder to the organisations still silent."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import requests
from helpers import SECRET, desk_server, form_csrf, make_issue

from newsletter.contacts import add_contact
from newsletter.store import calls, open_db
from newsletter.store.intake import Taken, record_taken

ISSUE = "2027-Q1"
PAGE = f"/issues/{ISSUE}/call"
FOCAL = ["ann@who.int", "bob@ilo.org", "cy@unep.org"]
DEADLINE = "2030-01-15"


@pytest.fixture
def desk(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(
            '\n[tool.newsletter.send]\nsender = "local"\nretry_delay = 0.01\n'
            '[tool.newsletter.senders.local]\nplugin = "smtp"\n'
            f'host = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\ntimeout = 10\n'
        )
    make_issue(project, ISSUE)
    people = [("ann@who.int", "WHO"), ("bob@ilo.org", "ILO"), ("cy@unep.org", "UNEP")]
    db = open_db(project / "contacts.db")
    for n, (email, org) in enumerate([*people, ("ivy@example.org", "")]):
        add_contact(db, {"email": email, "name": f"Person {n}", "organisation": org})
    db.conn.close()
    with desk_server(project) as base:
        yield base


def notices(page: str) -> list[str]:
    found = re.findall(r'<p class="(?:notice|error)" role="(?:status|alert)">([^<]*)</p>', page)
    return [html.unescape(text) for text in found]


def shown(page: str, id_: str) -> str:
    found = re.search(rf'<p(?: class="error")? id="{id_}">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found[1])


def post(session: requests.Session, base: str, path: str, **form: str) -> requests.Response:
    token = form_csrf(session.get(base + PAGE, timeout=30).text)
    return session.post(base + path, data={"csrf": token, **form}, timeout=90)


def call(session, base, deadline=DEADLINE, confirm="yes", expected="3"):
    form = {"sender": "local", "deadline": deadline, "expected": expected, "confirm": confirm}
    return post(session, base, PAGE, **form)


def test_the_page_says_no_call_yet_and_whom_it_would_reach(desk):
    page = requests.get(desk + PAGE, timeout=30).text
    assert shown(page, "called") == f"No call yet for {ISSUE} via local."
    assert shown(page, "to-call") == "3 listed focal point(s) to reach now."
    assert shown(page, "to-remind") == "A reminder follows the call: send the call first."
    assert "Send to 3 focal points via local" in page
    assert f'<a href="{PAGE}" aria-current="page">Call</a>' in page


def test_a_bad_deadline_shows_its_error_and_sends_nothing(desk, smtp):
    session = requests.Session()
    page = call(session, desk, deadline="2001-01-01").text
    assert notices(page) == [
        "--deadline 2001-01-01: that day has passed (today is "
        + re.search(r"today is (\d{4}-\d\d-\d\d)", page)[1]
        + ", UTC). Give today or a later day."
    ]
    page = call(session, desk, deadline="someday").text
    assert notices(page) == [
        "--deadline 'someday': not a date. Write it as 2027-01-15 or 15 January 2027."
    ]
    assert smtp.messages == []


def test_without_the_box_nothing_is_sent(desk, smtp):
    page = call(requests.Session(), desk, confirm="").text
    assert notices(page) == ["Tick the box to confirm the send, then press the button again."]
    assert smtp.messages == []


def test_the_call_reaches_each_listed_focal_point_once(desk, smtp):
    session = requests.Session()
    answer = call(session, desk)
    assert answer.history[0].status_code == 303
    assert notices(answer.text) == ["Sent 3 via local; 0 failed, 0 uncertain, 0 skipped."]
    assert sorted(smtp.per_recipient().items()) == [(a, 1) for a in sorted(FOCAL)]
    for message in smtp.messages:
        assert b"/submit/" in message.data
    assert shown(answer.text, "called") == "The call went out via local, deadline 2030-01-15."
    assert shown(answer.text, "to-call") == "0 listed focal point(s) to reach now."
    page = call(session, desk).text  # a second press
    assert notices(page) == ["call-2027-Q1 via local: nothing to send; everyone has it."]
    assert len(smtp.messages) == 3
    page = call(session, desk, deadline="2030-02-01").text
    assert notices(page) == [
        "The call for 2027-Q1 went out via local with the deadline Tuesday 15 January "
        "2030; a call keeps its deadline. Run it with --deadline 2030-01-15 to reach "
        "those who do not have it yet."
    ]
    assert len(smtp.messages) == 3


def test_the_reminder_reaches_only_the_silent(desk, smtp, project):
    session = requests.Session()
    form = {"sender": "local", "expected": "3", "confirm": "yes"}
    page = post(session, desk, f"{PAGE}/reminder", **form).text
    assert notices(page) == [
        "No call for 2027-Q1 was sent via local; run newsletter call 2027-Q1 "
        "--deadline DATE --sender local first."
    ]
    call(session, desk)
    db = open_db(project / "contacts.db")
    record_taken(db, [Taken("<1@x>", ISSUE, "item-1.md", "WHO")], "2026-12-01T00:00:00Z")
    db.conn.commit()
    db.conn.close()
    page = session.get(desk + PAGE, timeout=30).text
    assert shown(page, "to-remind") == (
        "2 focal point(s) of organisations still silent to remind today."
    )
    smtp.handler.messages.clear()
    page = post(session, desk, f"{PAGE}/reminder", **form | {"confirm": ""}).text
    assert notices(page) == ["Tick the box to confirm the send, then press the button again."]
    assert smtp.messages == []
    page = post(session, desk, f"{PAGE}/reminder", **form | {"expected": "2"}).text
    assert notices(page) == ["Sent 2 via local; 0 failed, 0 uncertain, 0 skipped."]
    assert sorted(smtp.per_recipient()) == ["bob@ilo.org", "cy@unep.org"]


def test_a_post_without_the_csrf_token_is_refused(desk, smtp):
    form = {"sender": "local", "deadline": DEADLINE, "expected": "3", "confirm": "yes"}
    answer = requests.post(desk + PAGE, data=form, timeout=30)
    assert answer.status_code == 400
    assert "The form was open too long, or it came from another site. Reload it." in answer.text
    assert smtp.messages == []
    page = requests.get(desk + PAGE, timeout=30).text
    assert shown(page, "called") == f"No call yet for {ISSUE} via local."


def test_a_call_that_never_went_may_take_a_new_deadline_once_its_day_passed(desk, smtp, project):
    db = open_db(project / "contacts.db")
    calls.record_call(db, ISSUE, "local", dt.date(2001, 1, 1), "2000-12-01T00:00:00Z")
    db.conn.close()
    session = requests.Session()
    page = session.get(desk + PAGE, timeout=30).text
    assert shown(page, "called") == "The call went out via local, deadline 2001-01-01."
    assert shown(page, "to-call") == "3 listed focal point(s) to reach now."
    today = re.search(r'id="deadline" name="deadline" value="([^"]+)"', page)[1]
    assert today == dt.datetime.now(dt.UTC).date().isoformat()
    page = call(session, desk).text
    assert notices(page) == ["Sent 3 via local; 0 failed, 0 uncertain, 0 skipped."]
    assert shown(page, "called") == "The call went out via local, deadline 2030-01-15."
