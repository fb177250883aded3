"""returns.tracker: per organisation, what it sent to the last issues and what they
took, and who has gone quiet; ``newsletter contributions`` prints it."""

from __future__ import annotations

import json

import pytest
from helpers import cli, make_issue

from newsletter.config import load_settings
from newsletter.models import Contact
from newsletter.returns import track
from newsletter.store import open_db
from newsletter.store.base import writing
from newsletter.store.contacts import create_contact
from newsletter.store.intake import Taken, record_taken

# Four quarters, each published mid-quarter-end.
DATES = {"2026-Q1": "2026-03-15", "2026-Q2": "2026-06-15", "2026-Q3": "2026-09-15"}
DATES["2026-Q4"] = "2026-12-15"


def item(title: str, organisation: str = "", section: str = "news") -> str:
    org = f"organisation: {organisation}\n" if organisation else ""
    return f"---\ntitle: {title}\nsection: {section}\nsource: A source\n{org}---\nText.\n"


def issue(root, issue_id: str, items: dict[str, str]) -> None:
    folder = make_issue(root, issue_id, items=items)
    toml = (folder / "issue.toml").read_text(encoding="utf-8")
    (folder / "issue.toml").write_text(
        toml.replace("2026-12-15", DATES[issue_id]), encoding="utf-8"
    )


def directory(root, rows: list[tuple[str, str, str]], taken: list[Taken] = ()) -> None:
    """Contacts (email, organisation, day added) and the contributions recorded."""
    db = open_db(root / "contacts.db")
    with writing(db):
        for email, org, day in rows:
            create_contact(
                db, Contact(email=email, organisation=org), "t", at=f"{day}T09:00:00+00:00"
            )
        record_taken(db, taken, "2026-11-01T00:00:00+00:00")
    db.conn.close()


@pytest.fixture
def tracked(project):
    """Four issues; UNICEF contributes to all but the last two, ILO joined before Q3 and
    sent nothing, WFP (listed) sent one to Q4, an unlisted 'Partner NGO' one item."""
    issue(project, "2026-Q1", {"a.md": item("A", "unicef"), "b.md": item("B")})
    issue(project, "2026-Q2", {"c.md": item("C", "UNICEF"), "d.md": item("D", "Partner NGO")})
    issue(project, "2026-Q3", {"e.md": item("E")})
    issue(project, "2026-Q4", {"f.md": item("F", "WFP")})
    directory(
        project,
        [
            ("fp@unicef.org", "UNICEF", "2025-01-10"),
            ("fp@ilo.org", "ILO", "2026-07-01"),
            ("fp@wfp.org", "WFP", "2025-05-05"),
        ],
        [
            Taken("k1", "2026-Q1", "a.md", "UNICEF", "form"),
            Taken("k2", "2026-Q1", "x.md", "UNICEF"),
            Taken("k3", "2026-Q2", "c.md", "unicef"),
            Taken("k4", "2026-Q2", "y.md", ""),
            Taken("k5", "2026-Q4", "f.md", "WFP", "form"),
            Taken("k6", "2025-Q4", "z.md", "ILO"),  # an issue not shown
        ],
    )
    return project


def test_the_table_counts_submitted_and_accepted_per_organisation_and_issue(tracked):
    result = cli(tracked, "contributions")
    assert (result.exit_code, result.output) == (
        0,
        "Contributions to the last 4 issues (submitted/accepted):\n"
        "  Organisation        2026-Q1  2026-Q2  2026-Q3  2026-Q4\n"
        "  ILO                       -        -      0/0      0/0\n"
        "  Partner NGO             0/0      0/1      0/0      0/0\n"
        "  UNICEF                  2/1      1/1      0/0      0/0\n"
        "  WFP                     0/0      0/0      0/0      1/1\n"
        "  Unverified senders      0/0      1/0      0/0      0/0\n"
        "  -: before the organisation's first contact was added\n"
        "Silent for 2 issues or more:\n"
        "  ILO: silent for 2 issues\n"
        "  UNICEF: silent for 2 issues\n",
    )


def test_issues_narrows_the_table_and_the_silence_with_it(tracked):
    """Only the directory's organisations and those that contributed to the issues shown."""
    result = cli(tracked, "contributions", "--issues", "1")
    assert (result.exit_code, result.output) == (
        0,
        "Contributions to the last issue (submitted/accepted):\n"
        "  Organisation  2026-Q4\n"
        "  ILO               0/0\n"
        "  UNICEF            0/0\n"
        "  WFP               1/1\n"
        "No organisation has been silent for 2 issues or more.\n",
    )


def test_silence_counts_the_latest_issues_in_a_row(tracked):
    found = {
        r.name: r.silent
        for r in track(load_settings(tracked), open_db(tracked / "contacts.db")).rows
    }
    # ILO joined before Q3 only; an unlisted organisation and the unverified are never silent.
    assert found == {"ILO": 2, "Partner NGO": 0, "UNICEF": 2, "WFP": 0, "Unverified senders": 0}


def test_json_has_every_cell_and_the_silent(tracked):
    """Partner NGO and the unverified senders sent nothing to these two: no row."""
    result = cli(tracked, "contributions", "--issues", "2", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "issues": ["2026-Q3", "2026-Q4"],
        "organisations": [
            {
                "organisation": "ILO",
                "listed": True,
                "issues": {
                    "2026-Q3": {"submitted": 0, "accepted": 0},
                    "2026-Q4": {"submitted": 0, "accepted": 0},
                },
                "silent_for": 2,
            },
            {
                "organisation": "UNICEF",
                "listed": True,
                "issues": {
                    "2026-Q3": {"submitted": 0, "accepted": 0},
                    "2026-Q4": {"submitted": 0, "accepted": 0},
                },
                "silent_for": 2,
            },
            {
                "organisation": "WFP",
                "listed": True,
                "issues": {
                    "2026-Q3": {"submitted": 0, "accepted": 0},
                    "2026-Q4": {"submitted": 1, "accepted": 1},
                },
                "silent_for": 0,
            },
        ],
        "silent": [{"organisation": "ILO", "issues": 2}, {"organisation": "UNICEF", "issues": 2}],
        "problems": [],
    }


def test_an_issue_before_the_first_contact_is_null_in_json(tracked):
    rows = json.loads(cli(tracked, "contributions", "--json").output)["organisations"]
    assert rows[0]["issues"]["2026-Q1"] is None and rows[0]["issues"]["2026-Q3"] is not None


def test_an_acronym_and_any_case_meet_the_directory_name(project):
    issue(project, "2026-Q4", {"a.md": item("A", "unicef"), "b.md": item("B", "Uni")})
    db = open_db(project / "contacts.db")
    with writing(db):
        create_contact(
            db, Contact(email="a@u.org", organisation="United Nations Children's Fund"), "t"
        )
        db.execute(
            "UPDATE organisations SET acronym = 'UNICEF' WHERE name = ?",
            ["United Nations Children's Fund"],
        )
        record_taken(db, [Taken("k", "2026-Q4", "a.md", "UNICEF")], "t")
    db.conn.close()
    rows = track(load_settings(project), open_db(project / "contacts.db")).rows
    assert [(r.name, [c.text for c in r.cells]) for r in rows] == [
        ("Uni", ["0/1"]),
        ("United Nations Children's Fund", ["1/1"]),
    ]


@pytest.mark.parametrize(
    "organisation",
    [
        "United Nations Office for Partnerships, Private Sector Engagement and Sustainable "
        "Development Goals Advocacy and Outreach to Business",  # over 120 characters
        "\u0633\u0627\u0632\u0645\u0627\u0646\u200c\u0647\u0627",  # Persian, with its ZWNJ
    ],
)
def test_a_long_or_persian_name_meets_its_own_organisation(project, organisation):
    """Matched as stored, never cut or stripped first (``store.contacts.organisation_key``),
    as the reminder matches them: else it would read as silent though it sent news."""
    issue(project, "2026-Q4", {"a.md": item("A", f'"{organisation}"')})
    directory(
        project,
        [("fp@org.example", organisation, "2025-01-10")],
        [Taken("k", "2026-Q4", "a.md", organisation)],
    )
    found = track(load_settings(project), open_db(project / "contacts.db"))
    assert [[c.text for c in r.cells] for r in found.rows] == [["1/1"]]
    assert [r.silent for r in found.rows] == [0]


def test_no_issues_and_an_unreadable_item_are_each_one_line(project):
    assert cli(project, "contributions").output == "Contributions: no issues yet under issues/.\n"
    issue(
        project,
        "2026-Q4",
        {"bad.md": "---\ntitle: x\nsection: gossip\n---\n", "a.md": item("A", "ILO")},
    )
    result = cli(project, "contributions")
    assert (result.exit_code, result.output) == (
        0,
        "Contributions to the last issue (submitted/accepted):\n"
        "  Organisation  2026-Q4\n"
        "  ILO               0/1\n"
        "Not counted: issues/2026-Q4: 1 item file could not be read, so not counted; "
        "see: newsletter check 2026-Q4\n"
        "No organisation has been silent for 2 issues or more.\n",
    )


def test_hostile_organisation_names_stay_one_line(project):
    issue(project, "2026-Q4", {"a.md": item("A", '"Evil\\n%%EMAIL%%\\u202eOrg"')})
    output = cli(project, "contributions").output
    # A terminal line: no line break, no bidi control (a marker means nothing here).
    assert "\u202e" not in output
    assert output.splitlines()[2] == "  Evil %%EMAIL%%Org      0/1"
