"""newsletter.contacts.fields on the shared corpus: isemail's addresses, the Big List of Naughty Strings.

Address policy (documented in newsletter/fields.py):

* ISEMAIL_VALID and ISEMAIL_DNSWARN are accepted (no DNS lookups are made),
  except a dotless domain such as ``test@io``: no public mail goes there.
* ISEMAIL_ERR is rejected.
* ISEMAIL_RFC5321, ISEMAIL_RFC5322, ISEMAIL_DEPREC and ISEMAIL_CFWS are
  legal in some RFC (quoted local parts, IP literals, comments, folding white
  space) but no list provider delivers them, so they are rejected too, except
  plain spaces around an address, which are trimmed like any spreadsheet cell.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import xml.etree.ElementTree as ET

import pytest
from email_validator import EmailNotValidError, validate_email
from helpers import cli, dump, rows

from newsletter.contacts import fields
from newsletter.contacts.fields import normalise_email

ACCEPT = {"ISEMAIL_VALID_CATEGORY", "ISEMAIL_DNSWARN"}
EXCEPTIONS = {"test@io": False, " test@iana.org": True, "test@iana.org ": True}


def isemail_cases(corpus):
    tree = ET.parse(corpus / "contacts/isemail/tests.xml")
    for test in tree.getroot().iter("test"):
        address = test.findtext("address") or ""
        # The file writes control characters as U+2400 + code (see its notes).
        address = "".join(chr(ord(c) - 0x2400) if 0x2400 <= ord(c) < 0x2420 else c for c in address)
        yield test.get("id"), address, test.findtext("category")


def expected(address: str, category: str) -> bool:
    return EXCEPTIONS.get(address, category in ACCEPT)


def accepted(address: str) -> bool:
    try:
        normalise_email(address)
    except ValueError:
        return False
    return True


def test_isemail_verdicts(corpus):
    cases = list(isemail_cases(corpus))
    assert len(cases) > 150
    wrong = [(n, a, c) for n, a, c in cases if accepted(a) != expected(a, c)]
    assert wrong == []
    assert {c for _, a, c in cases if accepted(a)} == ACCEPT | {"ISEMAIL_CFWS"}


def test_isemail_through_the_import(project, corpus, monkeypatch):
    monkeypatch.chdir(project)
    cases = list(isemail_cases(corpus))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email", "Name"])
    for n, address, _ in cases:
        writer.writerow([address, f"Case {n}"])
    (project / "isemail.csv").write_text(out.getvalue(), encoding="utf-8")
    result = cli(project, "contacts", "import", "isemail.csv")
    assert result.exit_code == 3
    good = {normalise_email(a) for _, a, c in cases if expected(a, c)}
    # Some valid cases are one address in two spellings: the repeat is a duplicate.
    summary = result.output.splitlines()[-1]
    assert summary.startswith(f"isemail.csv: {len(good)} added, 0 updated, 0 unchanged, ")
    assert {e for (e,) in rows(project / "contacts.db", "SELECT email FROM contacts")} == good
    for line in result.output.splitlines()[:-1]:
        assert re.match(r"isemail\.csv:\d+: ", line), line
        assert not re.search(r"[\x00-\x1f\x7f]", line), line


def test_invalid_isemail_addresses_change_nothing(project, corpus, monkeypatch):
    monkeypatch.chdir(project)
    cli(project, "contacts", "add", "keep@who.example.org")
    db = project / "contacts.db"
    before = dump(db)
    # An empty cell makes an empty row, which an import skips silently.
    bad = [(n, a) for n, a, c in isemail_cases(corpus) if not expected(a, c) and a.strip()]
    out = io.StringIO()
    csv.writer(out).writerows([["Email"], *[[a] for _, a in bad]])
    (project / "bad.csv").write_text(out.getvalue(), encoding="utf-8")
    result = cli(project, "contacts", "import", "bad.csv")
    assert result.exit_code == 1  # every row rejected: nothing done
    assert (
        result.output.splitlines()[-1]
        == f"bad.csv: 0 added, 0 updated, 0 unchanged, {len(bad)} rejected"
    )
    assert dump(db) == before


def test_fast_path_agrees_with_email_validator(corpus):
    samples = [a for _, a, _ in isemail_cases(corpus)]
    samples += json.loads((corpus / "contacts/blns/blns.json").read_text(encoding="utf-8"))
    samples += [
        "Jane.Doe@UNICEF.example.org",
        "a@b.co",
        "x@ab--cd.org",
        "x@a.local",
        "x@a.b.c1",
        "o'neil@who.example.org",
        "a" * 64 + "@x.org",
        "a" * 65 + "@x.org",
        "a@" + "b" * 63 + ".org",
        "a@" + "b" * 64 + ".org",
        "a@xn--bcher-kva.example",
    ]
    for value in samples:
        if fields._SIMPLE.fullmatch(value.strip(" ")) is None:
            continue
        try:
            slow = validate_email(value.strip(" "), check_deliverability=False, strict=True)
        except EmailNotValidError:
            slow = None
        try:
            fast = normalise_email(value)
        except ValueError:
            fast = None
        assert fast == (slow.normalized.lower() if slow else None), value


@pytest.fixture
def blns(corpus):
    return json.loads((corpus / "contacts/blns/blns.json").read_text(encoding="utf-8"))


def test_hostile_names_are_stored_clean_or_rejected(project, corpus, blns, monkeypatch):
    monkeypatch.chdir(project)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email", "Name", "Job title", "Organisation"])
    for n, text in enumerate(blns):
        writer.writerow([f"user{n}@example.org", text, text, text or "UNICEF"])
    (project / "blns.csv").write_text(out.getvalue(), encoding="utf-8")
    result = cli(project, "contacts", "import", "blns.csv")
    lines = result.output.splitlines()
    added = int(re.search(r": (\d+) added", lines[-1])[1])
    rejected = int(re.search(r"(\d+) rejected", lines[-1])[1])
    assert added + rejected == len(blns) and added > len(blns) * 0.9
    assert len(lines) == rejected + 1  # one line per rejection, then the summary
    for line in lines[:-1]:
        assert "control character" in line and not re.search(r"[\x00-\x1f\x7f-\x9f]", line), line
    db = project / "contacts.db"
    conn = sqlite3.connect(db)
    for name, title in conn.execute("SELECT name, job_title FROM contacts"):
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", name + title)
        assert name == " ".join(name.split())
    org_names = [n for (n,) in conn.execute("SELECT name FROM organisations")]
    conn.close()
    assert all(org_names)
    exported = cli(project, "contacts", "export").output
    for row in list(csv.reader(io.StringIO(exported)))[1:]:
        for cell in row:
            assert not cell.startswith(fields.FORMULA_START), cell
    # Re-importing the export changes nothing at all.
    (project / "back.csv").write_text(exported, encoding="utf-8")
    before = dump(db)
    again = cli(project, "contacts", "import", "back.csv")
    assert (
        again.output.splitlines()[-1]
        == f"back.csv: 0 added, 0 updated, {added} unchanged, 0 rejected"
    )
    assert dump(db) == before


def test_hostile_strings_as_addresses(project, blns, monkeypatch):
    monkeypatch.chdir(project)
    for text in blns:
        if accepted(text):
            assert validate_email(text.strip(" "), check_deliverability=False)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email"])
    for text in blns:
        writer.writerow([text])
    (project / "emails.csv").write_text(out.getvalue(), encoding="utf-8")
    cli(project, "contacts", "add", "keep@who.example.org")
    before = dump(project / "contacts.db")
    result = cli(project, "contacts", "import", "emails.csv")
    assert result.exit_code == 1
    assert " 0 added, 0 updated, 0 unchanged, " in result.output.splitlines()[-1]
    assert dump(project / "contacts.db") == before
    for line in result.output.splitlines():
        assert not re.search(r"[\x00-\x1f\x7f-\x9f]", line), line
