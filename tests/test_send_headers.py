"""newsletter.send.headers: a name, subject or address that could add a header is refused."""

from __future__ import annotations

import json

import pytest
from helpers import add_contacts, built, cli, ledger_rows, outbox, parse

from newsletter.send.headers import HeaderInjection, check_address, header_problem

ATTACKS = [
    "Eve\r\nBcc: victim@example.org",
    "Eve\nBcc: victim@example.org",
    "Eve\rBcc: victim@example.org",
    "Eve\u2028Bcc: victim@example.org",
    "Eve\x85Bcc: victim@example.org",
    "Eve%0d%0aBcc: victim@example.org",
    "Eve=0D=0ABcc: victim@example.org",
    "=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?=",
    "Eve&#13;&#10;Bcc: victim@example.org",
]


def test_header_injection_in_names_is_refused_per_contact(project, corpus):
    built(project)
    hostile = json.loads((corpus / "contacts" / "blns" / "blns.json").read_text("utf-8"))
    names = ATTACKS + hostile
    ids = add_contacts(
        project, [{"email": f"c{n}@example.org", "name": name} for n, name in enumerate(names)]
    )
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    rows = {r["contact_id"]: r for r in ledger_rows(project)}
    files = {f.name: f for f in outbox(project)}
    for n, (contact_id, name) in enumerate(zip(ids, names, strict=True)):
        row, file = rows[contact_id], files.get(f"c{n}@example.org.eml")
        if n < len(ATTACKS) or header_problem(name):
            assert row["status"] == "failed" and file is None
            assert row["last_error"].startswith(f"contact {contact_id} <'c{n}@example.org'>: name ")
            assert "which could add a header" in row["last_error"]
            continue
        assert row["status"] == "sent", (name, row["last_error"])
        data = file.read_bytes()
        head = data.split(b"\r\n\r\n", 1)[0]
        assert b"victim" not in head and b"\r\nBcc" not in head and b"\r\nCc" not in head
        assert len(parse(data).keys()) == 12
    assert "failed: contact 1 <'c0@example.org'>: name contains a line break" in result.output


@pytest.mark.parametrize("attack", ATTACKS[3:], ids=range(len(ATTACKS) - 3))
def test_header_injection_in_the_subject_is_refused(project, attack):
    folder = built(project)
    toml = folder / "issue.toml"
    subject = attack.replace("\u2028", "\\u2028").replace("\x85", "\\u0085")
    toml.write_text(toml.read_text().replace('subject = "', f'subject = "{subject} ', 1))
    rebuilt = cli(project, "build", "2026-Q4")
    if rebuilt.exit_code == 1:  # the same header check, when issue.toml is read
        assert "issues/2026-Q4/issue.toml:4: subject '" in rebuilt.output
        assert "which could add a mail header. Remove it from the value." in rebuilt.output
        assert not outbox(project)
        return
    add_contacts(project, 1)
    result = cli(project, "send", "2026-Q4", "--yes")
    if result.exit_code == 0:  # `check` already folded the Unicode line break into a space
        head = outbox(project)[0].read_bytes().split(b"\r\n\r\n", 1)[0]
        assert b"victim" not in head.split(b"Subject:")[0] and b"\r\nBcc" not in head
        assert "\n" not in parse(outbox(project)[0].read_bytes())["Subject"]
        return
    assert result.exit_code == 1
    assert "issues/2026-Q4/issue.toml: subject contains" in result.output
    assert "which could add a header" in result.output and not outbox(project)


def test_header_injection_in_a_test_address_is_refused(outbox_ready):
    result = cli(
        outbox_ready, "send", "2026-Q4", "--to", "a@example.org\r\nBcc: victim@example.org"
    )
    assert result.exit_code == 2  # a usage error, on one line with the value escaped
    assert result.output.splitlines()[-1] == (
        "Error: --to 'a@example.org\\u000d\\u000aBcc: victim@example.org': address contains "
        "a line break. Correct the address and run again."
    )
    assert not outbox(outbox_ready)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        (
            "news@" + "x" * 64 + ".org",
            "has a domain that has an empty part or a part over 63 characters",
        ),
        (
            "news@mail..example.org",
            "has a domain that has an empty part or a part over 63 characters",
        ),
        ("news@" + "x" * 64 + "é.org", "has a domain that is not a valid internationalised name"),
    ],
)
def test_an_address_whose_domain_cannot_be_encoded_is_one_line(address, problem):
    # An ASCII domain with a 64-character label passed the check and then failed in
    # encode("idna") with a UnicodeError traceback (send --dry-run, from_address).
    with pytest.raises(HeaderInjection) as refused:
        check_address(address, "pyproject.toml:5: [tool.newsletter] 'from_address'")
    assert refused.value.message == (
        f"pyproject.toml:5: [tool.newsletter] 'from_address': address {problem}. "
        "Correct the address and run again."
    )
