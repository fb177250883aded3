"""`newsletter contacts import/export/list/show`: formats, reports and bad input."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner
from helpers import REPO

from newsletter.cli import main

SAMPLE = REPO / "examples" / "focal-points.csv"


@pytest.fixture
def db(project):
    return project / "contacts.db"


def run(project, *args, input=None):
    return CliRunner().invoke(main, ["--root", str(project), *args], input=input)


def dump(path) -> str:
    """The whole database as SQL text: equal dumps mean nothing changed."""
    if not path.exists():
        return ""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def write(project, name: str, text: str | bytes) -> str:
    path = project / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return name


def rows(db, sql="SELECT email, name, status FROM contacts ORDER BY email"):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_import_sample_then_reimport_is_unchanged(project, db, monkeypatch):
    monkeypatch.chdir(project)
    (project / "examples").mkdir()
    (project / "examples" / "focal-points.csv").write_bytes(SAMPLE.read_bytes())
    first = run(project, "contacts", "import", "examples/focal-points.csv")
    assert first.exit_code == 0, first.output
    assert (
        first.output == "examples/focal-points.csv: 64 added, 0 updated, 0 unchanged, 0 rejected\n"
    )
    again = run(project, "contacts", "import", "examples/focal-points.csv")
    assert (
        again.output == "examples/focal-points.csv: 0 added, 0 updated, 64 unchanged, 0 rejected\n"
    )
    orgs = rows(db, "SELECT count(*) FROM organisations")[0][0]
    assert orgs == 23
    # An acronym in the file finds the organisation stored under its full name.
    write(project, "short.csv", "Email,Agency\nkofi.boateng@unv.example.org,UNV\n")
    assert run(project, "contacts", "import", "short.csv").output.endswith(
        "1 unchanged, 0 rejected\n"
    )


def test_semicolon_file_with_header_aliases(project, db, monkeypatch):
    monkeypatch.chdir(project)
    name = write(
        project,
        "semi.csv",
        "E-Mail Address;First name;Last name;Organization;Position\r\n"
        "Ana.Costa@UNESCO.example.org;Ana;Costa;UNESCO;Officer, Partnerships\r\n",
    )
    result = run(project, "contacts", "import", name)
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT email, name, job_title FROM contacts") == [
        ("ana.costa@unesco.example.org", "Ana Costa", "Officer, Partnerships")
    ]


def test_bom_file_from_the_corpus(project, db, corpus, monkeypatch):
    monkeypatch.chdir(project)
    data = (corpus / "contacts/mailmerge/mailmerge_database_with_BOM.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    result = run(project, "contacts", "import", write(project, "bom.csv", data))
    assert result.exit_code == 0, result.output
    assert rows(db) == [("to@test.com", "My Name", "subscribed")]


def test_json_import(project, db, monkeypatch):
    monkeypatch.chdir(project)
    people = {
        "contacts": [{"Email": "a@who.example.org", "Name": "A", "Topics": ["health", "data"]}]
    }
    result = run(project, "contacts", "import", write(project, "p.json", json.dumps(people)))
    assert result.exit_code == 0, result.output
    assert rows(db, "SELECT email, topics FROM contacts") == [("a@who.example.org", "health; data")]


BAD_FILES = {
    "empty": (b"", "Error: bad.csv: the file is empty. Export the list with a header row."),
    "blank": (
        b"\r\n \r\n",
        "Error: bad.csv: the file is empty. Export the list with a header row.",
    ),
    "header only": (
        b"Email,Name\r\n",
        "Error: bad.csv: a header but no rows. Add one row per contact.",
    ),
    "no email column": (
        b"Name,Agency\nJane,UNICEF\n",
        "Error: bad.csv:1: no email column (headers: Name, Agency). "
        "Add a column named Email with one address per row.",
    ),
    "latin-1": (
        "Email,Name\nj@unicef.example.org,Jos\u00e9\n".encode("latin-1"),
        "Error: bad.csv: not UTF-8 (byte 0xe9 at line 2; it looks like Latin-1 or "
        "Windows-1252). Save it as UTF-8 CSV.",
    ),
    "utf-16": (
        "Email\nj@unicef.example.org\n".encode("utf-16"),
        "Error: bad.csv: UTF-16 or binary, not UTF-8 text. Save it as UTF-8 CSV.",
    ),
    "two email columns": (
        b"Email,E-mail\na@b.org,c@d.org\n",
        "Error: bad.csv:1: columns 'Email' and 'E-mail' both mean email. "
        "Delete or rename one of them.",
    ),
}


@pytest.mark.parametrize("data,message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_and_changes_nothing(project, db, monkeypatch, data, message):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "keep@unicef.example.org", "--name", "Keep")
    before = dump(db)
    result = run(project, "contacts", "import", write(project, "bad.csv", data))
    assert result.exit_code == 1
    assert result.output == message + "\n"
    assert dump(db) == before


def test_missing_file(project, monkeypatch):
    monkeypatch.chdir(project)
    result = run(project, "contacts", "import", "nope.csv")
    assert result.exit_code == 1
    assert (
        result.output
        == "Error: nope.csv: cannot read it (No such file or directory). Check the path.\n"
    )


def test_rejected_rows_are_reported_and_the_rest_applied(project, db, monkeypatch):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "kept@who.example.org", "--name", "Kept Name")
    before = rows(db)
    name = write(
        project,
        "mixed.csv",
        "Email,Name,Listed\n"
        "one@who.example.org,One,yes\n"
        "not-an-address,Two,yes\n"
        "ONE@who.example.org,One again,yes\n"
        "kept@who.example.org,Bell\x07Name,yes\n"
        "three@who.example.org,Three,maybe\n"
        ",Nobody,yes\n",
    )
    result = run(project, "contacts", "import", name)
    assert result.exit_code == 3
    assert result.output.splitlines() == [
        "mixed.csv:3: 'not-an-address' is not a valid email address (An email address must "
        "have an @-sign). Correct it.",
        "mixed.csv:4: one@who.example.org is already on row 2. "
        "Keep one row per address and delete the other.",
        "mixed.csv:5: column 'Name' 'Bell\\u0007Name' contains the control character U+0007. "
        "Remove it.",
        "mixed.csv:6: column 'Listed' 'maybe' must be yes or no.",
        "mixed.csv:7: no address; it is not a valid email address (no email address). Correct it.",
        "mixed.csv: 1 added, 0 updated, 0 unchanged, 5 rejected",
    ]
    # The rejected row for an existing contact left it exactly as it was.
    assert rows(db) == sorted(before + [("one@who.example.org", "One", "subscribed")])


def test_line_breaks_in_a_cell_are_folded_and_rows_keep_file_lines(project, db, monkeypatch):
    monkeypatch.chdir(project)
    name = write(
        project,
        "multi.csv",
        'Email,Name,Job title\na@who.example.org,"Ann\r\nSmith","Head of\nPartnerships"\nbad,B,C\n',
    )
    result = run(project, "contacts", "import", name)
    assert "multi.csv:5: 'bad' is not a valid email address" in result.output  # its own line
    assert rows(db, "SELECT name, job_title FROM contacts") == [
        ("Ann Smith", "Head of Partnerships")
    ]


def test_dry_run_prints_the_diff_and_writes_nothing(project, db, monkeypatch):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "a@who.example.org", "--name", "A", "--job-title", "Old")
    before = dump(db)
    name = write(
        project, "d.csv", "Email,Name,Job title\na@who.example.org,A,New\nb@who.example.org,B,\n"
    )
    result = run(project, "contacts", "import", name, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "+ b@who.example.org  'B', subscribed",
        "~ a@who.example.org  job_title: 'Old' → 'New'",
        "d.csv: 1 added, 1 updated, 0 unchanged, 0 rejected (dry run: nothing written)",
    ]
    assert dump(db) == before


def test_empty_cells_never_erase(project, db, monkeypatch):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "a@who.example.org", "--name", "A", "--phone", "+41 1")
    result = run(
        project,
        "contacts",
        "import",
        write(project, "e.csv", "Email,Name,Phone\na@who.example.org,,\n"),
    )
    assert result.output.endswith("0 updated, 1 unchanged, 0 rejected\n")
    assert rows(db, "SELECT name, phone FROM contacts") == [("A", "+41 1")]


def test_formula_cells_are_kept_as_text_and_neutralised_on_export(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = (
        "Email,Name,Job title,Phone,Topics\n"
        'a@who.example.org,"=HYPERLINK(""http://x"",""y"")",+cmd|calc,-1+2,@SUM(A1)\n'
        'b@who.example.org,"\tTabbed",Officer,+41 22 555 0100,x\n'
    )
    assert run(project, "contacts", "import", write(project, "f.csv", text)).exit_code == 0
    stored = rows(db, "SELECT name, job_title, phone, topics FROM contacts ORDER BY email")
    assert stored[0] == ('=HYPERLINK("http://x","y")', "+cmd|calc", "-1+2", "@SUM(A1)")
    exported = run(project, "contacts", "export")
    assert exported.exit_code == 0
    table = list(csv.reader(io.StringIO(exported.output)))
    assert table[0][:4] == ["Email", "Name", "Organisation", "Job title"]
    for row in table[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert table[1][1] == '\'=HYPERLINK("http://x","y")'
    assert table[2][6] == "'+41 22 555 0100"
    # The export goes back in unchanged: the apostrophes are taken off again.
    (project / "back.csv").write_text(exported.output, encoding="utf-8")
    again = run(project, "contacts", "import", "back.csv")
    assert again.output == "back.csv: 0 added, 0 updated, 2 unchanged, 0 rejected\n"


def test_export_to_file_and_json(project, db, monkeypatch):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "a@who.example.org", "--name", "Zoë", "--org", "WHO")
    result = run(project, "contacts", "export", "-o", "out.csv")
    assert result.exit_code == 0 and "Wrote 1 contacts to out.csv." in result.output
    data = (project / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfEmail,Name,Organisation") and "Zoë".encode() in data
    assert not list(project.glob(".out.csv.*"))  # no temporary file left behind
    people = json.loads(run(project, "contacts", "export", "--format", "json").output)
    assert people[0]["email"] == "a@who.example.org" and people[0]["organisation"] == "WHO"


def test_list_and_show(project, db, monkeypatch):
    monkeypatch.chdir(project)
    run(project, "contacts", "add", "a@who.example.org", "--name", "Ann", "--org", "WHO")
    run(project, "contacts", "add", "b@ilo.example.org", "--name", "Bob", "--org", "ILO")
    run(project, "contacts", "unsubscribe", "b@ilo.example.org")
    listing = run(project, "contacts", "list", "--status", "subscribed").output.splitlines()
    assert listing[0].split() == ["Email", "Name", "Organisation", "Status", "Listed"]
    assert listing[1].split() == ["a@who.example.org", "Ann", "WHO", "subscribed", "yes"]
    assert listing[-1] == "1 contact"
    assert run(project, "contacts", "list", "--org", "ilo").output.splitlines()[-1] == "1 contact"
    shown = run(project, "contacts", "show", "B@ILO.example.org").output
    assert "Status:       unsubscribed" in shown
    assert "manual" in shown and "status: 'subscribed' → 'unsubscribed'" in shown
    missing = run(project, "contacts", "show", "x@y.org")
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: 'x@y.org': not in contacts.db.")


def test_ten_thousand_rows(project, db, monkeypatch):
    monkeypatch.chdir(project)
    lines = ["Email,Name,Organisation"]
    lines += [
        f"person{n}@agency{n % 40}.example.org,Person {n},Agency {n % 40}" for n in range(10_000)
    ]
    name = write(project, "big.csv", "\n".join(lines) + "\n")
    result = run(project, "contacts", "import", name)
    assert result.output == "big.csv: 10000 added, 0 updated, 0 unchanged, 0 rejected\n"
    assert rows(db, "SELECT count(*), count(DISTINCT organisation_id) FROM contacts") == [
        (10_000, 40)
    ]
    assert rows(db, "SELECT count(*) FROM history WHERE field = 'created'") == [(10_000,)]
    again = run(project, "contacts", "import", name)
    assert again.output == "big.csv: 0 added, 0 updated, 10000 unchanged, 0 rejected\n"


def test_excel_sep_line_extra_cells_and_unknown_columns(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = (
        "sep=;\r\nEmail;Name;Notes\r\n"
        "a@who.example.org;Ann, Lee;call back\r\n"
        "b@who.example.org;Bob;x;stray\r\n"
    )
    result = run(project, "contacts", "import", write(project, "x.csv", text))
    assert result.exit_code == 3
    assert result.output.splitlines() == [
        "x.csv:4: more cells than the header has columns. Quote cells that contain the delimiter.",
        "x.csv: note: ignored columns: 'Notes'",
        "x.csv: 1 added, 0 updated, 0 unchanged, 1 rejected",
    ]
    assert rows(db, "SELECT email, name FROM contacts") == [("a@who.example.org", "Ann, Lee")]


def test_tab_separated_with_display_names(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = 'Work Email\tOrganisation/Organization\n"Doe, Jane" <Jane.Doe@WHO.example.org>\tWHO\n'
    result = run(project, "contacts", "import", write(project, "t.tsv", text))
    assert result.exit_code == 0, result.output
    assert rows(db) == [("jane.doe@who.example.org", "Doe, Jane", "subscribed")]
