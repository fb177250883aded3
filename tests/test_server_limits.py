"""returns.ratelimit on serve: how often one genuine token may post, and count a click.

The limiter alone on a clock the test moves, then the real app served on
127.0.0.1: a form over the limit is 429 with Retry-After and the page and
records nothing; the one-click unsubscribe is never limited; a click over the
limit still redirects and is not counted; forged tokens take no memory."""

from __future__ import annotations

import re
import sqlite3
import time
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request

import pytest
from helpers import PROPERTY, built, dump, examples, serve_app
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter import tokens
from newsletter.config import load_settings
from newsletter.models import Contact
from newsletter.returns.ratelimit import CLICKS, MAX_KEYS, POSTS, Limiter
from newsletter.server import create_app
from newsletter.store import open_db
from newsletter.store.base import writing
from newsletter.store.contacts import change_contact, create_contact, get_contact

SECRET = b"a-test-secret-that-is-long-enough"
URL = "https://example.org/report"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the limiter alone ------------------------------------------------------------------


def test_ten_at_once_then_one_every_six_seconds():
    clock = Clock()
    limiter = Limiter(((10, 60.0), (60, 3600.0)), clock=clock)
    assert [limiter.hit("a") for _ in range(11)] == [0] * 10 + [6]
    assert limiter.hit("b") == 0  # another token has its own count
    clock.now += 5.5
    assert limiter.hit("a") == 1  # refused hits counted nothing: still half a second
    clock.now += 0.5
    assert limiter.hit("a") == 0
    assert limiter.hit("a") == 6


def test_the_hour_limit_holds_a_slow_loop():
    clock = Clock()
    limiter = Limiter(((10, 60.0), (60, 3600.0)), clock=clock)
    hours = []
    for _ in range(3):  # a hit every 6 seconds, which the minute's limit lets through
        allowed = 0
        for _ in range(3600 // 6):
            allowed += limiter.hit("a") == 0
            clock.now += 6
        hours.append(allowed)
    # The first hour: the burst of 60 (and what the hour regains meanwhile), then one
    # a minute; every hour after: 60.
    assert hours == [119, 60, 60]


@settings(max_examples=examples(200), deadline=None, **PROPERTY)
@given(
    steps=st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=300),
    count=st.integers(1, 20),
    period=st.sampled_from([1.0, 60.0, 3600.0]),
)
def test_never_more_than_count_plus_the_rate_in_any_stretch(steps, count, period):
    """Whatever the times of the hits, those allowed in any stretch of time t number at
    most count + t * count / period; a refused hit answers how long until one is."""
    clock = Clock()
    limiter = Limiter(((count, period),), clock=clock)
    allowed = []
    for step in steps:
        clock.now += step
        wait = limiter.hit("token")
        if wait == 0:
            allowed.append(clock.now)
        else:
            assert 1 <= wait <= period / count + 1
    for i, start in enumerate(allowed):
        for j in range(i, len(allowed)):
            assert j - i + 1 <= count + (allowed[j] - start) * count / period + 1e-6


def test_memory_is_bounded_by_max_keys_and_keeps_no_token():
    limiter = Limiter(POSTS, max_keys=100)
    for n in range(5000):
        limiter.hit(f"token-{n}")
    assert len(limiter) == 100
    assert limiter.hit("token-4999") == 0  # the most recent are the ones kept
    kept = b"".join(limiter._due)  # 16-byte hashes only
    assert b"token" not in kept and len(kept) == 100 * 16


def test_a_full_limiter_stays_small():
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        limiter = Limiter(CLICKS)
        for n in range(MAX_KEYS * 3):
            limiter.hit(f"click-{n}")
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(limiter) == MAX_KEYS
    assert used < 5 * 1024 * 1024, used


@pytest.mark.parametrize("limits", [(), ((0, 60.0),), ((10, 0.0),)])
def test_a_limit_that_allows_nothing_is_refused(limits):
    with pytest.raises(ValueError):
        Limiter(limits)


# -- on the served app ------------------------------------------------------------------


@pytest.fixture
def jane(project):
    db = open_db(project / "contacts.db")
    contact = Contact(
        email="jane.doe@unicef.example", name="Jane Doe", organisation="UNICEF", job_title="FP"
    )
    made = create_contact(db, contact, "test", "t")
    db.conn.close()
    return made


def still(app):
    """``app`` with its limiters' clocks stopped: what a test counts is what the limit
    allows at once, however slow the machine."""
    site = app.extensions["newsletter.site"]
    site.posts.clock = site.clicks.clock = Clock()
    return app


@pytest.fixture
def app(project, jane):
    return still(
        create_app(load_settings(project), project / "contacts.db", secret=SECRET, wait=0.3)
    )


@pytest.fixture
def web(app):
    with serve_app(app) as base:
        yield base


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url, form=None, method=None):
    """(status, page, headers) of one request; ``form`` makes it a POST."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with OPENER.open(urllib.request.Request(url, data, method=method), timeout=30) as reply:
            return reply.status, reply.read().decode(), reply.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


TOO_OFTEN = (
    "This link was used too often Forms were sent from this link many times in a short "
    "while, so this one was not recorded and nothing changed. Wait a minute, then go back "
    "and send it again."
)


def assert_too_often(status, page, headers):
    assert (status, headers["Retry-After"]) == (429, "6")
    assert TOO_OFTEN in text(page)
    assert headers["Cache-Control"] == "no-store"
    assert "<title>Please wait · " in page


def test_the_entry_forms_of_one_link_post_ten_a_minute_then_429(project, jane, web):
    token = tokens.make_link_token(SECRET, tokens.ENTRY, jane.id, time.time())
    status, page, _ = fetch(f"{web}/entry/{token}")
    form = {"csrf": CSRF.search(page)[1]}
    answers = [fetch(f"{web}/entry/{token}/confirm", form)[0] for _ in range(POSTS[0][0])]
    assert answers == [200] * 10
    before = dump(project / "contacts.db")
    assert_too_often(*fetch(f"{web}/entry/{token}/confirm", form))
    assert_too_often(*fetch(f"{web}/entry/{token}/left", form | {"successor": ""}))
    assert dump(project / "contacts.db") == before
    assert fetch(f"{web}/entry/{token}")[0] == 200  # reading the page is not limited
    other = tokens.make_link_token(SECRET, tokens.ENTRY, jane.id, time.time() - 86400)
    assert fetch(f"{web}/entry/{other}/confirm", form)[0] == 400  # its own count: no 429


def test_forged_tokens_count_nothing_and_take_no_memory(project, jane, app, web):
    site = app.extensions["newsletter.site"]
    genuine = tokens.make_link_token(SECRET, tokens.ENTRY, jane.id, time.time())
    payload = genuine.split(".")[0]
    for n in range(300):
        forged = f"{payload}.{n:043d}"
        assert fetch(f"{web}/entry/{forged}/confirm", {"csrf": "x"})[0] == 400
        assert fetch(f"{web}/r/{forged}")[0] == 400
    assert (len(site.posts), len(site.clicks)) == (0, 0)
    assert fetch(f"{web}/entry/{genuine}/confirm", {"csrf": "x"})[0] == 400  # stale form
    assert (len(site.posts), len(site.clicks)) == (1, 0)  # the genuine token's post counts


def test_leaving_the_directory_is_limited_too(project, jane, web):
    token = tokens.make_token(SECRET, jane.id, "2026-Q4")
    form = {"csrf": tokens.make_form_token(SECRET, token, int(time.time()))}
    answers = [fetch(f"{web}/unsubscribe/{token}/directory", form)[0] for _ in range(10)]
    assert answers == [200] * 10
    assert_too_often(*fetch(f"{web}/unsubscribe/{token}/directory", form))


def test_the_one_click_unsubscribe_is_never_limited(project, jane, web):
    token = tokens.make_token(SECRET, jane.id, "2026-Q4")
    one_click = {"List-Unsubscribe": "One-Click"}
    answers = {fetch(f"{web}/unsubscribe/{token}", one_click)[0] for _ in range(3 * POSTS[0][0])}
    assert answers == {200}
    db = open_db(project / "contacts.db")
    try:
        with writing(db):  # put back on the list by hand, by mistake
            change_contact(db, get_contact(db, jane.id), {"status": "subscribed"}, "manual")
        assert get_contact(db, jane.id).status == "subscribed"
        status, page, _ = fetch(f"{web}/unsubscribe/{token}", one_click)
        assert status == 200 and "You are unsubscribed" in page
        assert get_contact(db, jane.id).status == "unsubscribed"
    finally:
        db.conn.close()


def clicks(project) -> list[tuple]:
    with sqlite3.connect(project / "contacts.db") as conn:
        return conn.execute("SELECT issue, link, url, count FROM clicks").fetchall()


def test_a_click_over_the_limit_still_redirects_and_is_not_counted(project, web):
    token = tokens.make_click_token(SECRET, "2026-Q4", 1, URL)
    for _ in range(CLICKS[0][0] + 5):
        status, _, headers = fetch(f"{web}/r/{token}")
        assert (status, headers["Location"]) == (302, URL)
    assert clicks(project) == [("2026-Q4", 1, URL, CLICKS[0][0])]
    other = tokens.make_click_token(SECRET, "2026-Q4", 2, URL)
    assert fetch(f"{web}/r/{other}")[0] == 302
    assert sorted(clicks(project)) == [("2026-Q4", 1, URL, 60), ("2026-Q4", 2, URL, 1)]


def test_a_reviewer_comments_ten_times_a_minute_then_429(project, jane):
    built(project)
    app = still(
        create_app(load_settings(project), project / "contacts.db", secret=SECRET, wait=0.3)
    )
    token = tokens.make_review_token(SECRET, "2026-Q4", "director@example.org", time.time())
    form = {"csrf": tokens.make_form_token(SECRET, token, int(time.time())), "comment": "Ok"}
    with serve_app(app) as web:
        answers = [fetch(f"{web}/review/{token}/comment", form)[0] for _ in range(10)]
        assert answers == [200] * 10
        before = dump(project / "contacts.db")
        assert_too_often(*fetch(f"{web}/review/{token}/approve", form))
        assert dump(project / "contacts.db") == before


def test_a_repeated_one_click_unsubscribe_is_a_read_only(project, jane, web):
    """Unlimited, a repeat must cost no more than a GET: it takes no write lock, so it is
    answered at once while another program writes, not queued in the journal."""
    from helpers import hold_write_lock

    from newsletter.store.journal import journal_path

    token = tokens.make_token(SECRET, jane.id, "2026-Q4")
    one_click = {"List-Unsubscribe": "One-Click"}
    assert fetch(f"{web}/unsubscribe/{token}", one_click)[0] == 200
    writer = hold_write_lock(project / "contacts.db", 2)
    try:
        status, page, _ = fetch(f"{web}/unsubscribe/{token}", one_click)
    finally:
        writer.join()
    assert status == 200 and "You were already unsubscribed" in page
    assert not journal_path(project / "contacts.db").exists()
