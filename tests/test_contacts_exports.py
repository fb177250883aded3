"""newsletter.contacts.exports: `contacts export` as CSV (formulas neutralised) or JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest
from helpers import cli, rows, special_file, write


@pytest.fixture
def db(project):
    return project / "contacts.db"


def test_formula_cells_are_kept_as_text_and_neutralised_on_export(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = (
        "Email,Name,Job title,Phone,Topics\n"
        'a@who.example.org,"=HYPERLINK(""http://x"",""y"")",+cmd|calc,-1+2,@SUM(A1)\n'
        'b@who.example.org,"\tTabbed",Officer,+41 22 555 0100,x\n'
    )
    assert cli(project, "contacts", "import", write(project, "f.csv", text)).exit_code == 0
    stored = rows(db, "SELECT name, job_title, phone, topics FROM contacts ORDER BY email")
    assert stored[0] == ('=HYPERLINK("http://x","y")', "+cmd|calc", "-1+2", "@SUM(A1)")
    exported = cli(project, "contacts", "export")
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
    again = cli(project, "contacts", "import", "back.csv")
    assert again.output == "back.csv: 0 added, 0 updated, 2 unchanged, 0 rejected\n"


def test_export_to_file_and_json(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "Zoë", "--org", "WHO")
    result = cli(project, "contacts", "export", "-o", "out.csv")
    assert result.exit_code == 0 and "Wrote 1 contacts to out.csv." in result.output
    data = (project / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfEmail,Name,Organisation") and "Zoë".encode() in data
    assert not list(project.glob(".out.csv.*"))  # no temporary file left behind
    people = json.loads(cli(project, "contacts", "export", "--format", "json").output)
    assert people[0]["email"] == "a@who.example.org" and people[0]["organisation"] == "WHO"


def test_export_to_a_missing_folder_is_one_line_error(project, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org")
    result = cli(project, "contacts", "export", "-o", "nowhere/list.csv")
    assert (result.exit_code, result.output) == (
        1,
        "Error: nowhere/list.csv: cannot write it (No such file or directory). "
        "Check that the folder exists; nothing there was changed.\n",
    )


OUTPUTS_NEVER_WRITTEN = [
    # (the -o value, any setup, the line it ends with)
    ("contacts.db", None, "is the contacts database or the house settings"),
    ("pyproject.toml", None, "is the contacts database or the house settings"),
    ("other.sqlite", "sqlite", "is the contacts database or the house settings"),
    ("folder", "dir", "is a folder, not a file"),
    ("pipe.csv", "fifo", "is a FIFO (named pipe), not a file"),
    ("null.csv", "device", "is a device, not a file"),
    ("socket.csv", "socket", "is a socket, not a file"),
]


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(("target", "setup", "reason"), OUTPUTS_NEVER_WRITTEN)
def test_export_never_writes_over_the_database_settings_or_a_special_file(
    project, db, monkeypatch, target, setup, reason, force
):
    import gc
    import sqlite3

    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org")
    if setup in ("dir", "fifo", "device", "socket"):
        special_file(project / target, setup)
    elif setup == "sqlite":
        sqlite3.connect(project / target).execute("CREATE TABLE t (x)").connection.close()
    files = lambda: {  # noqa: E731  (SQLite's own -shm and -wal change as it opens)
        p.name: p.read_bytes()
        for p in project.iterdir()
        if p.is_file() and not p.name.endswith(("-shm", "-wal"))
    }
    # The previous command's connection is closed when the garbage collector gets to it,
    # and closing checkpoints its WAL into contacts.db: let that happen before looking.
    gc.collect()
    before = files()
    result = cli(project, "contacts", "export", "-o", target, *(["--force"] if force else []))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {target}: {reason}") and result.output.count("\n") == 1
    assert files() == before
    assert rows(db, "SELECT email FROM contacts") == [("a@who.example.org",)]


def test_export_under_another_database_name_never_writes_over_it(project, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "--db", "people.db", "contacts", "add", "a@who.example.org")
    result = cli(project, "--db", "people.db", "contacts", "export", "-o", "people.db", "--force")
    assert result.exit_code == 1 and "is the contacts database" in result.output
    assert rows(project / "people.db", "SELECT email FROM contacts") == [("a@who.example.org",)]


def test_export_replaces_an_existing_file_only_with_force(project, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org")
    (project / "out.csv").write_text("keep me\n", encoding="utf-8")
    refused = cli(project, "contacts", "export", "-o", "out.csv")
    assert (refused.exit_code, refused.output) == (
        1,
        "Error: out.csv: already exists. Pass --force to replace it, or give another file name.\n",
    )
    assert (project / "out.csv").read_text(encoding="utf-8") == "keep me\n"
    forced = cli(project, "contacts", "export", "-o", "out.csv", "--force")
    assert forced.exit_code == 0 and "a@who.example.org" in (project / "out.csv").read_text()
    assert not list(project.glob(".out.csv.*"))


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_export_through_a_link_to_the_database_never_writes_over_it(project, monkeypatch, link):
    import os

    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org")
    make = os.symlink if link == "symlink" else os.link
    make(project / "contacts.db", project / "people.csv")
    result = cli(project, "contacts", "export", "-o", "people.csv", "--force")
    assert result.exit_code == 1 and "is the contacts database" in result.output
    assert rows(project / "contacts.db", "SELECT email FROM contacts") == [("a@who.example.org",)]
