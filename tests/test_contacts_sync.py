"""`newsletter contacts sync`: agency lists over http(s) and from files."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from helpers import FeedServer, Route
from test_contacts import dump, rows, run


@pytest.fixture
def server():
    with FeedServer() as srv:
        yield srv


def listed(body: str | bytes, status: int = 200, **kw) -> Route:
    """A contact list as an agency serves it: CSV over http."""
    data = body.encode() if isinstance(body, str) else body
    return Route(data, status, {"Content-Type": "text/csv"}, **kw)


def configure(project, *entries: str) -> None:
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "sources = [\n" + "".join(f"    {e},\n" for e in entries) + "]\n")


UNICEF = (
    "Email,Name,Job title\n"
    "amina.okafor@unicef.example.org,Amina Okafor,Partnerships Lead\n"
    "new.person@unicef.example.org,New Person,Officer\n"
)


def seed(project):
    text = (
        "Email,Name,Organisation,Acronym\n"
        "amina.okafor@unicef.example.org,Amina Okafor,United Nations Children's Fund,UNICEF\n"
        "paolo.ferri@unicef.example.org,Paolo Ferri,United Nations Children's Fund,UNICEF\n"
        "quit.early@unicef.example.org,Quit Early,United Nations Children's Fund,UNICEF\n"
        "jane.roe@who.example.org,Jane Roe,World Health Organization,WHO\n"
    )
    (project / "seed.csv").write_text(text, encoding="utf-8")
    assert run(project, "contacts", "import", "seed.csv").exit_code == 0
    run(project, "contacts", "unsubscribe", "quit.early@unicef.example.org")


def test_sync_applies_sources_and_marks_missing_people_left(project, server, monkeypatch):
    monkeypatch.chdir(project)
    seed(project)
    server.routes["/unicef.csv"] = listed(UNICEF)
    who = [{"email": "jane.roe@who.example.org", "name": "Jane Roe", "phone": "+41 22 555 0000"}]
    (project / "who.json").write_text(json.dumps(who), encoding="utf-8")
    configure(
        project,
        f'{{ organisation = "UNICEF", url = "{server.url("/unicef.csv")}" }}',
        '{ name = "who", organisation = "World Health Organization", path = "who.json" }',
    )
    db = project / "contacts.db"
    before = dump(db)
    dry = run(project, "contacts", "sync", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dump(db) == before
    assert (
        "- paolo.ferri@unicef.example.org  'Paolo Ferri': marked left (missing from the source)"
        in dry.output
    )
    result = run(project, "contacts", "sync")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{server.url('/unicef.csv')}: marked left: 'Paolo Ferri' <paolo.ferri@unicef.example.org>",
        f"{server.url('/unicef.csv')}: 1 added, 1 updated, 0 unchanged, 0 rejected, 1 marked left",
        "who.json: 0 added, 1 updated, 0 unchanged, 0 rejected",
    ]
    assert rows(db, "SELECT email, status, source FROM contacts ORDER BY email") == [
        ("amina.okafor@unicef.example.org", "subscribed", "sync:UNICEF"),
        ("jane.roe@who.example.org", "subscribed", "sync:who"),
        ("new.person@unicef.example.org", "subscribed", "sync:UNICEF"),
        ("paolo.ferri@unicef.example.org", "left", "sync:UNICEF"),
        ("quit.early@unicef.example.org", "unsubscribed", "manual"),  # consent kept
    ]
    # The new contact joined the organisation the source owns.
    assert rows(
        db,
        "SELECT o.acronym FROM contacts c JOIN organisations o ON o.id = "
        "c.organisation_id WHERE c.email LIKE 'new.person%'",
    ) == [("UNICEF",)]
    assert rows(
        db,
        "SELECT field, old, new, source FROM history WHERE field = 'status' "
        "AND source LIKE 'sync:%'",
    ) == [("status", "subscribed", "left", "sync:UNICEF")]
    again = run(project, "contacts", "sync")
    assert again.output.splitlines()[-2:] == [
        f"{server.url('/unicef.csv')}: 0 added, 0 updated, 2 unchanged, 0 rejected",
        "who.json: 0 added, 0 updated, 1 unchanged, 0 rejected",
    ]
    # Listed again by the agency: a note, and the status stays until an editor acts.
    back = UNICEF + "paolo.ferri@unicef.example.org,Paolo Ferri,Officer\n"
    server.routes["/unicef.csv"] = listed(back)
    result = run(project, "contacts", "sync", "--source", "UNICEF")
    assert result.output.splitlines() == [
        f"{server.url('/unicef.csv')}:4: note: paolo.ferri@unicef.example.org is left in contacts.db "
        "but listed by this source. If they are back, use contacts edit --resubscribe.",
        f"{server.url('/unicef.csv')}: 0 added, 1 updated, 2 unchanged, 0 rejected",
    ]
    assert rows(db, "SELECT status, job_title FROM contacts WHERE email LIKE 'paolo%'") == [
        ("left", "Officer")
    ]


def test_rows_for_another_organisation_are_rejected(project, server, monkeypatch):
    monkeypatch.chdir(project)
    seed(project)
    body = UNICEF + "jane.roe@who.example.org,Jane Roe,Officer\n"
    body = body.replace("Email,Name,Job title", "Email,Name,Job title,Agency")
    body = body.replace("Lead\n", "Lead,UNICEF\n").replace("Officer\nj", "Officer,UNICEF\nj")
    body = body.replace("Roe,Officer\n", "Roe,Officer,WHO\n")
    server.routes["/u.csv"] = listed(body)
    configure(project, f'{{ organisation = "UNICEF", url = "{server.url("/u.csv")}" }}')
    result = run(project, "contacts", "sync")
    assert result.exit_code == 3
    assert (
        f"{server.url('/u.csv')}:4: organisation 'WHO' is not 'United Nations Children's Fund', "
        "which this source owns. Remove the row from the source." in result.output
    )
    assert rows(
        project / "contacts.db", "SELECT status FROM contacts WHERE email LIKE 'jane%'"
    ) == [("subscribed",)]


FAILURES = {
    "unreachable": ("/missing.csv", listed(b"", 404), "HTTP 404 Not Found."),
    "bad encoding": (
        "/latin.csv",
        listed("Email,Name\nx@unicef.example.org,Jos\u00e9\n".encode("latin-1")),
        "not UTF-8 (byte 0xe9 at line 2; it looks like Latin-1 or Windows-1252). "
        "Save it as UTF-8 CSV.",
    ),
    "no email column": (
        "/noemail.csv",
        listed("Name\nJane\n"),
        "1: no email column (headers: Name). Add a column named Email with one address per row.",
    ),
    "empty": ("/empty.csv", listed(""), "the file is empty."),
    "no valid row": (
        "/junk.csv",
        listed("Email\nnot-an-address\n"),
        "no row has a valid email address.",
    ),
    "timeout": ("/slow.csv", listed(UNICEF, delay=2), ": timed out after 1 s."),
}


@pytest.mark.parametrize("path,route,message", FAILURES.values(), ids=FAILURES.keys())
def test_a_failing_source_changes_nothing_and_others_still_apply(
    project, server, monkeypatch, path, route, message
):
    monkeypatch.chdir(project)
    seed(project)
    server.routes[path] = route
    (project / "who.csv").write_text("Email,Name\njane.roe@who.example.org,Jane R.\n")
    configure(
        project,
        f'{{ name = "bad", organisation = "UNICEF", url = "{server.url(path)}", timeout = 1 }}',
        '{ name = "who", organisation = "WHO", path = "who.csv" }',
    )
    db = project / "contacts.db"
    unicef_before = rows(db, "SELECT * FROM contacts WHERE email LIKE '%unicef%'")
    result = run(project, "contacts", "sync")
    assert result.exit_code == 3
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: source 'bad': {server.url(path)}")
    assert message in warnings[0] and warnings[0].endswith("Nothing changed for it.")
    assert "who.csv: 0 added, 1 updated, 0 unchanged, 0 rejected" in result.output
    assert rows(db, "SELECT * FROM contacts WHERE email LIKE '%unicef%'") == unicef_before


BAD_CONFIG = {
    "not a table": ('"https://x"', " must be a table such as { organisation = "),
    "unknown key": (
        '{ organisation = "UNICEF", path = "a.csv", org = "x" }',
        ": unknown key 'org'. Use one of: name, organisation, path, url, format, timeout.",
    ),
    "no organisation": (
        '{ path = "a.csv" }',
        ": 'organisation' is missing or empty. Name the organisation it owns.",
    ),
    "both": (
        '{ organisation = "A", path = "a", url = "https://x" }',
        ": give exactly one of 'path' or 'url' as a string.",
    ),
    "ftp": (
        '{ organisation = "A", url = "ftp://x" }',
        ": url 'ftp://x' is not an http(s) URL. Copy it from the browser.",
    ),
    "format": (
        '{ organisation = "A", path = "a", format = "xls" }',
        ": format 'xls' is not allowed. Use one of: csv, json.",
    ),
    "timeout": (
        '{ organisation = "A", path = "a", timeout = 0 }',
        ": timeout '0' is not a number of seconds above 0 and at most 600.",
    ),
}


@pytest.mark.parametrize("entry,message", BAD_CONFIG.values(), ids=BAD_CONFIG.keys())
def test_bad_source_entries_name_the_file_and_entry(project, monkeypatch, entry, message):
    monkeypatch.chdir(project)
    lines = len((project / "pyproject.toml").read_text().splitlines())
    configure(project, entry)
    result = run(project, "contacts", "sync")
    assert result.exit_code == 1
    head = f"Error: {project / 'pyproject.toml'}:{lines + 1}: [tool.newsletter] 'sources' entry 1"
    assert result.output.startswith(head + message), result.output
    assert len(result.output.splitlines()) == 1
    assert not (project / "contacts.db").exists()


def test_no_sources_configured(project, monkeypatch):
    monkeypatch.chdir(project)
    result = run(project, "contacts", "sync")
    assert result.exit_code == 1
    assert "has no 'sources'" in result.output


def test_a_dripping_source_gives_up_at_its_timeout(project, server, monkeypatch):
    """A byte every 50 ms never trips a per-read socket timeout; the source's timeout must."""
    monkeypatch.chdir(project)
    seed(project)
    server.routes["/drip.csv"] = listed(UNICEF, drip=0.05)  # about 7 s for the whole list
    url = server.url("/drip.csv")
    configure(project, f'{{ name = "slow", organisation = "UNICEF", url = "{url}", timeout = 2 }}')
    db = project / "contacts.db"
    before = dump(db)
    start = time.monotonic()
    result = run(project, "contacts", "sync")
    elapsed = time.monotonic() - start
    assert (result.exit_code, result.output) == (
        1,  # the only source could not be loaded: nothing was done
        f"warning: source 'slow': {url}: timed out after 2 s. Nothing changed for it.\n",
    )
    assert elapsed < 3.5, f"sync took {elapsed:.1f} s with timeout = 2"
    assert dump(db) == before
    print(f"dripping sync gave up after {elapsed:.2f} s")


def test_a_json_source_is_read_by_its_content_type(project, server, monkeypatch):
    """No .json in the URL: the Content-Type says JSON, even gzipped on the way."""
    monkeypatch.chdir(project)
    seed(project)
    people = [{"email": "amina.okafor@unicef.example.org", "name": "Amina Okafor"}]
    body = gzip.compress(json.dumps(people).encode())
    server.routes["/api/people"] = Route(
        body,
        headers={"Content-Type": "application/json; charset=utf-8", "Content-Encoding": "gzip"},
    )
    url = server.url("/api/people")
    configure(project, f'{{ name = "api", organisation = "UNICEF", url = "{url}" }}')
    result = run(project, "contacts", "sync")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"{url}: 0 added, 0 updated, 1 unchanged, 0 rejected, 1 marked left"
    )
    # The request names the newsletter as a feed request does (download.user_agent).
    assert server.requests[-1][1]["user-agent"].endswith("(+https://focalpoint.example.org)")
