"""The living directory's whole loop, end to end, on a real ``newsletter serve`` process
and a local SMTP server (issue 13, "Done when").

An issue goes out with each reader's own entry link. Through those links, on the
served pages, one focal point corrects their phone, one confirms, one leaves and
names a successor, and one proposes a change the editor will not take; an
auto-reply announces a fourth departure. The editor approves three changes and
rejects one; the successor receives the welcome email; the next build shows the
corrected phone, the seat's new holder, one vacant seat with its age, and the
freshness figure.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import mailbox
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

from helpers import SECRET, built, cli, make_issue

from newsletter.build.render import longdate
from newsletter.contacts.directory import age
from newsletter.store import open_db
from newsletter.store.contacts import get_contact
from newsletter.store.seats import seat_of, seats

WEB_URL = "https://focalpoint.example.org"
PEOPLE = [
    # email, name, organisation, phone
    ("ann@who.int", "Ann Lee", "WHO", "+41 22 791 21 11"),
    ("bob@ilo.org", "Bob Roy", "ILO", "+41 22 799 61 11"),
    ("cat@unicef.org", "Cat Ng", "UNICEF", "+1 212 326 7000"),
    ("eve@unhcr.org", "Eve Sato", "UNHCR", "+41 22 739 81 11"),
    ("fay@wfp.org", "Fay Diaz", "WFP", "+39 06 65131"),
]


def _settings(port: int) -> str:
    return (
        '[tool.newsletter.send]\nsender = "smtp"\nretry_delay = 0.01\n'
        "[tool.newsletter.senders.smtp]\n"
        f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 10\n'
    )


class Forms(HTMLParser):
    """The forms of a page as a browser would post them: action and fields with values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1][1][a["name"]] = a.get("value", "")


def forms(html: str) -> dict[str, dict[str, str]]:
    """The page's forms by the last part of their action (confirm, correct, left)."""
    parser = Forms()
    parser.feed(html)
    return {action.rsplit("/", 1)[-1]: fields for action, fields in parser.forms}


def fetch(url: str, data: dict[str, str] | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body), timeout=20) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def serve(project):
    """``newsletter serve --port 0`` as its own process; the process and its base URL."""
    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "serve", "--port", "0"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
    assert found, (first, proc.stderr.read() if proc.poll() is not None else "")
    return proc, f"http://127.0.0.1:{found[1]}"


def entry_links(smtp) -> dict[str, str]:
    """Each recipient's "Check your entry" link, as mailed in the text part."""
    links = {}
    for message in smtp.messages:
        msg = email.message_from_bytes(message.data, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",)).get_content()
        (link,) = set(re.findall(rf"{re.escape(WEB_URL)}/entry/\S+", text))
        links[message.rcpt_tos[0]] = link
    return links


def departure_notice(tmp_path, message_id: str):
    """An Outlook auto-reply to Eve's copy: she has left, and names nobody."""
    raw = (
        "Return-Path: <>\r\nDate: Wed, 16 Dec 2026 08:02:11 +0000\r\n"
        "From: Eve Sato <eve@unhcr.org>\r\nTo: focalpoint@example.org\r\n"
        "Subject: Automatic reply: The UN-Business Focal Point\r\n"
        f"In-Reply-To: {message_id}\r\nReferences: {message_id}\r\n"
        "Auto-Submitted: auto-generated\r\nMessage-ID: <ooo.1@exch.unhcr.org>\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Thank you for your email. Please note that I am no longer with UNHCR as of\r\n"
        "30 November 2026. My mailbox is not monitored.\r\n"
    )
    path = tmp_path / "returned.mbox"
    box = mailbox.mbox(path)
    box.add(raw.encode("ascii"))
    box.close()
    return path


def test_the_whole_loop(project, smtp, monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    settings = _settings(smtp.port)
    for address, name, org, phone in PEOPLE:
        added = cli(project, "contacts", "add", address, "--name", name, "--org", org)
        assert added.exit_code == 0, added.output
        assert cli(project, "contacts", "edit", address, "--phone", phone).exit_code == 0
    built(project, "2026-Q4", settings=settings)
    # The next issue counts changes from when this send finished, to the second:
    # the contacts added above must fall before it, not in the same second.
    time.sleep(1.1)

    # 1. The issue goes out, each copy with its reader's own entry link.
    sent = cli(project, "send", "2026-Q4", "--yes")
    assert sent.exit_code == 0, sent.output
    assert smtp.per_recipient() == {p[0]: 1 for p in PEOPLE}
    links = entry_links(smtp)
    assert len(set(links.values())) == len(PEOPLE)

    proc, base = serve(project)
    try:
        page = {who: link.replace(WEB_URL, base) for who, link in links.items()}

        # 2. Ann corrects her phone: the correction form, as her browser posts it.
        status, html = fetch(page["ann@who.int"])
        assert status == 200 and "Ann Lee" in html
        form = forms(html)["correct"] | {"phone": "+41 22 791 00 00"}
        status, html = fetch(f"{page['ann@who.int']}/correct", form)
        assert status == 200, html
        # 3. Bob confirms.
        status, html = fetch(page["bob@ilo.org"])
        status, html = fetch(f"{page['bob@ilo.org']}/confirm", forms(html)["confirm"])
        assert status == 200, html
        # 4. Cat leaves and names her successor.
        status, html = fetch(page["cat@unicef.org"])
        form = forms(html)["left"] | {
            "successor_name": "Dan Oh",
            "successor_email": "dan@unicef.org",
            "successor_job_title": "Partnerships specialist",
        }
        status, html = fetch(f"{page['cat@unicef.org']}/left", form)
        assert status == 200, html
        # 5. Fay proposes a new name; the editor will not take it.
        status, html = fetch(page["fay@wfp.org"])
        form = forms(html)["correct"] | {"name": "Fay D."}
        status, html = fetch(f"{page['fay@wfp.org']}/correct", form)
        assert status == 200, html
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)

    # 6. An auto-reply to Eve's copy (its Message-ID, as mailed) announces her departure.
    (eve_copy,) = [m for m in smtp.messages if "eve@unhcr.org" in m.rcpt_tos]
    eve_id = email.message_from_bytes(eve_copy.data, policy=email.policy.default)["Message-ID"]
    returned = cli(project, "bounces", str(departure_notice(tmp_path, eve_id)))
    assert returned.exit_code == 0, returned.output
    assert "departure notice" in returned.output

    # 7. The editor reviews: four changes wait; Bob's confirmation needed none.
    review = json.loads(cli(project, "directory", "review", "--json").stdout)
    by_who = {p["who"].split("<")[-1].rstrip(">"): p for p in review}
    assert {who: p["kind"] for who, p in by_who.items()} == {
        "ann@who.int": "correct",
        "cat@unicef.org": "left",
        "fay@wfp.org": "correct",
        "eve@unhcr.org": "left",
    }
    take = [by_who[w]["id"] for w in ("ann@who.int", "cat@unicef.org", "eve@unhcr.org")]
    approved = cli(project, "directory", "approve", *map(str, take))
    assert approved.exit_code == 0, approved.output
    assert approved.stdout.splitlines()[-1] == (
        "Welcomed 1 successor with the latest issue and their entry link."
    )
    rejected = cli(
        project, "directory", "reject", str(by_who["fay@wfp.org"]["id"]), "--reason", "typo"
    )
    assert rejected.exit_code == 0, rejected.output
    assert cli(project, "directory", "review").stdout == "No proposed changes are waiting.\n"

    # 8. The successor got the welcome, with their own entry link.
    welcome = [m for m in smtp.messages if "dan@unicef.org" in m.rcpt_tos]
    assert len(welcome) == 1
    msg = email.message_from_bytes(welcome[0].data, policy=email.policy.default)
    assert msg["Subject"] == "Welcome to The UN-Business Focal Point"
    assert f"{WEB_URL}/entry/" in msg.get_body(preferencelist=("plain",)).get_content()

    db = open_db(project / "contacts.db")
    dan = get_contact(db, "dan@unicef.org")
    assert dan.status == "subscribed" and dan.organisation == "UNICEF"
    cat = get_contact(db, "cat@unicef.org")
    assert cat.status == "left" and seat_of(db, dan.id) is not None
    assert get_contact(db, "fay@wfp.org").name == "Fay Diaz"
    assert get_contact(db, "bob@ilo.org").id is not None
    confirmed = db.execute(
        "SELECT confirmed_at FROM contacts WHERE email = 'bob@ilo.org'"
    ).fetchone()[0]
    assert confirmed
    (unhcr,) = db.execute("SELECT id FROM organisations WHERE name = 'UNHCR'").fetchone()
    assert [s.organisation_id for s in seats(db) if s.vacant] == [unhcr]
    db.conn.close()

    # 9. The next issue shows it all.
    folder = make_issue(project, "2027-Q1")
    toml = (folder / "issue.toml").read_text(encoding="utf-8")
    toml = toml.replace("number = 7", "number = 8").replace("2026-12-15", "2027-03-15")
    (folder / "issue.toml").write_text(toml, encoding="utf-8")
    result = cli(project, "build", "2027-Q1", "--offline")
    assert result.exit_code == 0, result.output
    text = (folder / "build" / "email.txt").read_text(encoding="utf-8")
    # Everything happened today (UTC); the issue is dated 15 March 2027.
    today = dt.datetime.now(dt.UTC).date()
    vacant_days = (dt.date(2027, 3, 15) - today).days
    directory = text[text.index("FOCAL-POINT DIRECTORY\n===") : text.index("\n-- \n")]
    assert directory.splitlines()[3:] == [
        f"4 focal points in 4 organisations. Changes since {longdate(today)}: 1 new, 1",
        "updated, 1 left.",  # Cat's seat changed hands: Dan is the one new
        "",
        "ILO",
        "---",
        "Private-sector focal point:",
        "- Bob Roy",
        "  bob@ilo.org · +41 22 799 61 11",
        "",
        "UNHCR",
        "-----",
        "Private-sector focal point:",
        f"- Vacant since {longdate(today)} ({age(vacant_days)})",
        "",
        "UNICEF",
        "------",
        "Private-sector focal point:",
        "- Dan Oh [new]",
        "  Partnerships specialist",
        "  dan@unicef.org",
        "",
        "WFP",
        "---",
        "Private-sector focal point:",
        "- Fay Diaz",
        "  fay@wfp.org · +39 06 65131",
        "",
        "WHO",
        "---",
        "Private-sector focal point:",
        "- Ann Lee [updated: new phone]",
        "  ann@who.int · +41 22 791 00 00",
        "",
        "Needs an update",
        "---------------",
        "These focal points have left or can no longer be reached. If you know who took",
        "over, please reply to partnerships@example.org.",
        "- Eve Sato, UNHCR (left)",  # Cat Ng is not asked about: Dan holds her seat
    ]
    assert [line for line in result.stdout.splitlines() if line.startswith("Directory: ")] == [
        "Directory: 4 of 4 entries confirmed in the last 12 months (100%); "
        f"1 vacant seat, {vacant_days} days."
    ]
