"""newsletter/desk/reviews.py: the review page, on the real app served on 127.0.0.1, with
a review link mailed through a local SMTP server and approved on serve's /review page."""

from __future__ import annotations

import email
import email.policy
import html
import re
from pathlib import Path

import pytest
import requests
from helpers import SECRET, built, free_port, make_issue, require_approval, serve_app
from helpers import desk_server as desk
from helpers import form_csrf as csrf
from hypothesis import given
from hypothesis import strategies as st

from newsletter.build import build
from newsletter.config import load_settings
from newsletter.desk.reviews import parse_days
from newsletter.server import create_app
from newsletter.store import open_db, reviews
from newsletter.tokens import MAX_REVIEW_DAYS

ISSUE = "2026-Q4"
PAGE = f"/issues/{ISSUE}/review"
BOSS = "director@example.org"
NOTICE = re.compile(r'<p class="(error|notice)" role="\w+">(.*?)</p>')
FIELD = re.compile(r'<p class="field-error" id="(\w+)-error">(.*?)</p>')
VERDICT = re.compile(r'<p class="verdict" id="verdict">(.*?)</p>')


def smtp_settings(port: int) -> str:
    return (
        '[tool.newsletter.send]\nsender = "smtp"\nretry_delay = 0.01\n'
        "[tool.newsletter.senders.smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
    )


@pytest.fixture
def reviewed(project: Path, smtp, monkeypatch) -> Path:
    """A built issue under approval = "required", mailing through SMTP on 127.0.0.1."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    require_approval(project)
    built(project, settings=smtp_settings(smtp.port))
    open_db(project / "contacts.db").conn.close()
    return project


def ask(url: str, to: str, days: str = "7") -> tuple[requests.Response, str]:
    """Send the form; the answer, and the page shown after it (the same one if refused)."""
    session = requests.Session()
    form = {"csrf": csrf(session.get(url + PAGE, timeout=10).text), "to": to, "days": days}
    answer = session.post(url + PAGE, data=form, allow_redirects=False, timeout=60)
    after = answer.text if answer.status_code != 303 else session.get(url + PAGE, timeout=10).text
    return answer, after


def notices(page: str) -> list[tuple[str, str]]:
    return [(kind, html.unescape(text)) for kind, text in NOTICE.findall(page)]


def verdict(page: str) -> str:
    return html.unescape(VERDICT.search(page)[1])


def test_no_reviews_yet_and_no_approval_needed(project: Path):
    built(project)
    with desk(project) as url:
        page = requests.get(url + PAGE, timeout=10).text
    assert "<p>No reviews yet.</p>" in page
    assert verdict(page) == "Send would go: no approval is required."
    assert 'name="days" min="1" max="90" value="14"' in page


def test_a_link_mailed_then_approved_on_serve_lets_send_go(reviewed: Path, smtp):
    with desk(reviewed) as url:
        first = requests.get(url + PAGE, timeout=10).text
        assert verdict(first) == (
            f"Send would refuse it: issues/{ISSUE}/build: not approved, and approval = "
            f'"required". Ask a reviewer to approve it first: newsletter review {ISSUE} '
            "--to name@example.org"
        )
        answer, page = ask(url, BOSS)
        assert answer.status_code == 303
        assert notices(page) == [
            ("notice", f"Sent {BOSS} a review link to {ISSUE}, good for 7 days.")
        ]
        [mail] = smtp.messages
        assert mail.rcpt_tos == (BOSS,)
        text = email.message_from_bytes(mail.data, policy=email.policy.default)
        body = text.get_body(preferencelist=("plain",)).get_content()
        [token] = re.findall(r"https?://\S+/review/(\S+)", body)

        app = create_app(load_settings(reviewed), reviewed / "contacts.db", secret=SECRET.encode())
        with serve_app(app) as serve:
            review = requests.get(f"{serve}/review/{token}", timeout=10).text
            form = {"csrf": csrf(review), "comment": "<script>alert(1)</script>\nPage 2, too."}
            assert requests.post(f"{serve}/review/{token}/comment", data=form, timeout=10).ok
            form = {"csrf": csrf(review)}
            assert requests.post(f"{serve}/review/{token}/approve", data=form, timeout=10).ok

        page = requests.get(url + PAGE, timeout=10).text
    assert verdict(page) == "Approved: send would go."
    assert "<script>alert(1)</script>" not in page
    # Escaped, and on one line: the line break a space, as sanitize.one_line makes it.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Page 2, too.</span>" in page
    assert page.count("was sent a link") == 1 and page.count("approved</td>") == 1
    assert page.count("this build") == 3


def test_an_approval_of_an_earlier_build_is_shown_as_such(reviewed: Path):
    folder = reviewed / "issues" / ISSUE
    db = open_db(reviewed / "contacts.db")
    reviews.record(db, ISSUE, BOSS, reviews.APPROVAL, "0" * 64)
    db.conn.close()
    with desk(reviewed) as url:
        page = requests.get(url + PAGE, timeout=10).text
    assert "an earlier build" in page and "this build<" not in page
    assert verdict(page).startswith(f"Send would refuse it: issues/{ISSUE}/build: changed since")
    assert (folder / "build" / "report.json").is_file()


@pytest.mark.parametrize(
    ("to", "days", "field", "message"),
    [
        ("", "7", "to", "Give the reviewer's address."),
        (BOSS, "0", "days", f"Give a whole number of days from 1 to {MAX_REVIEW_DAYS}."),
        (BOSS, "91", "days", f"Give a whole number of days from 1 to {MAX_REVIEW_DAYS}."),
        (BOSS, "seven", "days", f"Give a whole number of days from 1 to {MAX_REVIEW_DAYS}."),
    ],
)
def test_a_form_mistake_is_shown_beside_its_field(reviewed: Path, smtp, to, days, field, message):
    with desk(reviewed) as url:
        answer, page = ask(url, to, days)
    assert answer.status_code == 400
    assert [(f, html.unescape(text)) for f, text in FIELD.findall(page)] == [(field, message)]
    assert smtp.messages == []


def test_an_address_that_is_not_one_is_refused_beside_the_field(reviewed: Path, smtp):
    with desk(reviewed) as url:
        answer, page = ask(url, "not an address")
    assert answer.status_code == 400
    [(field, message)] = FIELD.findall(page)
    assert (field, html.unescape(message)) == (
        "to",
        "--to 'not an address': address is not an email address. Correct the address and run "
        "again.",
    )
    assert 'value="not an address"' in page  # kept, to be corrected
    assert smtp.messages == []


def test_no_secret_no_build_or_no_server_is_one_error_line(project: Path, monkeypatch):
    folder = make_issue(project)
    open_db(project / "contacts.db").conn.close()
    with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n" + smtp_settings(free_port()))  # nothing listens there
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with desk(project) as url:
        _, page = ask(url, BOSS)
        assert notices(page) == [
            (
                "error",
                f"issues/{ISSUE}/build: no complete build to send. Run: newsletter build {ISSUE}",
            )
        ]
    monkeypatch.delenv("NEWSLETTER_SECRET")
    assert build(load_settings(project), folder).ok
    with desk(project) as url:
        _, page = ask(url, BOSS)
        [(kind, line)] = notices(page)
        assert kind == "error" and "NEWSLETTER_SECRET" in line
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with desk(project) as url:
        answer, page = ask(url, BOSS)
        [(kind, line)] = notices(page)
    assert answer.status_code == 303
    assert kind == "error" and "\n" not in line and "127.0.0.1" in line
    assert "No reviews yet." in page


@given(st.text(max_size=6))
def test_parse_days_takes_what_days_takes(text: str):
    days = parse_days(text)
    if days is None:
        assert not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_REVIEW_DAYS)
    else:
        assert str(days) == text.lstrip("0") and 1 <= days <= MAX_REVIEW_DAYS


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("1", 1),
        ("90", 90),
        ("007", 7),
        ("0", None),
        ("", None),
        ("٣", None),
        ("1e1", None),
        ("9" * 5000, None),
    ],
)
def test_parse_days_examples(text: str, days: int | None):
    assert parse_days(text) == days
