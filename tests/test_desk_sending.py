"""newsletter/desk/sending.py: the Send page on the real desk served on 127.0.0.1, with
a real SMTP server (aiosmtpd) on 127.0.0.1: test sends, the real send started from
the page, its progress, and its refusals."""

from __future__ import annotations

import html
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from helpers import (
    SECRET,
    add_contacts,
    built,
    cli,
    free_port,
    ledger_rows,
    needs_chromium,
    parse,
    serve_app,
    until,
)
from helpers import (
    form_csrf as csrf,
)

from newsletter.build.browser import Browser
from newsletter.config import load_settings
from newsletter.desk import desk_app

ISSUE = "2026-Q4"
SEND = f"/issues/{ISSUE}/send"
PROGRESS = f"{SEND}/progress?sender=local"
PART = f"{SEND}/progress/part?sender=local"


def settings(port: int, rate: float = 0, approval: str = "none") -> str:
    """A configured SMTP sender, "local", on the test server: the house default."""
    return (
        f'[tool.newsletter.send]\nsender = "local"\nretry_delay = 0.01\nrate = {rate}\n'
        '[tool.newsletter.senders.local]\nplugin = "smtp"\n'
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
    )


def project_for(root: Path, port: int, contacts: int = 20, rate: float = 0) -> Path:
    built(root, settings=settings(port, rate))
    add_contacts(root, contacts)
    return root


def refused_on(page: str) -> str:
    found = re.search(r'<p class="error" id="refused">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found[1])


def notices(page: str) -> list[str]:
    found = re.findall(r'<p class="(?:notice|error)" role="(?:status|alert)">([^<]*)</p>', page)
    return [html.unescape(text) for text in found]


class Desk:
    """The desk served on 127.0.0.1, and one browser session of it."""

    def __init__(self, base: str) -> None:
        self.base, self.session = base, requests.Session()

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=30)

    def post(self, path: str, **form: str) -> requests.Response:
        token = csrf(self.get(SEND).text)
        return self.session.post(self.base + path, data={"csrf": token, **form}, timeout=90)

    def start(self, expected: int = 20) -> requests.Response:
        return self.post(SEND, sender="local", confirm="yes", expected=str(expected))


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)


@pytest.fixture
def desk(project, smtp, secret):
    project_for(project, smtp.port)
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        yield Desk(base)


def finished(desk: Desk) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        part = desk.get(PART).text
        if "hx-trigger" not in part:
            return part
        time.sleep(0.2)
    raise AssertionError("the send never finished")


def test_a_test_send_reaches_the_server_with_the_test_prefix_and_no_ledger_row(desk, smtp, project):
    page = desk.post(f"{SEND}/test", sender="local", to="a@example.org, b@example.org")
    assert page.url == desk.base + SEND + "?sender=local"
    assert notices(page.text) == [
        "Test to a@example.org: sent (250 2.0.0 Ok: queued)",
        "Test to b@example.org: sent (250 2.0.0 Ok: queued)",
        "2 test message(s) tried.",
    ]
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == [
        "a@example.org",
        "b@example.org",
    ]
    subject = parse(smtp.messages[0].data)["Subject"]
    assert subject == "[TEST] The UN-Business Focal Point: test issue"
    assert ledger_rows(project) == []


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("", "Enter one or more addresses."),
        (" ,\n; ", "Enter one or more addresses."),
        (
            "not-an-address",
            "--to 'not-an-address': address is not an email address. Correct the address and "
            "run again.",
        ),
        (
            ",".join(f"p{n}@example.org" for n in range(11)),
            "11 addresses: a test goes to at most 10 at once.",
        ),
    ],
)
def test_a_test_send_to_a_wrong_address_is_one_error_notice(desk, smtp, to, expected):
    page = desk.post(f"{SEND}/test", sender="local", to=to)
    assert page.status_code == 200
    assert notices(page.text) == [expected]
    assert smtp.messages == []


def test_the_page_says_what_a_real_send_would_do(desk):
    page = desk.get(SEND).text
    assert (
        '<p id="plan">Via local: 20 to send (a new snapshot of the subscribed contacts).</p>'
        in page
    )
    assert "Send to 20 recipients via local</label>" in page
    assert '<option value="local" selected>local (house default)</option>' in page
    assert '<option value="outbox">outbox</option>' in page


def test_a_real_send_from_the_page_reaches_everyone_once_and_shows_the_tally(desk, smtp, project):
    started = desk.start()
    assert started.url == desk.base + PROGRESS
    assert "Sending to 20 recipients via local. Closing this page does not stop the send." in (
        started.text
    )
    part = finished(desk)
    assert sorted(smtp.per_recipient().values()) == [1] * 20
    assert re.search(r'<dd id="sent">20</dd>', part)
    assert '<dd id="remaining">0</dd>' in part
    assert '<progress id="sent-bar" value="20" max="20">' in part
    assert re.search(r"<p id=\"tally\">Sent 20 in [\d.]+ s; 0 failed, 0 uncertain, 0 skipped", part)
    assert '<a href="/issues/2026-Q4/report">See the delivery report</a>' in part
    assert {r["status"] for r in ledger_rows(project)} == {"sent"}
    # Nothing is left to send: the page says so and offers no second send.
    page = desk.get(SEND + "?sender=local").text
    assert "Nothing to send via local." in page and 'name="confirm"' not in page


def test_progress_goes_from_some_remaining_to_none(project, smtp, secret):
    project_for(project, smtp.port, rate=10)  # 20 messages: about two seconds
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        desk = Desk(base)
        desk.start()
        first = desk.get(PART).text
        assert 'hx-trigger="every 1s"' in first
        remaining = int(re.search(r'<dd id="remaining">(\d+)</dd>', first)[1])
        assert remaining > 0
        last = finished(desk)
    assert '<dd id="remaining">0</dd>' in last and "Finished via local." in last


def test_a_second_start_while_running_shows_the_running_send(project, smtp, secret):
    project_for(project, smtp.port, rate=10)
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        desk = Desk(base)
        desk.start()
        again = desk.start()
        assert again.url == desk.base + PROGRESS
        assert "This send via local is already running: here is its progress." in again.text
        finished(desk)
    assert sorted(smtp.per_recipient().values()) == [1] * 20


def test_a_send_the_command_line_runs_is_refused_with_the_lock_s_message(project, smtp, secret):
    project_for(project, smtp.port, rate=5)
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        desk = Desk(base)
        desk.start()
        # The command line, while the desk sends: the lock in contacts.db refuses it.
        result = cli(project, "send", ISSUE, "--yes", "--sender", "local")
        assert result.exit_code == 1
        assert "another send of this issue via local is running" in result.output
        finished(desk)
    assert sorted(smtp.per_recipient().values()) == [1] * 20


def test_a_start_while_the_command_line_sends_is_one_error_notice(project, smtp, secret):
    project_for(project, smtp.port)
    smtp.handler.delay = 0.2  # 20 messages, one connection: four seconds
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "send", ISSUE]
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        desk = Desk(base)
        token = csrf(desk.get(SEND).text)
        command = subprocess.Popen([*args, "--yes", "--concurrency", "1"])
        try:
            until_sending(desk)
            form = {"csrf": token, "sender": "local", "confirm": "yes", "expected": "20"}
            page = desk.session.post(desk.base + SEND, data=form, timeout=90)
        finally:
            assert command.wait(120) == 0
    [shown] = notices(page.text)
    assert shown.startswith(
        f"issues/2026-Q4: another send of this issue via local is running (pid {command.pid} on "
    )
    assert sorted(smtp.per_recipient().values()) == [1] * 20


def until_sending(desk: Desk) -> None:
    """Until the progress part shows a send running that this desk did not start."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "Sending via local" in desk.get(PART).text:
            return
        time.sleep(0.05)
    raise AssertionError("the command line never started sending")


def test_an_unconfirmed_send_sends_nothing(desk, smtp, project):
    page = desk.post(SEND, sender="local", expected="20")
    assert notices(page.text) == ["Tick the box to confirm the send, then press Send again."]
    assert smtp.messages == [] and ledger_rows(project) == []


@pytest.mark.parametrize("expected", ["", "-1", "²", "٢٠", "9" * 5000, "20.0"])
def test_a_count_that_is_no_count_sends_nothing(desk, smtp, project, expected):
    page = desk.post(SEND, sender="local", confirm="yes", expected=expected)
    assert page.status_code == 200
    assert notices(page.text) == ["Tick the box to confirm the send, then press Send again."]
    assert smtp.messages == [] and ledger_rows(project) == []


def test_a_send_whose_numbers_changed_since_the_page_asks_again(desk, smtp, project):
    page = desk.start(expected=19)
    assert notices(page.text) == [
        "The numbers changed since the page was shown: now 20 to send via local. "
        "Check them and confirm again."
    ]
    assert smtp.messages == [] and ledger_rows(project) == []


def test_an_unapproved_build_is_refused_with_the_approval_check_s_message(project, smtp, secret):
    project_for(project, smtp.port)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("[tool.newsletter]\n", '[tool.newsletter]\napproval = "required"\n', 1),
        encoding="utf-8",
    )
    message = (
        'issues/2026-Q4/build: not approved, and approval = "required". Ask a reviewer to '
        "approve it first: newsletter review 2026-Q4 --to name@example.org"
    )
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        desk = Desk(base)
        page = desk.get(SEND).text
        assert refused_on(page) == message
        assert 'name="confirm"' not in page
        refused = desk.start()  # a form from before the rule, or made by hand
    assert notices(refused.text) == [message]
    assert smtp.messages == [] and ledger_rows(project) == []


def test_no_secret_for_a_real_sender_is_one_error(desk, smtp, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET")
    page = desk.get(SEND)
    assert page.status_code == 200
    assert re.search(
        r'<p class="error" id="refused">sender local delivers real mail, so: ', page.text
    )
    started = desk.start()
    [shown] = notices(started.text)
    assert shown.startswith("sender local delivers real mail, so: ")


def test_a_server_that_is_down_is_an_error_on_the_progress_page(project, secret):
    port = free_port()  # nothing listens there
    project_for(project, port)
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        desk = Desk(base)
        started = desk.start()
        part = finished(desk)
    assert started.url == desk.base + PROGRESS
    assert html.unescape(part).count('<p class="error">') == 1
    assert (
        f'<p class="error">local (127.0.0.1:{port}): cannot connect ([Errno 111] Connection '
        "refused). Check host, port and security.</p>"
    ) in html.unescape(part)
    assert {r["status"] for r in ledger_rows(project)} <= {"queued"}


def test_nothing_to_send_is_one_notice(desk, smtp, project):
    desk.start()
    finished(desk)
    again = desk.start()
    assert notices(again.text) == ["Nothing to send via local: 20 sent already. See the report."]


@needs_chromium
def test_the_real_send_pressed_in_a_browser_shows_progress_to_the_end(project, smtp, secret):
    project_for(project, smtp.port, rate=8)  # 20 messages: a little over two seconds
    app = desk_app(load_settings(project), project / "contacts.db")
    with serve_app(app) as base, Browser() as browser:
        browser.open(base + SEND, 1000)
        until(browser, "document.querySelector('#confirm') !== null")
        browser.evaluate("document.querySelector('#confirm').click(); 0")
        browser.evaluate("document.querySelector('#confirm').form.submit(); 0")
        until(browser, "location.pathname.endsWith('/send/progress')")
        # htmx polls the part: the bar moves without a reload, then stops at its max.
        until(browser, "document.querySelector('#sent-bar') && !!window.htmx")
        browser.evaluate("window.stayed = true; 0")  # gone if the page reloads
        seen = until(
            browser,
            "(() => { const b = document.querySelector('#sent-bar');"
            " return b && b.value < b.max && b.value; })()",
        )
        assert 0 < seen < 20
        until(
            browser,
            "(() => { const b = document.querySelector('#sent-bar');"
            " return b && b.value === 20 && b.max === 20; })()",
            timeout=60,
        )
        until(browser, "document.querySelector('#tally') !== null", timeout=10)
        assert browser.evaluate("window.stayed === true") is True
        assert (
            browser.evaluate("document.querySelector('#progress').hasAttribute('hx-trigger')")
            is False
        )
    assert sorted(smtp.per_recipient().values()) == [1] * 20


def test_ctrl_c_of_the_desk_stops_its_send_and_the_command_line_continues_it(project, smtp, secret):
    project_for(project, smtp.port, rate=5)  # 20 messages: four seconds
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "desk", "--port", "0"]
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        found = re.match(
            r"The editor's desk is at (http://127\.0\.0\.1:\d+)/", proc.stdout.readline()
        )
        assert found
        desk = Desk(found[1])
        desk.start()
        deadline = time.monotonic() + 30
        while len(smtp.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    stopped = {r["status"] for r in ledger_rows(project)}
    assert "queued" in stopped and stopped <= {"sent", "queued", "sending"}
    before = smtp.per_recipient()
    assert 3 <= len(before) < 20
    # The same ledger: the command line recovers what was in flight and sends the rest.
    result = cli(project, "send", ISSUE, "--yes")
    assert result.exit_code == 0, result.output
    rows = ledger_rows(project)
    uncertain = {r["email"] for r in rows if r["status"] == "uncertain"}
    assert {r["status"] for r in rows} <= {"sent", "uncertain"}
    if "sending" in stopped:  # a message in flight when the desk stopped
        assert "message(s) were being handed over when the last run stopped" in result.output
    received = smtp.per_recipient()
    assert set(received.values()) == {1}  # nobody twice
    assert set(received) | uncertain == {f"person{n}@example.org" for n in range(20)}
