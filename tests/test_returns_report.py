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
from helpers import SECRET, built, cli, needs_chromium, smtp_args

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
    assert (result.exit_code, result.output) == (0, f"Wrote the report of 2026-Q4 to {out}.\n")
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
        # Contributions: the items per source and section.
        ["Source", "News", "Tools & resources", "Events & training", "Partnership spotlight"]
        + ["All"],
        ["UN Global Compact", "1", "1", "1", "1", "4"],
        ["All", "1", "1", "1", "1", "4"],
        # The directory's freshness per organisation.
        ["Organisation", "Confirmed in 12 months", "Listed", "Share"],
        ["Haut-Commissariat pour les réfugiés", "1", "1", "100%"],
        ["UNDP", "2", "2", "100%"],
        ["UNICEF", "1", "1", "100%"],
        ["No organisation", "1", "1", "100%"],
        ["All", "5", "5", "100%"],
        # The contribution tracker (returns.tracker): the directory's organisations.
        ["Organisation", "2026-Q4"],
        ["Haut-Commissariat pour les réfugiés", "0/0"],
        ["UNDP", "0/0"],
        ["UNICEF", "0/0"],
    ]
    assert "Directory: 5 of 5 entries confirmed in the last 12 months (100%)" in page
    assert "Issue 7: The UN-Business Focal Point: test issue" in page
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


def test_report_without_html_is_the_status_text_then_the_management_sections(aftermath):
    status = cli(aftermath, "status", "2026-Q4").output
    result = cli(aftermath, "report", "2026-Q4")
    assert (result.exit_code, result.output) == (
        0,
        status + "Contributions (4 items, by source and section):\n"
        "  Source              News  Tools & resources  Events & training  Partnership spotlight"
        "    All\n"
        "  UN Global Compact      1                  1                  1                      1"
        "      4\n"
        # Freshness counts listed entries, unsubscribed ones too: they still hold the role.
        "Directory: 2 of 2 entries confirmed in the last 12 months (100%); no vacant seats.\n"
        "  Organisation     confirmed     listed\n"
        "  No organisation          2          2\n",
    )


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
    head, tail = before.split("Contributions (", 1)
    assert (
        text
        == head
        + (
            "Clicks per link (no person recorded; under 5 shown as fewer than 5):\n"
            "  [1]            7  https://example.org/item-1\n"
            "  [2] fewer than 5  https://example.org/item-2\n"
            "  [3]            5  https://example.org/item-3\n"
            "Clicks per organisation (organisations of 5 or more recipients; "
            "under 5 shown as fewer than 5):\n"
            "  Other organisations           16\n"
        )
        + "Contributions ("
        + tail
    )
    cells = Cells()
    cells.feed(cli(aftermath, "report", "2026-Q4", "--html").output)
    clicks_rows = [
        ["Organisation", "Clicks"],
        ["Other organisations", "16"],
        ["Link", "Clicks"],
        ["1. https://example.org/item-1", "7"],
        ["2. https://example.org/item-2", "fewer than 5"],
        ["3. https://example.org/item-3", "5"],
    ]
    at = cells.rows.index(["Organisation", "Clicks"])
    assert cells.rows[at : at + 6] == clicks_rows
    # status --json keeps its documented shape.
    assert "clicks" not in json.loads(cli(aftermath, "status", "2026-Q4", "--json").output)


# -- the report for management: contributions, freshness, one printed page ------------------

ITEMS = {
    "a.md": "---\ntitle: A\nsection: news\nsource: UNDP\ncontributor: Jane Contributor\n---\nA.\n",
    "b.md": "---\ntitle: B\nsection: news\nsource: UNDP\n---\nB.\n",
    "c.md": "---\ntitle: C\nsection: tools\nsource: ILO\ncontributor: Omar Sender\n---\nC.\n",
    "d.md": "---\ntitle: D\nsection: events\nstarts: 2027-03-23\n---\nD.\n",  # no source
}


def test_contributions_count_items_per_source_and_section_never_a_contributor(project):
    from helpers import make_issue

    make_issue(project, items=ITEMS)
    result = cli(project, "report", "2026-Q4")
    assert (result.exit_code, result.output) == (
        0,
        "issues/2026-Q4: no deliveries recorded yet.\n"
        "Contributions (4 items, by source and section):\n"
        "  Source               News  Tools & resources  Events & training    All\n"
        "  ILO                     0                  1                  0      1\n"
        "  UNDP                    2                  0                  0      2\n"
        "  (source not named)      0                  0                  1      1\n"
        "Directory: 0 of 0 entries confirmed in the last 12 months (0%); no vacant seats.\n",
    )
    page = cli(project, "report", "2026-Q4", "--html").output
    cells = Cells()
    cells.feed(page)
    at = cells.rows.index(["Source", "News", "Tools & resources", "Events & training", "All"])
    assert cells.rows[at + 1 : at + 5] == [
        ["ILO", "0", "1", "0", "1"],
        ["UNDP", "2", "0", "0", "2"],
        ["(source not named)", "0", "0", "1", "1"],
        ["All", "2", "1", "1", "4"],
    ]
    for person in ("Jane Contributor", "Omar Sender"):  # a contributor is a person
        assert person not in page and person not in result.output


@pytest.mark.parametrize("broken", ["missing", "bad item"])
def test_an_issue_folder_that_cannot_be_read_is_one_line_not_a_failed_report(project, broken):
    from helpers import make_issue

    if broken == "bad item":
        make_issue(project, items={"bad.md": "---\ntitle: x\nsection: gossip\n---\n"})
    result = cli(project, "report", "2026-Q4")
    line = {
        "missing": "Contributions: issues/2026-Q4: no such issue folder.\n",
        "bad item": "Contributions: issues/2026-Q4 could not be read (1 problem); see: "
        "newsletter check 2026-Q4\n",
    }[broken]
    assert (result.exit_code, result.output) == (
        0,
        "issues/2026-Q4: no deliveries recorded yet.\n"
        + line
        + "Directory: 0 of 0 entries confirmed in the last 12 months (0%); no vacant seats.\n",
    )
    page = cli(project, "report", "2026-Q4", "--html")
    assert page.exit_code == 0
    assert line.removeprefix("Contributions: ").strip() in page.output


def test_the_page_holds_no_address_name_or_phone_of_anyone(project):
    """Listed contacts with phones, the oldest-confirmed entries freshness knows by name
    and address: the page has their counts, and nothing of them."""
    built(project)
    db = open_db(project / "contacts.db")
    people = [
        (f"focal.{n}@org{n % 3}.example", f"Focal Person{n}", f"Org {n % 3}", f"+41 22 917 {n:04d}")
        for n in range(9)
    ]
    for email, name, org, phone in people:
        create_contact(
            db, Contact(email=email, name=name, organisation=org, phone=phone, city="Genève"), "t"
        )
    db.conn.close()
    assert cli(project, "send", "2026-Q4", "--yes").exit_code == 0
    page = cli(project, "report", "2026-Q4", "--html").output
    text = cli(project, "report", "2026-Q4").output
    assert "Org 0" in page and "Directory: 9 of 9 entries" in page
    for email, name, _, phone in people:
        for value in (email, name, phone, phone.replace(" ", "")):
            assert value not in page, value
            assert value not in text.split("Since the send")[1], value  # the text's sections too
    assert not re.search(r"[\w.+-]+@[\w-]+\.", page)
    assert not re.search(r"\+?\d[\d ]{7,}\d", page)  # nothing shaped like a phone number
    assert "Genève" not in page


def test_the_desks_function_returns_the_page_the_command_writes(aftermath):
    import datetime as dt

    from newsletter import returns

    made = dt.datetime(2026, 12, 20, 9, 30, tzinfo=dt.UTC)
    db = open_db(aftermath / "contacts.db")
    page = returns.management_report(load_settings(aftermath), db, "2026-Q4", made=made)
    db.conn.close()
    assert "management_report" in returns.__all__
    assert "figures as of 20 December 2026, 09:30 UTC" in page
    written = cli(aftermath, "report", "2026-Q4", "--html").output
    assert written.split("figures as of")[0] == page.split("figures as of")[0]
    assert written.split("</header>")[1] == page.split("</header>")[1]


def typical(settings) -> str:
    """The page for a typical issue: 13 items from 9 sources, 14 organisations, 12 links,
    and the contribution tracker over four issues."""
    import datetime as dt

    from newsletter.contacts.freshness import Freshness, Tally
    from newsletter.returns import ManagementReport, render_html
    from newsletter.returns.management import Contributions
    from newsletter.returns.report import DeliveryReport, SenderStatus
    from newsletter.returns.tracker import Cell, Row, Tracker
    from newsletter.store.bounces import Aftermath
    from newsletter.store.clicks import LinkClicks, OrganisationClicks

    orgs = ["Haut-Commissariat des Nations Unies pour les réfugiés", "UNDP", "UNICEF", "UNOPS"]
    orgs += ["ILO", "WFP", "WHO", "FAO", "UNEP", "UNESCO", "UN Women", "OHCHR", "UNIDO", ""]
    per_org = tuple((name, Aftermath(86, 85, 1, 1, 0, 0, 1)) for name in orgs)
    total = Aftermath(1204, 1190, 14, 14, 0, 0, 14)
    delivery = DeliveryReport(
        "2026-Q4",
        None,
        (SenderStatus("smtp", (("sent", 1190), ("failed", 14)), ()),),
        ("2026-12-15T09:00:04+00:00", "2026-12-15T09:31:16+00:00"),
        total,
        per_org,
        tuple(
            LinkClicks(
                n, f"https://www.example.org/news/2026/12/item-{n}-with-a-longer-path", 9 * n
            )
            for n in range(1, 13)
        ),
    )
    given = Contributions(
        ("News", "Tools & resources", "Events & training", "Partnership spotlight"),
        tuple((name, (1, 0, 1, 0) if n % 2 else (0, 1, 0, 1)) for n, name in enumerate(orgs[:9]))[
            :7
        ]
        + (("", (0, 0, 0, 1)),),
    )
    fresh = Freshness(
        dt.date(2026, 12, 20),
        900,
        1100,
        tuple(Tally(name or "No organisation", 70, 80) for name in orgs),
        (),
        (),
    )
    # The tracker over four issues: the 13 organisations, some of them silent.
    tracked = Tracker(
        ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"),
        tuple(
            Row(name or "", tuple(Cell(n % 3, n % 2) for _ in range(4)), bool(name), n % 4)
            for n, name in enumerate(orgs)
        ),
    )
    report = ManagementReport(
        delivery,
        "Issue 14: The UN-Business Focal Point, December 2026",
        given,
        tuple(OrganisationClicks(name, 20) for name in orgs[:8]),
        fresh,
        tracked,
    )
    return render_html(settings, report, dt.datetime(2026, 12, 20, 9, 30, tzinfo=dt.UTC))


@needs_chromium
def test_a_typical_report_prints_on_one_page(project, tmp_path):
    import base64

    from newsletter.build.browser import Browser

    page = tmp_path / "report.html"
    page.write_text(typical(load_settings(project)), encoding="utf-8")
    with Browser() as chromium:
        chromium.open(page.as_uri(), 1280)
        pdf = chromium.call("Page.printToPDF", session=True, preferCSSPageSize=True)
    data = base64.b64decode(pdf["data"])
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1


def test_the_report_has_the_contribution_tracker_up_to_its_issue(project):
    """The issues up to the one reported on (not a later one), counts and organisation
    names only: the contributor of an item is a person and never shown."""
    from test_returns_tracker import Taken, directory, issue, item

    issue(project, "2026-Q2", {"a.md": item("A", "unicef")})
    issue(project, "2026-Q3", {"b.md": item("B")})
    issue(project, "2026-Q4", {"c.md": item("C", "ILO")})
    directory(
        project,
        [("fp@unicef.org", "UNICEF", "2025-01-10"), ("fp@ilo.org", "ILO", "2025-01-10")],
        [Taken("k1", "2026-Q2", "a.md", "UNICEF"), Taken("k2", "2026-Q4", "c.md", "ILO")],
    )
    text = cli(project, "report", "2026-Q3").output
    tracker = text.split("Contributions to", 1)[1].split("Directory:", 1)[0]
    assert "Contributions to" + tracker == (
        "Contributions to the last 2 issues (submitted/accepted):\n"
        "  Organisation  2026-Q2  2026-Q3\n"
        "  ILO               0/0      0/0\n"
        "  UNICEF            1/1      0/0\n"
        "Silent for 2 issues or more:\n"
        "  ILO: silent for 2 issues\n"
    )
    cells = Cells()
    cells.feed(cli(project, "report", "2026-Q3", "--html").output)
    at = cells.rows.index(["Organisation", "2026-Q2", "2026-Q3"])
    assert cells.rows[at:] == [
        ["Organisation", "2026-Q2", "2026-Q3"],
        ["ILO", "0/0", "0/0"],
        ["UNICEF", "1/1", "0/0"],
    ]
    page = " ".join(cells.text)
    assert "2 of the 2 organisations with a listed focal point" not in page
    assert "1 of the 2 organisations with a listed focal point contributed" in page
    assert "ILO: 2 issues" in page and "fp@" not in page
