"""newsletter.send.senders.outbox: one .eml file per recipient, in any folder, never overwritten."""

from __future__ import annotations

import textwrap

from helpers import add_contacts, built, cli, parse


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
