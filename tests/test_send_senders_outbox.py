"""newsletter.send.senders.outbox: one .eml file per recipient, in any folder, never overwritten."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import add_contacts, built, cli, parse, rows, special_file


def test_the_outbox_folder_option(project, tmp_path):
    built(project)
    add_contacts(project, 2)
    target = tmp_path / "rehearsal"
    result = cli(project, "send", "2026-Q4", "--yes", "-o", f"folder={target}")
    assert result.exit_code == 0
    assert (
        sorted(p.name for p in target.iterdir())
        == textwrap.dedent("""person0@example.org.eml person1@example.org.eml""").split()
    )


def test_outbox_files_of_similar_addresses_never_overwrite_each_other(project):
    built(project)
    long = "x" * 64 + "@" + ("d" * 63 + ".") * 2 + "example.org"  # cut to 200 for its name
    emails = ["a=b@example.org", "a_b@example.org", "a/b@example.org", long]
    add_contacts(project, [{"email": e, "name": "N"} for e in emails])
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0 and "Sent 4 via outbox" in result.output, result.output
    files = sorted((project / "issues" / "2026-Q4" / "outbox").glob("*.eml"))
    assert len(files) == 4 and "a_b@example.org.eml" in {f.name for f in files}
    assert {parse(f.read_bytes())["To"].addresses[0].addr_spec for f in files} == set(emails)


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("{project}/null", "is a device, not a folder"),
        ("{project}/pyproject.toml", "is a file, not a folder"),
        ("{project}/contacts.db", "is a file, not a folder"),
    ],
)
def test_an_outbox_folder_that_is_not_a_folder_is_one_line_and_sends_nothing(
    project, folder, reason
):
    built(project)
    add_contacts(project, 2)
    folder = folder.format(project=project)
    if folder.endswith("/null"):
        special_file(Path(folder), "device")
    before = (project / "pyproject.toml").read_bytes()
    result = cli(project, "send", "2026-Q4", "--yes", "-o", f"folder={folder}")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"\nError: outbox option folder: {folder}: {reason}. Give a folder to write to.\n"
    )
    assert (project / "pyproject.toml").read_bytes() == before
    assert rows(project / "contacts.db", "SELECT count(*) FROM deliveries") == [(0,)]
