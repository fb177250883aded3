"""newsletter.returns.report: `status` (text and --json) and `report --html`, the
delivery report overall and per organisation."""

from __future__ import annotations

import json
import mailbox
import re
import sqlite3
from contextlib import closing
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import SECRET, built, cli, smtp_args

from newsletter.config import load_settings
from newsletter.models import Contact
from newsletter.returns import create_app
from newsletter.store import ledger, open_db
from newsletter.store.bounces import add_soft
from newsletter.store.contacts import create_contact, mark_bounced, record_change, unsubscribe
from newsletter.tokens import make_token

DATA = Path(__file__).parent / "data" / "bounces"


@pytest.fixture
def aftermath(outbox_ready):
    """The outbox send of 2026-Q4 to five contacts, and one of each fate since."""
    assert cli(outbox_ready, "send", "2026-Q4", "--yes").exit_code == 0
    db = open_db(outbox_ready / "contacts.db")
    ids = [n for (n,) in db.execute("SELECT id FROM contacts ORDER BY id")]  # person0 first
    early = "2000-01-01T00:00:00+00:00"  # before the send: not counted
    # person0: rejected during the send (a failed row, and marked bounced).
    db.execute(
        "UPDATE deliveries SET status = 'failed', last_error = '550 5.1.1 User unknown'"
        " WHERE contact_id = ?",
        [ids[0]],
    )
    mark_bounced(db, "person0@example.org", source="rejected:2026-Q4")
    # person1: a hard bounce; person2: a soft bounce, then bounced by the streak.
    mark_bounced(db, "person1@example.org", source="bounce:2026-Q4")
    add_soft(db, ids[2], "2026-Q4", "4.2.2")
    mark_bounced(db, "person2@example.org", source="bounce:2026-Q4")
    # person3: a complaint, which also unsubscribes: counted once, as the complaint.
    unsubscribe(db, ids[3], source="complaint:2026-Q4")
    # person4: unsubscribed by hand after the send, then by the link too (counted once);
    # a bounce about another issue is not this one's.
    unsubscribe(db, ids[4], source="manual")
    record_change(db, ids[4], "status", "subscribed", "unsubscribed", "unsubscribe-link:2026-Q4")
    record_change(db, ids[1], "status", "subscribed", "bounced", "bounce:2026-Q3")
    record_change(db, ids[2], "status", "subscribed", "unsubscribed", "manual", at=early)
    db.execute("UPDATE deliveries SET sent_at = '2026-12-15T09:00:00+00:00'")
    db.conn.close()
    return outbox_ready


def test_status_counts_what_became_of_an_issue_since_the_send(aftermath):
    result = cli(aftermath, "status", "2026-Q4")
    assert (result.exit_code, result.output) == (
        0,
        "issues/2026-Q4 via outbox: 5 recipients\n"
        "  queued            0\n"
        "  sent              4\n"
        "  failed            1\n"
        "  uncertain         0\n"
        "  failed: person0@example.org (contact 1, 1 attempt): 550 5.1.1 User unknown\n"
        "Since the send (contacts):\n"
        "  recipients               5\n"
        "  delivered                4\n"
        "  rejected at send         1\n"
        "  hard bounces             1\n"
        "  soft bounces             1\n"
        "  complaints               1\n"
        "  unsubscribed             1\n"
        "By organisation:\n"
        "  Organisation      recipients  delivered   rejected       hard       soft"
        " complaints      unsub\n"
        "  (no organisation)          5          4          1          1          1"
        "          1          1\n",
    )
    # The ledger's figures follow --sender; another sender has none.
    other = cli(aftermath, "status", "2026-Q4", "--sender", "smtp")
    assert other.output == "issues/2026-Q4: no deliveries recorded yet.\n"


def test_status_json_has_a_stable_shape(aftermath):
    result = cli(aftermath, "status", "2026-Q4", "--json")
    figures = (
        '    "recipients": 5,\n    "delivered": 4,\n    "rejected": 1,\n'
        '    "hard_bounces": 1,\n    "soft_bounces": 1,\n    "complaints": 1,\n'
        '    "unsubscribed": 1\n'
    )
    assert (result.exit_code, result.output) == (
        0,
        "{\n"
        '  "issue": "2026-Q4",\n'
        '  "sender": null,\n'
        '  "first_sent": "2026-12-15T09:00:00+00:00",\n'
        '  "last_sent": "2026-12-15T09:00:00+00:00",\n'
        '  "senders": [\n'
        "    {\n"
        '      "sender": "outbox",\n'
        '      "recipients": 5,\n'
        '      "statuses": {\n'
        '        "queued": 0,\n'
        '        "sending": 0,\n'
        '        "sent": 4,\n'
        '        "failed": 1,\n'
        '        "uncertain": 0,\n'
        '        "skipped": 0\n'
        "      },\n"
        '      "problems": [\n'
        "        {\n"
        '          "contact_id": 1,\n'
        '          "email": "person0@example.org",\n'
        '          "status": "failed",\n'
        '          "attempts": 1,\n'
        '          "reason": "550 5.1.1 User unknown"\n'
        "        }\n"
        "      ]\n"
        "    }\n"
        "  ],\n"
        '  "since_send": {\n' + figures.replace("    ", "    ", 1) + "  },\n"
        '  "organisations": [\n'
        "    {\n"
        '      "organisation": null,\n' + figures.replace('    "', '      "') + "    }\n"
        "  ]\n"
        "}\n",
    )
    assert json.loads(result.output)["since_send"]["recipients"] == 5


def test_status_json_before_any_send_is_empty_not_missing(project):
    result = cli(project, "status", "2026-Q4", "--json")
    doc = json.loads(result.output)
    assert (result.exit_code, doc["senders"], doc["organisations"], doc["first_sent"]) == (
        0,
        [],
        [],
        None,
    )
    assert set(doc["since_send"].values()) == {0}


# Who is who in the real run below: (address, name, organisation).
PEOPLE = [
    ("gone.away@unicef.example", "Gone Away", "UNICEF"),  # hard bounce (hard-5.1.1.eml)
    ("amelie.roux@unicef.example", "Amélie Roux", "UNICEF"),  # unsubscribes by the link
    ("full.box@undp.example", "Full Box", "UNDP"),  # soft bounce (soft-4.2.2.eml)
    ("kind.soul@undp.example", "Kind Soul", "UNDP"),  # complaint (arf-abuse.eml)
    ("old.post@unhcr.example", "Old Post", "Haut-Commissariat pour les réfugiés"),
    ("nobody@unops.example", "No Body", "UNOPS"),  # rejected during the send
    ("free.agent@example.org", "Free Agent", ""),  # delivered, nothing more
]


def returned(tmp_path: Path, root: Path, samples: dict[str, tuple[str, str]]) -> Path:
    """A mailbox of sample bounces, each rewritten to be about one of our real messages:
    {sample file: (the sample's address, the address it becomes)}."""
    db = open_db(root / "contacts.db")
    ids = {row.email: row.message_id for row in ledger.rows(db, "2026-Q4", "smtp", ("sent",))}
    db.conn.close()
    box = mailbox.mbox(tmp_path / "returned.mbox")
    for name, (old, new) in samples.items():
        text = (DATA / name).read_text()
        sample_id = next(w for w in text.split() if w.startswith("<2026-Q4."))
        box.add(text.replace(sample_id, ids[new]).replace(old, new).encode())
    box.close()
    return tmp_path / "returned.mbox"


@pytest.fixture
def quarter(project, smtp, monkeypatch, tmp_path):
    """A real quarter: sent over SMTP (one address refused), then bounces, a complaint
    and an unsubscribe applied through the commands and the web app."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings="[tool.newsletter.send]\nretry_delay = 0.01\n")
    db = open_db(project / "contacts.db")
    for email, name, org in PEOPLE:
        create_contact(db, Contact(email=email, name=name, organisation=org), "test")
    db.conn.close()
    smtp.fail("nobody@unops.example", "550 5.1.1 User unknown", times=10)
    sent = cli(project, "send", "2026-Q4", *smtp_args(smtp.port), "--yes")
    assert sent.exit_code == 0, sent.output
    mbox = returned(
        tmp_path,
        project,
        {
            "hard-5.1.1.eml": ("gone.away@unicef.example", "gone.away@unicef.example"),
            "soft-4.2.2.eml": ("full.box@undp.example", "full.box@undp.example"),
            "arf-abuse.eml": ("gone.away@unicef.example", "kind.soul@undp.example"),
        },
    )
    applied = cli(project, "bounces", str(mbox))
    assert applied.output.endswith("1 complaint; 2 contacts changed.\n"), applied.output
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET.encode())
    db = open_db(project / "contacts.db")
    (amelie,) = db.execute("SELECT id FROM contacts WHERE name = 'Amélie Roux'").fetchone()
    db.conn.close()
    token = make_token(SECRET.encode(), amelie, "2026-Q4")
    reply = app.test_client().post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert reply.status_code == 200
    return project


def test_per_organisation_figures_from_a_real_send_and_its_returns(quarter):
    result = cli(quarter, "status", "2026-Q4", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    keys = ("recipients", "delivered", "rejected", "hard_bounces", "soft_bounces")
    keys += ("complaints", "unsubscribed")
    table = {o["organisation"]: tuple(o[k] for k in keys) for o in doc["organisations"]}
    assert list(table) == [
        "Haut-Commissariat pour les réfugiés",
        "UNDP",
        "UNICEF",
        "UNOPS",
        None,
    ]
    assert table == {
        "Haut-Commissariat pour les réfugiés": (1, 1, 0, 0, 0, 0, 0),
        "UNDP": (2, 2, 0, 0, 1, 1, 0),
        "UNICEF": (2, 2, 0, 1, 0, 0, 1),
        "UNOPS": (1, 0, 1, 0, 0, 0, 0),
        None: (1, 1, 0, 0, 0, 0, 0),
    }
    assert tuple(doc["since_send"][k] for k in keys) == (7, 6, 1, 1, 1, 1, 1)
    assert "réfugiés" in result.output  # ensure_ascii=False: the name as written
    text = cli(quarter, "status", "2026-Q4").output
    assert text.split("By organisation:\n")[1] == (
        "  Organisation                        recipients  delivered   rejected       hard"
        "       soft complaints      unsub\n"
        "  Haut-Commissariat pour les réfugiés          1          1          0          0"
        "          0          0          0\n"
        "  UNDP                                         2          2          0          0"
        "          1          1          0\n"
        "  UNICEF                                       2          2          0          1"
        "          0          0          1\n"
        "  UNOPS                                        1          0          1          0"
        "          0          0          0\n"
        "  (no organisation)                            1          1          0          0"
        "          0          0          0\n"
    )


class Cells(HTMLParser):
    """The text of a page, and its table's rows as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_the_html_report_has_counts_per_organisation_and_no_personal_data(quarter):
    out = quarter / "report.html"
    result = cli(quarter, "report", "2026-Q4", "--html", "-o", str(out))
    assert (result.exit_code, result.output) == (
        0,
        f"Wrote the delivery report of 2026-Q4 to {out}.\n",
    )
    page = out.read_text(encoding="utf-8")
    cells = Cells()
    cells.feed(page)
    assert "script" not in cells.tags
    assert cells.rows == [
        ["Organisation", "Recipients", "Delivered", "Rejected at send", "Hard bounces"]
        + ["Soft bounces", "Complaints", "Unsubscribed"],
        ["Haut-Commissariat pour les réfugiés", "1", "1", "0", "0", "0", "0", "0"],
        ["UNDP", "2", "2", "0", "0", "1", "1", "0"],
        ["UNICEF", "2", "2", "0", "1", "0", "0", "1"],
        ["UNOPS", "1", "0", "1", "0", "0", "0", "0"],
        ["(no organisation)", "1", "1", "0", "0", "0", "0", "0"],
        ["All", "7", "6", "1", "1", "1", "1", "1"],
    ]
    text = " ".join(cells.text)
    for email, name, _ in PEOPLE:
        assert email not in page and name not in text
    assert not re.search(r"[\w.+-]+@[\w-]+\.", page)  # no address at all, not even ours
    # stdout without -o; the same page but for the time it was made.
    shown = cli(quarter, "report", "2026-Q4", "--html").output
    assert shown.split("figures as of")[0] == page.split("figures as of")[0]


def dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return list(db.iterdump())


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-o", "report.html"], 2, "-o/--output: only with --html."),
        (["--html", "-o", "old.html"], 1, "already exists. Pass --force to replace it"),
        (["--html", "-o", "contacts.db", "--force"], 1, "is the contacts database"),
        (["--html", "-o", "pyproject.toml", "--force"], 1, "is the contacts database"),
    ],
)
def test_the_report_file_follows_the_output_rules(aftermath, args, code, message):
    (aftermath / "old.html").write_text("keep me")
    before = dump(aftermath / "contacts.db")
    args = [str(aftermath / a) if a.endswith((".html", ".db", ".toml")) else a for a in args]
    result = cli(aftermath, "report", "2026-Q4", *args)
    assert result.exit_code == code and message in result.output, result.output
    assert (aftermath / "old.html").read_text() == "keep me"
    assert dump(aftermath / "contacts.db") == before
    assert not (aftermath / "report.html").exists()
    forced = cli(aftermath, "report", "2026-Q4", "--html", "-o", str(aftermath / "old.html"))
    assert forced.exit_code == 1
    assert cli(aftermath, "report", "2026-Q4", "--html", "--force", "-o", "old.html").exit_code == 0


def test_report_without_html_shows_the_status_text(aftermath):
    assert cli(aftermath, "report", "2026-Q4").output == cli(aftermath, "status", "2026-Q4").output


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "fewer than 5"), (1, "fewer than 5"), (4, "fewer than 5"), (5, "5"), (1234, "1,234")],
)
def test_a_click_count_under_5_is_shown_as_fewer_than_5(count, shown):
    from newsletter.returns import shown_count

    assert shown_count(count) == shown


def test_the_report_shows_clicks_per_link_with_small_counts_hidden(aftermath):
    from newsletter.store import clicks

    before = cli(aftermath, "report", "2026-Q4").output
    assert "Clicks" not in before  # readership off: no clicks, no section
    db = open_db(aftermath / "contacts.db")
    for link, times in [(2, 4), (1, 7), (3, 5)]:
        for _ in range(times):
            clicks.count_click(db, "2026-Q4", link, f"https://example.org/item-{link}")
    clicks.count_click(db, "2026-Q3", 1, "https://example.org/other-issue")
    db.conn.close()
    text = cli(aftermath, "report", "2026-Q4").output
    assert text == before + (
        "Clicks per link (no person recorded; under 5 shown as fewer than 5):\n"
        "  [1]            7  https://example.org/item-1\n"
        "  [2] fewer than 5  https://example.org/item-2\n"
        "  [3]            5  https://example.org/item-3\n"
    )
    cells = Cells()
    cells.feed(cli(aftermath, "report", "2026-Q4", "--html").output)
    assert cells.rows[-4:] == [
        ["Link", "Clicks"],
        ["1. https://example.org/item-1", "7"],
        ["2. https://example.org/item-2", "fewer than 5"],
        ["3. https://example.org/item-3", "5"],
    ]
    # status --json keeps its documented shape.
    assert "clicks" not in json.loads(cli(aftermath, "status", "2026-Q4", "--json").output)
