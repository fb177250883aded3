"""newsletter.review: a reviewer's link mailed through a real SMTP server, the page on the
real app served on 127.0.0.1, and approval = "required" in send."""

from __future__ import annotations

import email
import email.policy
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from helpers import SECRET, add_contacts, built, cli, serve_app

from newsletter import tokens
from newsletter.build.report import BuildReport
from newsletter.config import load_settings
from newsletter.server import create_app
from newsletter.store import open_db, reviews

KEY = SECRET.encode()
DAY = 86400
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ISSUE = "2026-Q4"
BOSS = "director@example.org"


def smtp_settings(port: int, approval: str = "required") -> str:
    return (
        f'approval = "{approval}"\n'
        '[tool.newsletter.send]\nsender = "smtp"\nretry_delay = 0.01\n'
        "[tool.newsletter.senders.smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
    )


@pytest.fixture
def reviewed(project, smtp, monkeypatch):
    """A built issue under approval = "required", two contacts, SMTP on 127.0.0.1."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    pyproject = project / "pyproject.toml"
    head = pyproject.read_text(encoding="utf-8")
    # [tool.newsletter] keys must come before its subtables: put approval right after it.
    pyproject.write_text(
        head.replace("[tool.newsletter]\n", '[tool.newsletter]\napproval = "required"\n', 1),
        encoding="utf-8",
    )
    built(project, settings=smtp_settings(smtp.port).split("\n", 1)[1])
    add_contacts(project, 2)
    return project


@pytest.fixture
def web(reviewed):
    app = create_app(load_settings(reviewed), reviewed / "contacts.db", secret=KEY, wait=0.3)
    with serve_app(app) as base:
        yield base


def fetch(url, form=None):
    """(status, page) of one request; ``form`` makes it a POST."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def rows(project) -> list[tuple[str, str, str]]:
    db = open_db(project / "contacts.db")
    try:
        return [(r.reviewer, r.kind, r.body) for r in reviews.entries(db, ISSUE)]
    finally:
        db.conn.close()


def token(issue=ISSUE, reviewer=BOSS, days_ago: float = 0, days: int = 14, key=KEY) -> str:
    return tokens.make_review_token(key, issue, reviewer, time.time() - days_ago * DAY, days)


def test_review_mails_a_link_that_opens_the_preview_and_approval_lets_send_go(reviewed, smtp):
    refused = cli(reviewed, "send", ISSUE, "--yes")
    assert refused.exit_code == 1
    assert refused.output.splitlines()[-1] == (
        f'Error: issues/{ISSUE}/build: not approved, and approval = "required". Ask a reviewer '
        f"to approve it first: newsletter review {ISSUE} --to name@example.org"
    )
    assert smtp.messages == []

    result = cli(reviewed, "review", ISSUE, "--to", BOSS)
    assert result.exit_code == 0, result.output
    assert result.output == f"Sent {BOSS} a review link to {ISSUE}, good for 14 days.\n"
    [mail] = smtp.messages
    assert mail.rcpt_tos == (BOSS,)
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["Subject"].startswith("Please review: ")
    text = message.get_body(preferencelist=("plain",)).get_content()
    [url] = re.findall(r"https?://\S+/review/(\S+)", text)
    assert tokens.read_review_token(KEY, url, time.time()).reviewer == BOSS

    still = cli(reviewed, "send", ISSUE, "--yes")  # asked is not approved
    assert still.exit_code == 1
    assert f"{BOSS} must approve it first" in still.output

    app = create_app(load_settings(reviewed), reviewed / "contacts.db", secret=KEY, wait=0.3)
    with serve_app(app) as base:
        status, page = fetch(f"{base}/review/{url}")
        assert status == 200, page
        assert "%%" not in page  # no personal marker is left in the preview
        [csrf] = set(CSRF.findall(page))
        status, page = fetch(f"{base}/review/{url}/approve", {"csrf": csrf})
        assert status == 200, page
        assert "your approval of this build is recorded" in page
    assert [k for _, k, _ in rows(reviewed)] == ["link", "approval"]

    sent = cli(reviewed, "send", ISSUE, "--yes")
    assert sent.exit_code == 0, sent.output
    assert len(smtp.messages) == 1 + 2


def test_a_rebuild_that_changed_the_build_voids_the_approval(reviewed, smtp):
    from newsletter.build.pipeline import build

    folder = reviewed / "issues" / ISSUE
    db = open_db(reviewed / "contacts.db")
    reviews.record(db, ISSUE, BOSS, reviews.LINK, BuildReport.read(folder).inputs)
    reviews.record(db, ISSUE, BOSS, reviews.APPROVAL, BuildReport.read(folder).inputs)
    db.conn.close()
    intro = folder / "intro.md"
    intro.write_text(intro.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert build(load_settings(reviewed), folder).ok
    result = cli(reviewed, "send", ISSUE, "--yes")
    assert result.exit_code == 1
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert result.output.splitlines()[-1] == (
        f"Error: issues/{ISSUE}/build: changed since {BOSS} approved it on {day}, so that "
        f'approval is void (approval = "required"). {BOSS} must approve this build: '
        f"newsletter review {ISSUE} --to {BOSS}"
    )
    assert smtp.messages == []


def test_approval_none_sends_as_before(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings=smtp_settings(smtp.port).split("\n", 1)[1])
    add_contacts(project, 2)
    assert load_settings(project).approval == "none"
    result = cli(project, "send", ISSUE, "--yes")
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 2


def test_get_changes_nothing_and_comments_are_kept_with_the_build(web, reviewed):
    link = token()
    status, page = fetch(f"{web}/review/{link}")
    assert status == 200
    assert f"You are reviewing this issue as {BOSS}." in page
    fetch(f"{web}/review/{link}/approve")  # a form's URL opened: shows only
    assert rows(reviewed) == []
    [csrf] = set(CSRF.findall(page))
    status, page = fetch(f"{web}/review/{link}/comment", {"csrf": csrf, "comment": "Fix p. 2"})
    assert status == 200
    assert "Fix p. 2" in page
    assert rows(reviewed) == [(BOSS, "comment", "Fix p. 2")]
    status, _ = fetch(f"{web}/review/{link}/comment", {"csrf": csrf, "comment": "  "})
    assert status == 400
    shown = cli(reviewed, "review", ISSUE, "--status")
    assert shown.exit_code == 0
    digest = BuildReport.read(reviewed / "issues" / ISSUE).inputs
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d {BOSS} commented \(build {digest[:12]}\): Fix p\. 2\n",
        shown.output,
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: token()[:-1] + ("A" if token()[-1] != "A" else "B"), id="forged"),
        pytest.param(lambda: token(days_ago=15), id="expired"),
        pytest.param(lambda: token(days=3, days_ago=4), id="expired-own-days"),
        pytest.param(lambda: token(key=b"another-secret-long-enough"), id="other-secret"),
        pytest.param(lambda: token(issue="2026-Q3"), id="other-issue-no-build"),
        pytest.param(
            lambda: tokens.make_link_token(KEY, tokens.ENTRY, 1, time.time()), id="entry-token"
        ),
        pytest.param(lambda: tokens.make_token(KEY, 1, ISSUE), id="unsubscribe-token"),
        pytest.param(lambda: "", id="empty"),
    ],
)
def test_a_bad_token_gets_400_and_changes_nothing(web, reviewed, make):
    bad = make()
    good_csrf = tokens.make_form_token(KEY, bad, int(time.time()))
    for action in ("", "/approve"):
        status, page = fetch(f"{web}/review/{bad}{action}", {"csrf": good_csrf} if action else None)
        assert status == 400, page
        assert "This link does not work" in page
    assert rows(reviewed) == []


def test_a_review_token_opens_no_other_page(web):
    link = token()
    for page in ("entry", "members", "unsubscribe"):
        status, _ = fetch(f"{web}/{page}/{link}")
        assert status == 400, page


@pytest.mark.parametrize("csrf", ["", "123.abc", None])
def test_a_post_without_a_genuine_csrf_token_gets_400(web, reviewed, csrf):
    link = token()
    other = tokens.make_form_token(KEY, token(reviewer="x@example.org"), int(time.time()))
    status, page = fetch(f"{web}/review/{link}/approve", {"csrf": other if csrf is None else csrf})
    assert status == 400
    assert "Please send the form again" in page
    assert rows(reviewed) == []


def test_review_needs_to_or_status(reviewed):
    result = cli(reviewed, "review", ISSUE)
    assert result.exit_code == 2
    assert "Give --to ADDRESS to ask a reviewer, or --status to see the reviews." in result.output
