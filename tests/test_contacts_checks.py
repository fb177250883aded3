"""newsletter.contacts.checks: `directory check` on a real contacts.db."""

from __future__ import annotations

import json
import shlex

import pytest
from helpers import cli

from newsletter.contacts.checks import international, un_entities


def _add(project, email, *options):
    result = cli(project, "contacts", "add", email, *options)
    assert result.exit_code == 0, result.output


@pytest.fixture
def checked(project):
    who = ("--org", "WHO")
    _add(project, "ann@who.int", "--name", "Ann Lee", *who, "--phone", "022 791 21 11",
         "--country", "Switzerland")  # fmt: skip
    _add(project, "ann.lee@gmail.com", "--name", "Ann Lee", *who)
    _add(project, "info@ilo.org", "--name", "ILO Partnerships", "--org", "ILO",
         "--phone", "+41 22 799 61 11")  # fmt: skip
    _add(project, "bob@ilo.org", "--name", "Bob Roy", "--org", "ILO", "--phone", "12 34")
    _add(project, "anne.lee@unicef.org", "--name", "Ánn  Lee", "--org", "UNICEF")
    _add(project, "gone@undp.org", "--name", "Gone Away", "--org", "UNDP", "--phone", "nope")
    cli(project, "contacts", "edit", "gone@undp.org", "--status", "left")
    return project


def test_check_names_each_contact_and_the_fix(checked):
    result = cli(checked, "directory", "check")
    assert result.exit_code == 0  # findings are advice
    lines = result.output.splitlines()
    assert lines[:7] == [
        "bob@ilo.org: phone '12 34' is not a valid number (write it with its +country code). "
        "Correct it with: newsletter contacts edit bob@ilo.org --phone ...",
        "info@ilo.org: info@ is a shared mailbox, listed as a person. Replace it with the focal "
        "point's own address, or remove it: newsletter contacts remove info@ilo.org",
        "ann.lee@gmail.com: gmail.com is not a domain of WHO (who.int). Ask for their work address.",
        "ann@who.int: phone '022 791 21 11' is +41 22 791 21 11 in international format. "
        "Write it so with: newsletter contacts edit ann@who.int --phone '+41 22 791 21 11'",
        "anne.lee@unicef.org: Ánn Lee is also listed under WHO. Keep the entry of the "
        "organisation they work for; remove the other.",
        "ann.lee@gmail.com: Ann Lee is also listed under UNICEF. Keep the entry of the "
        "organisation they work for; remove the other.",
        "ann@who.int: Ann Lee is also listed under UNICEF. Keep the entry of the "
        "organisation they work for; remove the other.",
    ]
    # The one who left is not checked, so UNDP has no focal point.
    uncovered = [e for e in un_entities() if e.acronym not in ("WHO", "ILO", "UNICEF")]
    assert lines[7:-1] == [
        f"{e.acronym}: {e.name} has no focal point. Add one with: "
        f"newsletter contacts add EMAIL --org {shlex.quote(e.acronym)}"
        for e in uncovered
    ]
    assert "UNDP: United Nations Development Programme has no focal point." in result.output
    assert lines[-1] == (
        f"5 entries checked: {7 + len(uncovered)} findings (1 foreign-domain, 1 generic-mailbox, "
        f"{len(uncovered)} no-focal-point, 1 phone-format, 1 phone-unreadable, "
        "3 two-organisations)."
    )


def test_check_json(checked):
    shown = json.loads(cli(checked, "directory", "check", "--json").output)
    assert shown["checked"] == 5
    assert shown["findings"][0] == {
        "kind": "phone-unreadable",
        "contact": "bob@ilo.org",
        "organisation": "ILO",
        "message": "phone '12 34' is not a valid number (write it with its +country code). "
        "Correct it with: newsletter contacts edit bob@ilo.org --phone ...",
    }


def test_a_domain_shared_by_two_colleagues_is_known(project):
    # No UN entity matches "Acme Foundation"; two colleagues on acme.example make it known.
    for name in ("a", "b"):
        _add(project, f"{name}@acme.example", "--name", name.upper(), "--org", "Acme Foundation")
    _add(project, "c@elsewhere.example", "--name", "C", "--org", "Acme Foundation")
    lines = cli(project, "directory", "check").output.splitlines()
    assert lines[0] == (
        "c@elsewhere.example: elsewhere.example is not a domain of Acme Foundation "
        "(acme.example). Ask for their work address."
    )
    assert not any(line.startswith(("a@", "b@")) for line in lines)


def test_a_clean_directory_says_so(project, monkeypatch):
    # Every entity covered, every phone in international format.
    for n, entity in enumerate(un_entities()):
        _add(project, f"fp{n}@{entity.domains[0]}", "--name", f"Person {n}",
             "--org", entity.acronym, "--phone", "+41 22 917 12 34")  # fmt: skip
    result = cli(project, "directory", "check")
    assert result.output == f"{len(un_entities())} entries checked: nothing to fix.\n"


@pytest.mark.parametrize(
    "phone,country,expected",
    [
        ("+41 22 917 12 34", "", "+41 22 917 12 34"),
        ("022 917 12 34", "Switzerland", "+41 22 917 12 34"),
        ("022 917 12 34", "ch", "+41 22 917 12 34"),
        ("(212) 963-1234", "United States", "+1 212-963-1234"),
        ("022 917 12 34", "", None),  # no country, no + code: which country?
        ("+1 555 0101", "", None),  # the sample database's made-up numbers
        ("call reception", "France", None),
        ("", "France", None),
    ],
)
def test_international(phone, country, expected):
    assert international(phone, country) == expected


def test_the_un_entities_file_has_its_shape():
    entities = un_entities()
    assert len(entities) >= 30
    assert len({e.acronym.casefold() for e in entities}) == len(entities)
    for entity in entities:
        assert entity.acronym and entity.name and entity.domains
        assert all("." in d and d == d.lower() and "/" not in d for d in entity.domains)
    assert {"UNICEF", "UNDP", "WHO", "ILO"} <= {e.acronym for e in entities}


def test_sending_never_loads_the_phone_geocoder():
    """phonenumbers' geocoder holds about 110 MB of place names; importing it with the
    contacts stage tripled the memory of every send (45 MB to 157 MB for 20,000)."""
    import subprocess
    import sys

    code = "import sys, newsletter.send, newsletter.contacts; print('phonenumbers.geocoder' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"
