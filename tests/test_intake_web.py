"""newsletter.intake.web: the contribution form of /submit/<token>, on the real app served
on 127.0.0.1 with a real contacts.db and issue folder, its acknowledgement through the
outbox or aiosmtpd on 127.0.0.1; and a focal point's whole walk on a real `serve`
process in headless Chromium at 375 px."""

from __future__ import annotations

import datetime as dt
import email
import html
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email import policy
from pathlib import Path

import pytest
import yaml
from helpers import (
    SECRET,
    cli,
    free_port,
    inbox_files,
    needs_chromium,
    serve_app,
    state,
    until,
)

from newsletter import tokens
from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.issue.items import summary_of
from newsletter.server import create_app
from newsletter.store import open_db
from newsletter.store.contacts import contacts_by_email, mark_left
from newsletter.store.purge import purge

KEY = SECRET.encode()
# Read at import: the tests' own fixture clears every NEWSLETTER_ variable.
SHOTS = (
    os.environ.get("NEWSLETTER_SCREENSHOTS")
    and Path(os.environ["NEWSLETTER_SCREENSHOTS"]).resolve()
)
JANE = "jane.doe@unicef.example"
ISSUE = "2026-Q4"
GOOD = {
    "title": "Youth skills toolkit launched",
    "section": "tools",
    "link": "https://www.unicef.example/toolkit",
    "date": "2026-11-12",
    "summary": "UNICEF has published a **toolkit** on youth skills for companies.",
}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 303 itself is what is checked
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url: str, form: dict | None = None):
    """(status, page, headers) of one request, redirects not followed."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with OPENER.open(urllib.request.Request(url, data=data), timeout=30) as reply:
            return reply.status, reply.read().decode(), reply.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, page
    return found[1]


def words(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def open_for_contributions(project: Path) -> None:
    """The issue made by ``make_issue`` as ``newsletter new`` makes one: a draft."""
    toml = project / "issues" / ISSUE / "issue.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "draft = true\n", encoding="utf-8")


def contact_id(project: Path, address: str = JANE) -> int:
    db = open_db(project / "contacts.db")
    try:
        found = contacts_by_email(db, [address])[address].id
    finally:
        db.conn.close()
    assert found is not None
    return found


def link(project: Path, purpose: bytes = tokens.SUBMIT, address: str = JANE) -> str:
    return tokens.make_link_token(KEY, purpose, contact_id(project, address), time.time())


def front(project: Path, name: str) -> tuple[dict, str]:
    text = (project / "issues" / ISSUE / "inbox" / name).read_text(encoding="utf-8")
    _, head, body = text.split("---\n", 2)
    return yaml.safe_load(head), body


def acks(project: Path) -> list[email.message.EmailMessage]:
    """The acknowledgements the outbox sender wrote."""
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((project / "mailings").rglob("*.eml"))
    ]


@pytest.fixture
def site(contributors, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    open_for_contributions(contributors)
    return contributors


@pytest.fixture
def web(site):
    app = create_app(load_settings(site), site / "contacts.db", secret=KEY, wait=0.3)
    with serve_app(app) as base:
        yield base


def form_of(web: str, token: str, **values: str) -> dict[str, str]:
    """A fresh page's hidden fields with ``values``: what a browser would post."""
    status, page, _ = fetch(f"{web}/submit/{token}")
    assert status == 200, page
    return {"csrf": hidden(page, "csrf"), "once": hidden(page, "once"), **values}


def test_the_form_offers_the_house_sections_and_its_limits_and_a_get_changes_nothing(site, web):
    token = link(site)
    before = state(site)
    status, page, headers = fetch(f"{web}/submit/{token}")
    assert status == 200
    assert "Your news for issue 2026-Q4" in words(page)
    assert "You are sending as Jane Doe, UNICEF." in words(page)
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options == ["news", "tools", "events", "spotlight"]
    assert "at most 1,500 characters" in words(page)
    assert "<legend>For an event</legend>" in page
    assert re.fullmatch(r"[0-9a-f]{32}", hidden(page, "once"))
    policy_ = headers["Content-Security-Policy"]
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'$", policy_), policy_
    assert policy_.startswith("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    assert hidden(page, "once") != hidden(fetch(f"{web}/submit/{token}")[1], "once")
    assert state(site) == before
    assert inbox_files(site) == []


def test_a_form_becomes_a_candidate_with_the_contributor_and_organisation(site, web):
    token = link(site)
    status, page, headers = fetch(f"{web}/submit/{token}", form_of(web, token, **GOOD))
    assert status == 303, page
    receipt = urllib.parse.urljoin(f"{web}/submit/{token}", headers["Location"])
    assert receipt.startswith(f"{web}/submit/{token}/received/")
    assert inbox_files(site) == ["youth-skills-toolkit-launched.md"]
    data, body = front(site, "youth-skills-toolkit-launched.md")
    assert {k: v for k, v in data.items() if k != "collected_at"} == {
        "title": "Youth skills toolkit launched",
        "section": "tools",
        "link": "https://www.unicef.example/toolkit",
        "date": dt.date(2026, 11, 12),
        "source": "UNICEF",
        "contributor": "Jane Doe",
        "organisation": "UNICEF",
    }
    assert body == "UNICEF has published a **toolkit** on youth skills for companies.\n"
    db = open_db(site / "contacts.db")
    rows = db.execute("SELECT issue, name, organisation, route FROM intake_messages").fetchall()
    db.conn.close()
    assert rows == [(ISSUE, "youth-skills-toolkit-launched.md", "UNICEF", "form")]
    before = state(site)
    status, page, _ = fetch(receipt)
    assert status == 200
    shown = words(page)
    assert "Thank you, we received your contribution" in shown
    assert "For issue 2026-Q4, in Tools & resources:" in shown
    assert "Youth skills toolkit launched" in shown
    assert "We have emailed you an acknowledgement." in shown
    assert state(site) == before  # the receipt is a GET: it changes nothing
    [ack] = acks(site)
    assert ack["To"] == JANE
    assert ack["Subject"] == "We received your contribution to The UN-Business Focal Point"
    text = ack.get_body(("plain",)).get_content()
    assert '"Youth skills toolkit launched" for issue 2026-Q4' in " ".join(text.split())
    assert "attachment" not in text


def test_the_same_form_sent_twice_is_one_candidate_one_receipt_and_one_email(site, web):
    token = link(site)
    form = form_of(web, token, **GOOD)
    first = fetch(f"{web}/submit/{token}", form)
    second = fetch(f"{web}/submit/{token}", form)
    assert first[0] == second[0] == 303
    path = first[2]["Location"].split("?")[0]
    assert second[2]["Location"] == f"{path}?mail=already"
    assert inbox_files(site) == ["youth-skills-toolkit-launched.md"]
    assert len(acks(site)) == 1
    # A new page view is a new contribution, even with the same words.
    assert fetch(f"{web}/submit/{token}", form_of(web, token, **GOOD))[0] == 303
    assert inbox_files(site) == [
        "youth-skills-toolkit-launched-2.md",
        "youth-skills-toolkit-launched.md",
    ]


def test_an_impossible_date_is_shown_beside_its_field_with_the_values_kept(site, web):
    token = link(site)
    before = state(site)
    status, page, _ = fetch(
        f"{web}/submit/{token}", form_of(web, token, **{**GOOD, "date": "2027-02-30"})
    )
    assert status == 400
    error = re.search(r'<span class="error" id="date-error">([^<]*)</span>', page)
    assert error and "2027-02-30" in error[1], page
    assert re.search(
        r'id="date"[^>]*value="2027-02-30"[^>]*aria-describedby="[^"]*date-error"', page
    )
    assert 'value="Youth skills toolkit launched"' in page
    assert "UNICEF has published a **toolkit**" in page
    assert 'aria-invalid="true"' in page
    assert state(site) == before
    assert inbox_files(site) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "x" * 201, "Title has 201 characters; shorten it to 200 or fewer."),
        ("summary", "y" * 1501, "Summary has 1,501 characters; shorten it to 1,500 or fewer."),
        (
            "link",
            "https://" + "a" * 2000,
            "Link has 2,008 characters; shorten it to 2,000 or fewer.",
        ),
        ("section", "gossip", None),
        ("title", "", None),
        ("image", "https://www.unicef.example/p.jpg", None),  # a picture needs its description
        ("ends", "2026-11-01", None),  # an end needs a start
    ],
)
def test_a_field_the_item_rules_refuse_is_marked_and_nothing_is_saved(
    site, web, field, value, message
):
    token = link(site)
    status, page, _ = fetch(f"{web}/submit/{token}", form_of(web, token, **{**GOOD, field: value}))
    assert status == 400
    error = re.search(rf'<span class="error" id="{field}-error">([^<]*)</span>', page)
    assert error, page
    if message:
        assert error[1] == message
    assert inbox_files(site) == []


def test_an_event_with_a_picture_passes_check_once_accepted_and_the_build_shows_it(site, web):
    token = link(site)
    event = {
        **GOOD,
        "title": "SDG Business Forum",
        "section": "events",
        "image": "https://www.unicef.example/forum.jpg",
        "image_alt": "Delegates at the forum",
        "starts": "2026-11-20 09:00",
        "ends": "2026-11-20 17:00",
        "timezone": "Europe/Zurich",
        "location": "Geneva",
    }
    assert fetch(f"{web}/submit/{token}", form_of(web, token, **event))[0] == 303
    data, _ = front(site, "sdg-business-forum.md")
    assert (data["starts"], data["timezone"], data["location"]) == (
        "2026-11-20 09:00",
        "Europe/Zurich",
        "Geneva",
    )
    assert data["image_alt"] == "Delegates at the forum"
    assert cli(site, "accept", ISSUE, "sdg-business-forum").exit_code == 0
    checked = cli(site, "check", ISSUE)
    assert checked.exit_code == 0, checked.output


@pytest.mark.parametrize("csrf", ["", "foreign", "forged"])
def test_a_form_without_its_own_csrf_token_is_refused_and_nothing_saved(site, web, csrf):
    token = link(site)
    form = form_of(web, token, **GOOD)
    if csrf == "foreign":  # genuine, but for Omar's link
        other = link(site, address="omar@undp.example")
        form["csrf"] = tokens.make_form_token(KEY, other, int(time.time()))
    elif csrf == "forged":
        form["csrf"] = tokens.make_form_token(
            b"another-secret-entirely-xyz", token, int(time.time())
        )
    else:
        del form["csrf"]
    status, page, _ = fetch(f"{web}/submit/{token}", form)
    assert status == 400
    assert "This form was too old or incomplete" in words(page)
    assert inbox_files(site) == []


def test_a_form_without_a_one_time_key_is_refused(site, web):
    token = link(site)
    form = form_of(web, token, **GOOD)
    for once in ("", "not-hex", "A" * 32):
        status, _, _ = fetch(f"{web}/submit/{token}", {**form, "once": once})
        assert status == 400
    assert inbox_files(site) == []


@pytest.mark.parametrize("purpose", ["entry", "members", "unsubscribe", "forged", "cut"])
def test_a_link_made_for_another_purpose_opens_nothing_and_saves_nothing(site, web, purpose):
    if purpose == "entry":
        token = link(site, tokens.ENTRY)
    elif purpose == "members":
        token = link(site, tokens.MEMBERS)
    elif purpose == "unsubscribe":
        token = tokens.make_token(KEY, contact_id(site), ISSUE)
    elif purpose == "forged":
        token = tokens.make_link_token(b"not-our-secret-at-all-0123", tokens.SUBMIT, 1, time.time())
    else:
        token = link(site)[:-5]
    good = link(site)
    form = form_of(web, good, **GOOD)
    for answer in (fetch(f"{web}/submit/{token}"), fetch(f"{web}/submit/{token}", form)):
        assert answer[0] == 400
        assert "This link is not valid" in words(answer[1])
    assert inbox_files(site) == []


def test_an_expired_link_is_refused(site, web):
    old = time.time() - (tokens.LINK_MAX_AGE + 1) * 86400
    token = tokens.make_link_token(KEY, tokens.SUBMIT, contact_id(site), old)
    assert fetch(f"{web}/submit/{token}")[0] == 400


def test_too_many_posts_from_one_link_are_refused_with_429_and_record_nothing(site, web):
    token = link(site)
    form = form_of(web, token, **GOOD)
    answers = [fetch(f"{web}/submit/{token}", {**form, "csrf": ""})[0] for _ in range(11)]
    assert answers == [400] * 10 + [429]
    status, _, headers = fetch(f"{web}/submit/{token}", form)
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert inbox_files(site) == []


def test_a_line_break_in_the_title_adds_no_header_to_the_acknowledgement(site, web):
    token = link(site)
    title = "Toolkit\r\nBcc: everyone@example.net\r\nSubject: spam"
    assert fetch(f"{web}/submit/{token}", form_of(web, token, **{**GOOD, "title": title}))[0] == 303
    [name] = inbox_files(site)
    data, _ = front(site, name)
    assert data["title"] == "Toolkit Bcc: everyone@example.net Subject: spam"
    [ack] = acks(site)
    assert ack["Bcc"] is None
    assert ack["Subject"] == "We received your contribution to The UN-Business Focal Point"


def test_html_and_script_in_the_summary_are_sanitised(site, web):
    token = link(site)
    summary = (
        '<script>alert("x")</script><b>Bold</b> news <img src=x onerror="alert(1)">'
        ' [click](javascript:alert(1)) <a href="https://www.unicef.example/">site</a>'
    )
    form = form_of(web, token, **{**GOOD, "summary": summary})
    status, _, headers = fetch(f"{web}/submit/{token}", form)
    assert status == 303
    [name] = inbox_files(site)
    _, body = front(site, name)
    assert "script>" not in body and "onerror" not in body
    shown = summary_of(body).html  # as the build will show it: the link is only words
    assert 'href="javascript' not in shown and "<script" not in shown and "<img" not in shown
    assert "**Bold** news" in body
    assert "[site](https://www.unicef.example/)" in body
    _, page, _ = fetch(urllib.parse.urljoin(f"{web}/submit/{token}", headers["Location"]))
    assert "<script>alert" not in page and "<b>" not in page


def test_without_an_open_issue_the_page_says_so_and_takes_nothing(site, web):
    token = link(site)
    form = form_of(web, token, **GOOD)
    toml = site / "issues" / ISSUE / "issue.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("draft = true\n", ""), "utf-8")
    for status, page, _ in (fetch(f"{web}/submit/{token}"), fetch(f"{web}/submit/{token}", form)):
        assert status == 200
        assert "No issue is taking contributions just now" in words(page)
        assert "partnerships@example.org" in page
        assert 'name="once"' not in page
    assert inbox_files(site) == []


def test_a_sent_issue_is_closed_to_contributions_even_if_unpublished(site, web):
    db = open_db(site / "contacts.db")
    with db.conn:
        db.execute(
            "INSERT INTO deliveries (issue, contact_id, email, sender, status, sent_at, "
            "message_id, queued_at, updated_at) VALUES (?, 1, ?, 'smtp', 'sent', "
            "'2026-12-15T10:00:00', '<m@x>', '', '')",
            [ISSUE, JANE],
        )
    db.conn.close()
    assert "No issue is taking contributions" in words(fetch(f"{web}/submit/{link(site)}")[1])


def test_a_receipt_opens_only_for_the_link_that_sent_it(site, web):
    token = link(site)
    _, _, headers = fetch(f"{web}/submit/{token}", form_of(web, token, **GOOD))
    once = headers["Location"].split("/received/")[1].split("?")[0]
    omar = link(site, address="omar@undp.example")
    assert fetch(f"{web}/submit/{omar}/received/{once}")[0] == 404
    assert fetch(f"{web}/submit/{token}/received/{'0' * 32}")[0] == 404
    assert fetch(f"{web}/submit/{token}/received/{once}")[0] == 200


def test_a_failed_acknowledgement_keeps_the_candidate_and_the_receipt_says_so(
    contributors, monkeypatch
):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    open_for_contributions(contributors)
    pyproject = contributors / "pyproject.toml"
    closed = free_port()  # nothing listens there
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + '\n[tool.newsletter.send]\nsender = "local"\n[tool.newsletter.senders.local]\n'
        f'plugin = "smtp"\nhost = "127.0.0.1"\nport = {closed}\nsecurity = "none"\ntimeout = 5\n',
        encoding="utf-8",
    )
    app = create_app(load_settings(contributors), contributors / "contacts.db", secret=KEY)
    with serve_app(app) as web:
        token = link(contributors)
        status, _, headers = fetch(f"{web}/submit/{token}", form_of(web, token, **GOOD))
        assert status == 303
        assert headers["Location"].endswith("?mail=failed")
        _, page, _ = fetch(urllib.parse.urljoin(f"{web}/submit/{token}", headers["Location"]))
    assert "We could not email you an acknowledgement just now" in words(page)
    assert inbox_files(contributors) == ["youth-skills-toolkit-launched.md"]


@pytest.mark.parametrize(
    "organisation",
    [
        "United Nations Office for Partnerships, Private Sector Engagement and Sustainable "
        "Development Goals Advocacy",  # over 100 characters: the contacts keep up to 300
        "\u0633\u0627\u0632\u0645\u0627\u0646\u200c\u0647\u0627",  # Persian, with its ZWNJ
    ],
)
def test_the_organisation_is_recorded_as_the_directory_names_it(site, web, organisation):
    from newsletter.intake.call import silent_holders
    from newsletter.models import Contact
    from newsletter.store import seats
    from newsletter.store.contacts import create_contact

    db = open_db(site / "contacts.db")
    create_contact(
        db, Contact(email="kim@org.example", name="Kim", organisation=organisation), "t", "t"
    )
    db.conn.close()
    token = link(site, address="kim@org.example")
    status, _, _ = fetch(f"{web}/submit/{token}", form_of(web, token, **GOOD))
    assert status == 303
    data, _ = front(site, "youth-skills-toolkit-launched.md")
    assert data["organisation"] == organisation
    db = open_db(site / "contacts.db")
    kim = contact_id(site, "kim@org.example")
    assert kim in seats.listed_holders(db)
    assert kim not in silent_holders(db, ISSUE)  # it sent news: no reminder
    db.conn.close()


# -- the walk: a real `serve` process, Chromium at 375 px, SMTP on 127.0.0.1 ---------------


def _serve(project: Path):
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "serve", "--port", "0"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = proc.stdout.readline() if proc.stdout else ""
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
    if not found:  # it ended (or said something else): show why, not an empty line
        proc.kill()
        assert found, (first, proc.communicate(timeout=10)[1])
    return proc, f"http://127.0.0.1:{found[1]}"


@needs_chromium
def test_a_focal_point_sends_news_from_a_phone_and_the_editor_puts_it_in_the_issue(
    contributors, smtp, monkeypatch
):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    open_for_contributions(contributors)
    pyproject = contributors / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + '\n[tool.newsletter.send]\nsender = "local"\n[tool.newsletter.senders.local]\n'
        f'plugin = "smtp"\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
        "timeout = 10\n",
        encoding="utf-8",
    )
    token = link(contributors)
    proc, web = _serve(contributors)
    try:
        with Browser() as browser:
            browser.open(f"{web}/submit/{token}", 375, mobile=True)
            until(browser, "document.querySelector('#summary-count').textContent !== ''")
            # The live count: without typing, the whole allowance is left.
            assert browser.evaluate("document.querySelector('#summary-count').textContent") == (
                "1500 characters left."
            )

            def fill(values: dict[str, str]) -> None:
                for name, value in values.items():
                    browser.evaluate(
                        f"(() => {{ const e = document.getElementById({name!r});"
                        f" e.value = {value!r}; e.dispatchEvent(new Event('input')); }})()"
                    )

            fill({**GOOD, "date": "2027-02-30"})
            assert browser.evaluate("document.querySelector('#summary-count').textContent") == (
                f"{1500 - len(GOOD['summary'])} characters left."
            )
            assert browser.evaluate("document.documentElement.scrollWidth") <= 375
            browser.evaluate("document.getElementById('send').click()")
            until(browser, "document.getElementById('date-error') !== null")
            error = browser.evaluate("document.getElementById('date-error').textContent")
            assert "2027-02-30" in error
            described = browser.evaluate(
                "document.getElementById('date').getAttribute('aria-describedby')"
            )
            assert "date-error" in described.split()
            assert browser.evaluate("document.getElementById('title').value") == GOOD["title"]
            if SHOTS:  # the README's pictures of the form: NEWSLETTER_SCREENSHOTS=docs/screenshots
                browser.screenshot(SHOTS / "submit-error.png")
            assert inbox_files(contributors) == []
            fill({"date": "2026-11-12"})
            browser.evaluate("document.getElementById('send').click()")
            until(browser, "document.getElementById('received') !== null")
            shown = browser.evaluate("document.querySelector('main').innerText")
            assert "Youth skills toolkit launched" in shown
            assert "We have emailed you an acknowledgement." in shown
            assert browser.evaluate("document.documentElement.scrollWidth") <= 375
            if SHOTS:
                browser.screenshot(SHOTS / "submit-receipt.png")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    listed = cli(contributors, "inbox", ISSUE)
    assert re.search(r"youth-skills-toolkit-launched.*UNICEF", listed.stdout), listed.output
    [ack] = smtp.messages
    assert list(ack.rcpt_tos) == [JANE]
    assert b"Youth skills toolkit launched" in ack.data
    assert cli(contributors, "accept", ISSUE, "youth-skills-toolkit-launched").exit_code == 0
    built = cli(contributors, "build", ISSUE)
    assert built.exit_code == 0, built.output
    page = (contributors / "issues" / ISSUE / "build" / "email.html").read_text(encoding="utf-8")
    assert "Youth skills toolkit launched" in page


@pytest.mark.parametrize("gone", ["left", "erased"])
def test_the_link_of_someone_who_left_or_was_erased_takes_nothing(site, web, gone):
    token = link(site)
    form = form_of(web, token, **GOOD)
    db = open_db(site / "contacts.db")
    if gone == "left":
        mark_left(db, contact_id(site), "test", "t")
    else:
        purge(db, JANE)
    db.conn.close()
    for status, page, _ in (fetch(f"{web}/submit/{token}"), fetch(f"{web}/submit/{token}", form)):
        assert status == 404
        assert "no longer on our list" in words(page)
    assert inbox_files(site) == []


def test_a_body_larger_than_any_form_is_refused_before_it_is_read(site, web):
    token = link(site)
    form = form_of(web, token, **{**GOOD, "summary": "z" * 100_000})
    status, page, _ = fetch(f"{web}/submit/{token}", form)
    assert status == 413
    assert inbox_files(site) == []
