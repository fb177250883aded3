"""newsletter.contacts.imports: `contacts import` plans, reports and applies rows; never re-subscribes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from helpers import REPO, cli, dump, rows, write

from newsletter.store import contacts, open_db

SAMPLE = REPO / "examples" / "focal-points.csv"


@pytest.fixture
def db(project):
    return project / "contacts.db"


def test_import_sample_then_reimport_is_unchanged(project, db, monkeypatch):
    monkeypatch.chdir(project)
    (project / "examples").mkdir()
    (project / "examples" / "focal-points.csv").write_bytes(SAMPLE.read_bytes())
    first = cli(project, "contacts", "import", "examples/focal-points.csv")
    assert first.exit_code == 0, first.output
    assert (
        first.output == "examples/focal-points.csv: 64 added, 0 updated, 0 unchanged, 0 rejected\n"
    )
    again = cli(project, "contacts", "import", "examples/focal-points.csv")
    assert (
        again.output == "examples/focal-points.csv: 0 added, 0 updated, 64 unchanged, 0 rejected\n"
    )
    orgs = rows(db, "SELECT count(*) FROM organisations")[0][0]
    assert orgs == 23
    # An acronym in the file finds the organisation stored under its full name.
    write(project, "short.csv", "Email,Agency\nkofi.boateng@unv.example.org,UNV\n")
    assert cli(project, "contacts", "import", "short.csv").output.endswith(
        "1 unchanged, 0 rejected\n"
    )


def test_missing_file(project, monkeypatch):
    monkeypatch.chdir(project)
    result = cli(project, "contacts", "import", "nope.csv")
    assert result.exit_code == 1
    assert (
        result.output
        == "Error: nope.csv: cannot read it (No such file or directory). Check the path.\n"
    )


def test_rejected_rows_are_reported_and_the_rest_applied(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "kept@who.example.org", "--name", "Kept Name")
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
    result = cli(project, "contacts", "import", name)
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


def test_quiet_import_prints_the_rejected_rows_and_the_summary(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "A", "--job-title", "Old")
    name = write(project, "d.csv", "Email,Name,Job title\na@who.example.org,A,New\nb@who,B,\n")
    for extra in (("--dry-run",), ()):  # the dry run first: it changes nothing
        result = cli(project, "contacts", "import", name, "-q", *extra)
        assert result.exit_code == 3
        dry = " (dry run: nothing written)" if extra else ""
        assert result.output.splitlines() == [
            "d.csv:3: 'b@who' is not a valid email address (The part after the @-sign is not "
            "valid. It should have a period). Correct it.",
            f"d.csv: 0 added, 1 updated, 0 unchanged, 1 rejected{dry}",
        ]


def test_dry_run_prints_the_diff_and_writes_nothing(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "A", "--job-title", "Old")
    before = dump(db)
    name = write(
        project, "d.csv", "Email,Name,Job title\na@who.example.org,A,New\nb@who.example.org,B,\n"
    )
    result = cli(project, "contacts", "import", name, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "+ b@who.example.org  'B', subscribed",
        "~ a@who.example.org  job_title: 'Old' → 'New'",
        "d.csv: 1 added, 1 updated, 0 unchanged, 0 rejected (dry run: nothing written)",
    ]
    assert dump(db) == before


def test_empty_cells_never_erase(project, db, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "A", "--phone", "+41 1")
    result = cli(
        project,
        "contacts",
        "import",
        write(project, "e.csv", "Email,Name,Phone\na@who.example.org,,\n"),
    )
    assert result.output.endswith("0 updated, 1 unchanged, 0 rejected\n")
    assert rows(db, "SELECT name, phone FROM contacts") == [("A", "+41 1")]


def test_ten_thousand_rows(project, db, monkeypatch):
    monkeypatch.chdir(project)
    lines = ["Email,Name,Organisation"]
    lines += [
        f"person{n}@agency{n % 40}.example.org,Person {n},Agency {n % 40}" for n in range(10_000)
    ]
    name = write(project, "big.csv", "\n".join(lines) + "\n")
    result = cli(project, "contacts", "import", name)
    assert result.output == "big.csv: 10000 added, 0 updated, 0 unchanged, 0 rejected\n"
    assert rows(db, "SELECT count(*), count(DISTINCT organisation_id) FROM contacts") == [
        (10_000, 40)
    ]
    assert rows(db, "SELECT count(*) FROM history WHERE field = 'created'") == [(10_000,)]
    again = cli(project, "contacts", "import", name)
    assert again.output == "big.csv: 0 added, 0 updated, 10000 unchanged, 0 rejected\n"


def test_reimport_never_resubscribes(project, db, monkeypatch):
    monkeypatch.chdir(project)
    people = "Email,Name\n" + "".join(f"p{n}@who.example.org,P{n}\n" for n in range(4))
    cli(project, "contacts", "import", write(project, "p.csv", people))
    cli(project, "contacts", "unsubscribe", "p0@who.example.org")
    cli(project, "contacts", "remove", "p1@who.example.org")
    store = open_db(db)
    assert contacts.mark_bounced(store, "p2@who.example.org", "send", "test")
    store.conn.close()
    statuses = rows(db, "SELECT email, status FROM contacts ORDER BY email")
    assert [s for _, s in statuses] == ["unsubscribed", "left", "bounced", "subscribed"]
    before = dump(db)
    assert cli(project, "contacts", "import", "p.csv").output.endswith("4 unchanged, 0 rejected\n")
    assert dump(db) == before
    # A file that explicitly says "subscribed" gets a note; the status stays.
    said = write(project, "s.csv", "Email,Status\np0@who.example.org,subscribed\n")
    result = cli(project, "contacts", "import", said)
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "s.csv:2: note: p0@who.example.org stays unsubscribed; an import never re-subscribes "
        "anyone. Use contacts edit --resubscribe if they asked."
    )
    assert rows(db, "SELECT email, status FROM contacts ORDER BY email") == statuses


def test_an_import_never_lists_again_someone_who_asked_to_leave_the_directory(
    project, db, monkeypatch
):
    monkeypatch.chdir(project)
    people = "Email,Name,Listed\np0@who.example.org,P0,yes\np1@who.example.org,P1,yes\n"
    cli(project, "contacts", "import", write(project, "p.csv", people))
    store = open_db(db)
    assert contacts.unlist_by_link(store, contacts.get_contact(store, "p0@who.example.org").id, "Q")
    store.conn.close()
    cli(project, "contacts", "edit", "p1@who.example.org", "--unlisted")  # the editor's choice
    result = cli(project, "contacts", "import", "p.csv")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "p.csv:2: note: p0@who.example.org stays out of the directory, as they asked on their "
        "unsubscribe page. Use contacts edit --listed if they ask to be listed again."
    )
    # An editor's unlisting is the editor's to undo, by a file as by hand.
    assert rows(db, "SELECT email, listed FROM contacts ORDER BY email") == [
        ("p0@who.example.org", 0),
        ("p1@who.example.org", 1),
    ]
    assert cli(project, "contacts", "edit", "p0@who.example.org", "--listed").exit_code == 0
    assert rows(db, "SELECT listed FROM contacts WHERE email = 'p0@who.example.org'") == [(1,)]


NOT_ASCII = (
    "'jané@example.org' is not a valid email address (the part before the @ has characters "
    "outside ASCII ('é'), which most mail servers cannot deliver to; ask for the plain ASCII "
    "address). Correct it."
)


def test_an_address_with_a_local_part_outside_ascii_is_rejected(project, db, monkeypatch):
    monkeypatch.chdir(project)
    name = write(
        project, "intl.csv", "Email,Name\njané@example.org,Jane\njane@exämple.org,Jane D\n"
    )
    result = cli(project, "contacts", "import", name)
    assert result.exit_code == 3
    assert result.output.splitlines() == [
        f"intl.csv:2: {NOT_ASCII}",
        "intl.csv: 1 added, 0 updated, 0 unchanged, 1 rejected",
    ]
    # A Unicode domain is fine: it goes out as IDNA.
    assert rows(db) == [("jane@exämple.org", "Jane D", "subscribed")]


def test_a_json_entry_without_an_address_is_rejected_like_an_empty_cell(project, db, monkeypatch):
    monkeypatch.chdir(project)
    text = '[{"Email": "a@who.example.org"}, {"Name": "No Key"}, {"Email": null}]'
    result = cli(project, "contacts", "import", write(project, "m.json", text))
    assert result.exit_code == 3
    assert result.output.splitlines() == [
        "m.json:2: no address; it is not a valid email address (no email address). Correct it.",
        "m.json:3: no address; it is not a valid email address (no email address). Correct it.",
        "m.json: 1 added, 0 updated, 0 unchanged, 2 rejected",
    ]


@pytest.mark.parametrize("chunk,keep", [(2000, 1000), (2, 1), (1, 2)])
def test_chunks_and_spilled_report_lines_change_nothing_in_the_outcome(
    project, db, monkeypatch, chunk, keep
):
    # A long file is planned a chunk at a time and its report spills to disk;
    # small sizes here put repeats, updates and rejections across both edges.
    monkeypatch.chdir(project)
    monkeypatch.setattr("newsletter.contacts.imports.CHUNK", chunk)
    monkeypatch.setattr("newsletter.contacts.imports.Lines.KEEP", keep)
    cli(project, "contacts", "add", "a@who.example.org", "--name", "A", "--job-title", "Old")
    name = write(
        project,
        "c.csv",
        "Email,Name,Job title,Agency\n"
        "b@who.example.org,B,,WHO\n"
        "a@who.example.org,A,New,\n"
        "bad,C,,\n"
        "B@who.example.org,B again,,\n"
        "d@who.example.org,D,,World Health Organization\n"
        "a@who.example.org,A again,,\n",
    )
    dry = cli(project, "contacts", "import", name, "--dry-run")
    assert dry.output.splitlines() == [
        "+ organisation 'WHO'",
        "+ organisation 'World Health Organization'",
        "+ b@who.example.org  'B', 'WHO', subscribed",
        "+ d@who.example.org  'D', 'World Health Organization', subscribed",
        "~ a@who.example.org  job_title: 'Old' → 'New'",
        "c.csv:4: 'bad' is not a valid email address (An email address must have an @-sign). "
        "Correct it.",
        "c.csv:5: b@who.example.org is already on row 2. "
        "Keep one row per address and delete the other.",
        "c.csv:7: a@who.example.org is already on row 3. "
        "Keep one row per address and delete the other.",
        "c.csv: 2 added, 1 updated, 0 unchanged, 3 rejected (dry run: nothing written)",
    ]
    real = cli(project, "contacts", "import", name)
    assert real.exit_code == 3
    assert real.output.splitlines() == [
        *dry.output.splitlines()[5:-1],
        "c.csv: 2 added, 1 updated, 0 unchanged, 3 rejected",
    ]
    assert rows(db, "SELECT email, job_title FROM contacts ORDER BY id") == [
        ("a@who.example.org", "New"),
        ("b@who.example.org", ""),
        ("d@who.example.org", ""),
    ]


# Runs ``python -m newsletter ARGS`` and prints its peak memory at exit. VmHWM is
# the process's own high-water mark; a child's ru_maxrss would count pytest's too.
PEAK = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as fh:
        kb = next(line.split()[1] for line in fh if line.startswith("VmHWM"))
    print(f"peak {kb} kB", file=sys.stderr)
atexit.register(peak)
sys.argv = ["newsletter", *sys.argv[1:]]
runpy.run_module("newsletter", run_name="__main__")
"""


def _import_peak_mb(project, rows_: int) -> float:
    path = project / f"list-{rows_}.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("Email,Name,Organisation,Title,Phone\n")
        for n in range(rows_):
            fh.write(f"person{n}@agency{n % 40}.example.org,Person {n},Agency {n % 40},Officer,\n")
    done = subprocess.run(
        [sys.executable, "-c", PEAK, "--root", str(project), "contacts", "import", str(path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"peak (\d+) kB", done.stderr)
    assert found, done.stderr
    return int(found.group(1)) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_an_import_streams_so_memory_does_not_grow_with_the_rows(tmp_path):
    """Found: 1,000,000 rows peaked at 1.45 GB, about 1.4 KB a row held at once.

    Twenty times the rows must not cost more than a few MB more at the peak (a
    list held whole would add about 130 MB here). The figures for 1,000,000 rows
    are in benchmarks/contacts.py.
    """
    small = _import_peak_mb(_project(tmp_path / "small"), 5_000)
    large = _import_peak_mb(_project(tmp_path / "large"), 100_000)
    assert large - small < 25, f"{small:.0f} MB for 5,000 rows, {large:.0f} MB for 100,000"


def _project(folder):
    folder.mkdir()
    (folder / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    return folder


def test_the_readme_shows_how_a_file_marks_a_departure(project, db, monkeypatch):
    """The README's example, run as it is written: the file, the command and its output."""
    monkeypatch.chdir(project)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ cat departures.csv\n", 1)[1].split("```", 1)[0]
    content, _, rest = block.partition("$ newsletter ")
    command, _, output = rest.partition("\n")
    write(project, "departures.csv", content)
    cli(project, "contacts", "add", "amina.okafor@unhcr.example.org", "--name", "Amina Okafor")
    result = cli(project, *command.split())
    assert result.output == output
    assert rows(db) == [("amina.okafor@unhcr.example.org", "Amina Okafor", "subscribed")]
    cli(project, *command.split()[:-1])
    assert rows(db) == [("amina.okafor@unhcr.example.org", "Amina Okafor", "left")]
