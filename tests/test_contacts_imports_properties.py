"""newsletter.contacts.imports, by property: `contacts import` of any file ends 0, 1 or 3.

Whatever bytes a CSV or JSON file holds, the command exits 0 (all applied), 3
(some rows rejected, the rest applied) or 1 (nothing done), never with a
traceback; a run that ends 1, and any dry run, leaves contacts.db exactly as
it was (its SQL dump, which reads the write-ahead log too, is equal).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers import cli, dump, rows
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

KEPT = ["keep@who.example.org", "gone@who.example.org", "quit@who.example.org"]
HEADERS = st.sampled_from(
    ["Email", "E-mail", "Name", "First name", "Last name", "Agency", "Acronym", "Listed",
     "Status", "Topics", "Notes", "", "id", "Email 1 - Value"]
)  # fmt: skip
CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [*KEPT, "KEEP@WHO.example.org", "new@unicef.example.org", "jané@example.org",
         "a@exämple.org", '"Doe, Jane" <j@who.example.org>', "=1+1", "'=2", "yes", "no",
         "maybe", "subscribed", "unsubscribed", "bounced", "left", "UNICEF", "WHO", '"', '""',
         "\n", "\r\n", "x" * 301, "\x07", "\u202e"]
    ),
)  # fmt: skip
DELIMITERS = st.sampled_from([",", ";", "\t", "|"])
CSV_TEXT = st.builds(
    lambda sep_line, header, body, d, newline: (
        sep_line + newline.join(d.join(r) for r in [header, *body]) + newline
    ),
    st.sampled_from(["", "sep=;\n", "sep=,\r\n", "\n\n", "\ufeff"]),
    st.lists(HEADERS, min_size=1, max_size=5),
    st.lists(st.lists(CELLS, max_size=6), max_size=8),
    DELIMITERS,
    st.sampled_from(["\n", "\r\n", "\r"]),
)
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), CELLS)
JSON_TEXT = st.one_of(
    st.lists(
        st.dictionaries(HEADERS, st.one_of(JSON_VALUES, st.lists(JSON_VALUES, max_size=3))),
        max_size=6,
    ).map(lambda entries: json.dumps(entries if len(entries) % 2 else {"contacts": entries})),
    st.recursive(
        JSON_VALUES,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(HEADERS, inner)),
        max_leaves=8,
    ).map(json.dumps),
)
FILES = st.one_of(
    st.tuples(st.just("list.csv"), CSV_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))),
    st.tuples(st.just("list.json"), JSON_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))),
    st.tuples(st.sampled_from(["list.csv", "list.json", "list.txt"]), st.binary(max_size=300)),
    st.tuples(
        st.just("list.csv"),
        st.builds(
            lambda t, junk: t.encode("utf-8", "surrogatepass") + junk,
            CSV_TEXT,
            st.binary(min_size=1, max_size=3),
        ),
    ),  # fmt: skip
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A project with three contacts (one unsubscribed, one left) and one erased address."""
    from helpers import new_project

    root = new_project(tmp_path_factory.mktemp("seed") / "project")
    for address in KEPT:
        assert cli(root, "contacts", "add", address, "--org", "WHO").exit_code == 0
    cli(root, "contacts", "unsubscribe", "quit@who.example.org")
    cli(root, "contacts", "remove", "gone@who.example.org")
    cli(root, "contacts", "add", "erased@who.example.org")
    cli(root, "contacts", "purge", "erased@who.example.org", "--yes")
    return root


def fresh(seeded: Path, into: Path) -> Path:
    """A copy of the seeded project, so each example starts from the same database."""
    root = into / "project"
    shutil.copytree(seeded, root)
    return root


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=FILES, dry_run=st.booleans())
@example(file=("list.csv", b"Email\n" + b"a" * (1024 * 1024 + 10) + b"\n"), dry_run=False)
@example(file=("list.csv", b"Email\n" + b'"' + b"x\n" * 600_000), dry_run=False)
@example(file=("list.json", b"[" * 100_000 + b"]" * 100_000), dry_run=False)
@example(file=("list.csv", b'Email,Name\nnew@unicef.example.org,"N\n'), dry_run=False)
@example(file=("list.csv", "Email\njané@example.org\n".encode()), dry_run=False)
@example(
    file=("list.csv", b"Email," + b"N" * 140_000 + b"\nnew@who.example.org,x\n"), dry_run=False
)
@example(file=("list.json", b'[{"Email": null}]'), dry_run=True)
@example(file=("list.csv", b"Email\nerased@who.example.org\nnew@who.example.org\n"), dry_run=False)
def test_any_file_imports_rejects_rows_or_changes_nothing(seeded, file, dry_run):
    name, data = file
    with tempfile.TemporaryDirectory() as tmp:
        root = fresh(seeded, Path(tmp))
        (root / name).write_bytes(data)
        db = root / "contacts.db"
        before, count = dump(db), len(rows(db))
        result = cli(root, "contacts", "import", str(root / name), *["--dry-run"] * dry_run)
        lines = result.output.splitlines()
        assert result.exit_code in (0, 1, 3), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 1 or dry_run:
            assert dump(db) == before
        if result.exit_code == 1:
            assert (
                len(lines) == 1
                and lines[0].startswith("Error: ")
                or (" 0 added, 0 updated, 0 unchanged, " in lines[-1])
            ), result.output
            return
        added = int(re.search(r": (\d+) added, ", lines[-1])[1])
        assert len(rows(db)) == count + (0 if dry_run else added)
        assert (result.exit_code == 3) == (not lines[-1].endswith(" 0 rejected")) or dry_run
