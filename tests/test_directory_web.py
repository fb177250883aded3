"""newsletter.directory.web: "Check your entry", a steward's roster and the members'
directory, on the real app served on 127.0.0.1 with a real contacts.db."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from types import SimpleNamespace

import pytest
from helpers import cli, dump, needs_chromium, serve_app, until

from newsletter import tokens
from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.models import Contact
from newsletter.server import create_app
from newsletter.store import open_db
from newsletter.store.contacts import create_contact, history, mark_left
from newsletter.store.proposals import pending_proposals

SECRET = b"a-test-secret-that-is-long-enough"
DAY = 86400
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def folks(project):
    """Jane and Ana at UNICEF, Omar at UNDP, and a UNICEF seat Lea left (vacant)."""
    db = open_db(project / "contacts.db")
    made = {}
    for key, email, name, org, phone in (
        ("jane", "jane.doe@unicef.example", "Jane Doe", "UNICEF", "+41 22 917 12 34"),
        ("ana", "ana@unicef.example", "Ana Lima", "UNICEF", ""),
        ("lea", "lea@unicef.example", "Lea Soon", "UNICEF", ""),
        ("omar", "omar@undp.example", "Omar Haddad", "UNDP", "+1 212 906 5000"),
    ):
        contact = Contact(
            email=email, name=name, organisation=org, phone=phone, job_title="Focal point"
        )
        made[key] = create_contact(db, contact, "test", "t")
    mark_left(db, made["lea"].id, "test", "t")
    db.conn.close()
    return SimpleNamespace(**made)


@pytest.fixture
def web(project, folks):
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET, wait=0.3)
    with serve_app(app) as base:
        yield base


def link(purpose, contact, days_ago: float = 0) -> str:
    return tokens.make_link_token(SECRET, purpose, contact.id, time.time() - days_ago * DAY)


def fetch(url, form=None, method=None):
    """(status, page, headers) of one request over HTTP; ``form`` makes it a POST."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode(), reply.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def text(page: str) -> str:
    """The page's words, tags out, spaces folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def csrf(web, token) -> str:
    status, page, _ = fetch(f"{web}/entry/{token}")
    assert status == 200, page
    return CSRF.search(page)[1]


def post(web, token, action, **fields):
    form = {"csrf": csrf(web, token), **fields}
    return fetch(f"{web}/entry/{token}/{action}", form)


def queue(project):
    db = open_db(project / "contacts.db")
    try:
        return [
            (p.kind, p.contact_id, p.fields, p.source, p.proposed_by) for p in pending_proposals(db)
        ]
    finally:
        db.conn.close()


def correction(who, **changes):
    """The correction form as the page fills it for ``who``, with ``changes``."""
    values = {
        "name": who.name,
        "job_title": who.job_title,
        "phone": who.phone,
        "city": who.city,
        "email": who.email,
    }
    return values | changes


# -- "Check your entry": a GET shows, and changes nothing ---------------------------


def test_the_entry_page_shows_the_entry_and_a_get_changes_nothing(project, folks, web):
    before = dump(project / "contacts.db")
    token = link(tokens.ENTRY, folks.jane)
    for _ in range(3):  # a mail scanner following the link
        status, page, headers = fetch(f"{web}/entry/{token}")
        assert status == 200
    assert fetch(f"{web}/entry/{token}", method="HEAD")[0] == 200
    assert fetch(f"{web}/entry/{token}/correct")[0] == 200  # a form's URL: shown only
    assert dump(project / "contacts.db") == before
    words = text(page)
    for shown in (
        "Name Jane Doe",
        "Job title Focal point",
        "Organisation UNICEF",
        "Role Private-sector focal point",
        "Phone +41 22 917 12 34",
        "Email jane.doe@unicef.example",
        "Last confirmed Never",
        "This is correct",
        "Correct my entry",
        "I have left this role",
    ):
        assert shown in words, shown
    assert "every seat" not in words  # not a steward
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert len(CSRF.findall(page)) == 3  # one per form


def test_this_is_correct_records_the_confirmation_at_once(project, folks, web):
    token = link(tokens.ENTRY, folks.jane)
    status, page, _ = post(web, token, "confirm")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert status == 200
    assert f"Your entry is confirmed We recorded on {today} that your entry is correct." in text(
        page
    )
    last = history(open_db(project / "contacts.db"), folks.jane.id)[-1]
    assert (last.field, last.old, last.source, last.actor) == (
        "confirmed_at",
        None,
        "entry-link",
        "recipient",
    )
    assert last.new.startswith(today)
    assert queue(project) == []  # no review: it changes no data
    assert f"Last confirmed {today}" in text(fetch(f"{web}/entry/{token}")[1])


def test_a_correction_becomes_one_proposal_of_what_differs(project, folks, web):
    token = link(tokens.ENTRY, folks.jane)
    form = correction(folks.jane, phone="+41 22 917 00 00", city="Geneva")
    status, page, _ = post(web, token, "correct", **form)
    assert status == 200
    assert "Thank you The editor will review your change" in text(page)
    assert "Nothing changes in the directory until the editor has reviewed it." in text(page)
    expected = [
        (
            "correct",
            folks.jane.id,
            {"city": "Geneva", "phone": "+41 22 917 00 00"},
            "self-service",
            folks.jane.id,
        )
    ]
    assert queue(project) == expected
    again = post(web, token, "correct", **form)  # the same form sent twice
    assert again[0] == 200 and "already sent this change" in again[1]
    assert queue(project) == expected
    today = time.strftime("%Y-%m-%d", time.gmtime())
    page = fetch(f"{web}/entry/{token}")[1]
    assert f"A change you proposed on {today} is waiting for review." in text(page)
    assert "Phone +41 22 917 12 34" in text(page)  # nothing applied before review


def test_a_correction_with_nothing_new_queues_nothing(project, folks, web):
    token = link(tokens.ENTRY, folks.jane)
    status, page, _ = post(web, token, "correct", **correction(folks.jane))
    assert status == 200
    assert "Nothing to change: the values you sent are the ones in the directory" in text(page)
    assert queue(project) == []


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("email", "not-an-address", "'not-an-address' is not a valid email address"),
        ("name", "Jane\x07Doe", "Name 'Jane\\u0007Doe' contains the control character U+0007"),
        ("city", "x" * 301, "City 'xxxxxxxxxx"),
    ],
)
def test_a_refused_correction_shows_the_error_beside_its_field(
    project, folks, web, field, value, error
):
    before = dump(project / "contacts.db")
    token = link(tokens.ENTRY, folks.jane)
    status, page, _ = post(web, token, "correct", **correction(folks.jane, **{field: value}))
    assert status == 400
    key = f"correct-{folks.jane.id}-{field}"
    found = re.search(
        rf'<input id="{key}" name="{field}"[^>]*aria-invalid="true" '
        rf'aria-describedby="{key}-error">\s*<span class="error" id="{key}-error">([^<]*)</span>',
        page,
    )
    assert found, page
    assert error in found[1].replace("&#39;", "'")
    assert "<details open>" in page  # the refused form stays open
    assert dump(project / "contacts.db") == before


def test_i_have_left_with_and_without_a_successor(project, folks, web):
    token = link(tokens.ENTRY, folks.jane)
    status, page, _ = post(web, token, "left")
    assert status == 200 and "The editor will review your change" in text(page)
    successor = {
        "successor_name": "Sam New",
        "successor_email": "Sam.New@UNICEF.example",
        "successor_job_title": "Partnerships officer",
    }
    assert post(web, token, "left", **successor)[0] == 200
    assert queue(project) == [
        ("left", folks.jane.id, {}, "self-service", folks.jane.id),
        (
            "left",
            folks.jane.id,
            {
                "successor_email": "sam.new@unicef.example",
                "successor_job_title": "Partnerships officer",
                "successor_name": "Sam New",
            },
            "self-service",
            folks.jane.id,
        ),
    ]


@pytest.mark.parametrize(
    ("successor", "field", "error"),
    [
        ({"successor_name": "Sam New"}, "successor_email", "Successor's email is needed"),
        ({"successor_email": "sam@"}, "successor_email", "is not a valid email address"),
    ],
)
def test_a_successor_without_a_good_address_is_refused(
    project, folks, web, successor, field, error
):
    token = link(tokens.ENTRY, folks.jane)
    status, page, _ = post(web, token, "left", **successor)
    assert status == 400
    key = f"left-{folks.jane.id}-{field}"
    span = re.search(rf'<span class="error" id="{key}-error">([^<]*)</span>', page)
    assert span and error in span[1].replace("&#39;", "'")
    assert queue(project) == []


# -- tokens: forged, expired, swapped, wrong purpose ---------------------------------


def _swapped(folks):
    jane, omar = link(tokens.ENTRY, folks.jane), link(tokens.ENTRY, folks.omar)
    return jane.split(".")[0] + "." + omar.split(".")[1]


BAD = {
    "forged": lambda f: link(tokens.ENTRY, f.jane).split(".")[0] + "." + "A" * 43,
    "expired": lambda f: link(tokens.ENTRY, f.jane, days_ago=tokens.LINK_MAX_AGE + 1),
    "dated ahead": lambda f: link(tokens.ENTRY, f.jane, days_ago=-3),
    "swapped": _swapped,
    "unsubscribe token": lambda f: tokens.make_token(SECRET, f.jane.id, "2026-Q4"),
    "members token": lambda f: link(tokens.MEMBERS, f.jane),
    "another secret": lambda f: tokens.make_link_token(
        b"another-secret-0123456789", tokens.ENTRY, f.jane.id, time.time()
    ),
    "truncated": lambda f: link(tokens.ENTRY, f.jane)[:-4],
}


@pytest.mark.parametrize("how", BAD)
def test_a_bad_entry_token_gets_400_and_changes_nothing(project, folks, web, how):
    token = BAD[how](folks)
    before = dump(project / "contacts.db")
    now = int(time.time())
    form = {"csrf": tokens.make_form_token(SECRET, token, now), **correction(folks.jane, city="X")}
    assert fetch(f"{web}/entry/{token}")[0] == 400
    for action in ("confirm", "correct", "left"):
        status, page, _ = fetch(f"{web}/entry/{token}/{action}", form)
        assert status == 400
        assert "This link is not valid" in page
    assert dump(project / "contacts.db") == before


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("members", lambda f: link(tokens.ENTRY, f.jane)),  # an ENTRY token on /members/
        ("members", lambda f: link(tokens.MEMBERS, f.jane, days_ago=tokens.LINK_MAX_AGE + 1)),
        ("members", lambda f: tokens.make_token(SECRET, f.jane.id, "2026-Q4")),
        ("unsubscribe", lambda f: link(tokens.ENTRY, f.jane)),  # an ENTRY token on /unsubscribe/
        ("unsubscribe", lambda f: link(tokens.MEMBERS, f.jane)),
    ],
    ids=[
        "entry-on-members",
        "expired-members",
        "unsubscribe-on-members",
        "entry-on-unsubscribe",
        "members-on-unsubscribe",
    ],
)
def test_a_token_for_another_page_gets_400_and_changes_nothing(project, folks, web, path, make):
    token = make(folks)
    before = dump(project / "contacts.db")
    assert fetch(f"{web}/{path}/{token}")[0] == 400
    assert fetch(f"{web}/{path}/{token}", {"List-Unsubscribe": "One-Click"})[0] in (400, 405)
    if path == "members":
        assert fetch(f"{web}/members/{token}/{folks.omar.id}.vcf")[0] == 400
    assert dump(project / "contacts.db") == before


@pytest.mark.parametrize("path", ["/entry", "/entry/", "/entry/x/y/z", "/members", "/members//x"])
def test_a_link_cut_short_gets_400(web, path):
    assert fetch(web + path)[0] == 400


@pytest.mark.parametrize(
    "csrf_of",
    [
        lambda token: None,  # no CSRF token at all
        lambda token: "",
        lambda token: tokens.make_form_token(SECRET, token, int(time.time()) - 2 * DAY),  # stale
        lambda token: tokens.make_form_token(
            SECRET, token + "x", int(time.time())
        ),  # another link's
        lambda token: "1." + "A" * 43,
    ],
    ids=["missing", "empty", "stale", "another-link", "forged"],
)
def test_a_post_without_a_good_csrf_token_gets_400_and_queues_nothing(project, folks, web, csrf_of):
    token = link(tokens.ENTRY, folks.jane)
    before = dump(project / "contacts.db")
    sent = csrf_of(token)
    form = correction(folks.jane, city="Elsewhere") | ({} if sent is None else {"csrf": sent})
    for action in ("confirm", "correct", "left"):
        status, page, _ = fetch(f"{web}/entry/{token}/{action}", form)
        assert status == 400
        assert "This form was too old or incomplete" in text(page)
    assert dump(project / "contacts.db") == before


# -- stewards ------------------------------------------------------------------------


def test_a_steward_sees_the_roster_and_proposes_for_its_seats_only(project, folks, web):
    result = cli(project, "directory", "steward", folks.jane.email)
    assert result.output == "jane.doe@unicef.example is a steward of UNICEF.\n"
    token = link(tokens.ENTRY, folks.jane)
    page = text(fetch(f"{web}/entry/{token}")[1])
    assert "UNICEF: every seat" in page
    assert "Name Ana Lima" in page and "Role Alternate" in page
    assert re.search(r"Vacant since \d{4}-\d\d-\d\d", page)
    assert "Omar" not in page
    # A correction and a departure for Ana, someone new for the vacant seat.
    ana = correction(folks.ana, job_title="Partnerships specialist", contact=str(folks.ana.id))
    status, receipt, _ = post(web, token, "correct", **ana)
    assert status == 200 and "It is about Ana Lima." in text(receipt)
    assert post(web, token, "left", contact=str(folks.ana.id))[0] == 200
    db = open_db(project / "contacts.db")
    from newsletter.store.seats import seats

    vacant = [s for s in seats(db) if s.vacant][0]
    undp = [s for s in seats(db) if s.holder == folks.omar.id][0]
    db.conn.close()
    new = {"seat": str(vacant.id), "name": "Kim Park", "email": "kim@unicef.example"}
    assert post(web, token, "new", **new)[0] == 200
    expected = [
        (
            "correct",
            folks.ana.id,
            {"job_title": "Partnerships specialist"},
            "steward",
            folks.jane.id,
        ),
        ("left", folks.ana.id, {}, "steward", folks.jane.id),
        (
            "new",
            None,
            {"email": "kim@unicef.example", "name": "Kim Park"},
            "steward",
            folks.jane.id,
        ),
    ]
    assert queue(project) == expected
    # Never anyone outside UNICEF: Omar, a seat of UNDP, a made-up contact or seat.
    before = dump(project / "contacts.db")
    for action, form in (
        ("correct", correction(folks.omar, city="Paris", contact=str(folks.omar.id))),
        ("left", {"contact": str(folks.omar.id)}),
        ("correct", correction(folks.omar, contact="99999")),
        ("correct", correction(folks.omar, contact="-1")),
        ("new", {"seat": str(undp.id), "email": "x@undp.example"}),
        ("new", {"seat": "99999", "email": "x@undp.example"}),
        ("new", {"email": "x@undp.example"}),
    ):
        status, page, _ = post(web, token, action, **form)
        assert status == 403, (action, form)
        assert "You cannot propose changes for this entry" in text(page)
    assert dump(project / "contacts.db") == before


def test_someone_who_is_no_steward_acts_on_their_own_entry_only(project, folks, web):
    token = link(tokens.ENTRY, folks.ana)
    for action, form in (
        ("correct", correction(folks.jane, city="Paris", contact=str(folks.jane.id))),
        ("left", {"contact": str(folks.jane.id)}),
    ):
        assert post(web, token, action, **form)[0] == 403
    assert queue(project) == []


def test_after_leaving_the_page_proposes_nothing(project, folks, web):
    token = link(tokens.ENTRY, folks.jane)
    sent = csrf(web, token)
    db = open_db(project / "contacts.db")
    mark_left(db, folks.jane.id, "test", "t")
    db.conn.close()
    status, page, _ = fetch(f"{web}/entry/{token}/confirm", {"csrf": sent})
    assert status == 403 and "You are recorded as having left this role" in text(page)
    status, page, _ = fetch(f"{web}/entry/{token}")
    assert status == 200 and "This is correct" not in page
    assert "You are recorded as having left this role" in text(page)


# -- the steward command --------------------------------------------------------------


def test_the_steward_command(project, folks):
    email = folks.ana.email
    assert cli(project, "directory", "steward", email, "--organisation", "undp").output == (
        "ana@unicef.example is a steward of UNDP.\n"
    )
    again = cli(project, "directory", "steward", email, "--organisation", "UNDP", "--json")
    assert json.loads(again.output) == {
        "email": email,
        "organisation": "UNDP",
        "steward": True,
        "changed": False,
    }
    removed = cli(project, "directory", "steward", email, "--organisation", "UNDP", "--remove")
    assert removed.output == "ana@unicef.example is no longer a steward of UNDP.\n"
    db = open_db(project / "contacts.db")
    rows = [(h.field, h.old, h.new) for h in history(db, folks.ana.id) if h.field == "steward"]
    assert rows == [("steward", None, "UNDP"), ("steward", "UNDP", None)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nobody@example.org"],
            "Error: 'nobody@example.org': no such contact. Add them first with: "
            "newsletter contacts add EMAIL --organisation NAME\n",
        ),
        (
            ["ana@unicef.example", "--organisation", "WHO"],
            "Error: --organisation 'WHO': no such organisation. Use the name or acronym of one "
            "in the contacts (newsletter contacts list).\n",
        ),
    ],
)
def test_the_steward_command_refuses_what_is_not_there(project, folks, args, message):
    before = dump(project / "contacts.db")
    result = cli(project, "directory", "steward", *args)
    assert (result.exit_code, result.output) == (1, message)
    assert dump(project / "contacts.db") == before


# -- the members' directory ------------------------------------------------------------


def test_the_members_directory_shows_every_seat_with_addresses(project, folks, web):
    before = dump(project / "contacts.db")
    token = link(tokens.MEMBERS, folks.omar)
    status, page, headers = fetch(f"{web}/members/{token}")
    assert status == 200 and headers["Cache-Control"] == "no-store"
    words = text(page)
    assert words.index("UNDP") < words.index("UNICEF")
    for shown in (
        "Email jane.doe@unicef.example",
        "Phone +41 22 917 12 34",
        "Role Alternate",
        "Name Omar Haddad",
        "vCards of UNICEF",
    ):
        assert shown in words, shown
    assert re.search(r"Vacant since \d{4}-\d\d-\d\d", words)
    assert "lea@unicef.example" not in words  # who left is not listed
    assert dump(project / "contacts.db") == before


@pytest.mark.parametrize("end", ["left", "purged", "unlisted"])
def test_members_access_ends_when_the_person_leaves_or_is_erased(project, folks, web, end):
    token = link(tokens.MEMBERS, folks.omar)
    assert fetch(f"{web}/members/{token}")[0] == 200
    if end == "left":
        db = open_db(project / "contacts.db")
        mark_left(db, folks.omar.id, "test", "t")
        db.conn.close()
    elif end == "unlisted":  # left the directory: no longer one of its members
        assert cli(project, "contacts", "edit", folks.omar.email, "--unlisted").exit_code == 0
    else:
        assert (
            cli(project, "contacts", "remove", folks.omar.email, "--purge", "--yes").exit_code == 0
        )
    status, page, _ = fetch(f"{web}/members/{token}")
    assert status == 403
    assert "This link no longer opens the directory" in text(page)
    assert "jane.doe@unicef.example" not in page
    assert fetch(f"{web}/members/{token}/{folks.jane.id}.vcf")[0] == 403


def test_vcards_per_person_and_per_organisation(project, folks, web):
    vobject = pytest.importorskip("vobject")
    token = link(tokens.MEMBERS, folks.omar)
    status, body, headers = fetch(f"{web}/members/{token}/{folks.jane.id}.vcf")
    assert status == 200
    assert headers["Content-Type"] == "text/vcard; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="contact-{folks.jane.id}.vcf"'
    card = vobject.readOne(body)
    assert card.fn.value == "Jane Doe"
    assert card.email.value == "jane.doe@unicef.example"
    assert card.tel.value == "tel:+41229171234"
    assert card.org.value == ["UNICEF"]
    status, body, _ = fetch(f"{web}/members/{token}/org/{_org_of(project, folks.jane)}.vcf")
    assert status == 200
    names = sorted(c.fn.value for c in vobject.readComponents(body))
    assert names == ["Ana Lima", "Jane Doe"]
    # Who is not in the directory, and what does not exist: 404.
    assert fetch(f"{web}/members/{token}/{folks.lea.id}.vcf")[0] == 404
    assert fetch(f"{web}/members/{token}/99999.vcf")[0] == 404
    assert fetch(f"{web}/members/{token}/org/99999.vcf")[0] == 404


def _org_of(project, contact) -> int:
    from newsletter.store.seats import seat_of

    db = open_db(project / "contacts.db")
    try:
        return seat_of(db, contact.id).organisation_id
    finally:
        db.conn.close()


def test_a_busy_database_answers_503_and_records_nothing(project, folks, web):
    from helpers import hold_write_lock

    token = link(tokens.ENTRY, folks.jane)
    sent = csrf(web, token)
    writer = hold_write_lock(project / "contacts.db", 3)
    time.sleep(0.3)
    status, page, headers = fetch(
        f"{web}/entry/{token}/correct", {"csrf": sent, **correction(folks.jane, city="X")}
    )
    writer.join()
    assert status == 503 and headers["Retry-After"] == "300"
    assert "Nothing changed. Try again in a few minutes" in text(page)
    assert queue(project) == []


# -- in a browser -------------------------------------------------------------------


@needs_chromium
def test_the_correction_form_in_a_browser_at_375px(project, folks, web, tmp_path):
    token = link(tokens.ENTRY, folks.jane)
    with Browser() as browser:
        browser.open(f"{web}/entry/{token}", 375, mobile=True)
        assert browser.evaluate("document.documentElement.scrollWidth") <= 375
        browser.evaluate("document.querySelector('details summary').click()")
        key = f"correct-{folks.jane.id}"
        browser.evaluate(
            f"(() => {{ const f = document.querySelector('#{key}-phone');"
            " f.value = '+41 22 917 99 99'; return f.value; })()"
        )
        browser.evaluate(f"document.querySelector('#{key}').click()")
        until(browser, "document.body.innerText.includes('The editor will review your change')")
        assert browser.evaluate("document.documentElement.scrollWidth") <= 375
        browser.screenshot(tmp_path / "receipt.png")
    assert queue(project) == [
        ("correct", folks.jane.id, {"phone": "+41 22 917 99 99"}, "self-service", folks.jane.id)
    ]
