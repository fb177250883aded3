"""newsletter.contacts.sync: `contacts sync` of agency lists over http(s) and from files."""

from __future__ import annotations

import gzip
import json
import sys
import time

import pytest
from helpers import Route, cli, cli_within, configure_sources, dump, rows, special_file, write


def listed(body: str | bytes, status: int = 200, **kw) -> Route:
    """A contact list as an agency serves it: CSV over http."""
    data = body.encode() if isinstance(body, str) else body
    return Route(data, status, {"Content-Type": "text/csv"}, **kw)


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
    assert cli(project, "contacts", "import", "seed.csv").exit_code == 0
    cli(project, "contacts", "unsubscribe", "quit.early@unicef.example.org")


def test_sync_applies_sources_and_marks_missing_people_left(project, feed_server, monkeypatch):
    monkeypatch.chdir(project)
    seed(project)
    feed_server.routes["/unicef.csv"] = listed(UNICEF)
    who = [{"email": "jane.roe@who.example.org", "name": "Jane Roe", "phone": "+41 22 555 0000"}]
    (project / "who.json").write_text(json.dumps(who), encoding="utf-8")
    configure_sources(
        project,
        f'{{ organisation = "UNICEF", url = "{feed_server.url("/unicef.csv")}", allow_private = true }}',
        '{ name = "who", organisation = "World Health Organization", path = "who.json" }',
    )
    db = project / "contacts.db"
    before = dump(db)
    dry = cli(project, "contacts", "sync", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dump(db) == before
    assert (
        "- paolo.ferri@unicef.example.org  'Paolo Ferri': marked left (missing from the source)"
        in dry.output
    )
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{feed_server.url('/unicef.csv')}: marked left: 'Paolo Ferri' <paolo.ferri@unicef.example.org>",
        f"{feed_server.url('/unicef.csv')}: 1 added, 1 updated, 0 unchanged, 0 rejected, 1 marked left",
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
    again = cli(project, "contacts", "sync")
    assert again.output.splitlines()[-2:] == [
        f"{feed_server.url('/unicef.csv')}: 0 added, 0 updated, 2 unchanged, 0 rejected",
        "who.json: 0 added, 0 updated, 1 unchanged, 0 rejected",
    ]
    # Listed again by the agency: a note, and the status stays until an editor acts.
    back = UNICEF + "paolo.ferri@unicef.example.org,Paolo Ferri,Officer\n"
    feed_server.routes["/unicef.csv"] = listed(back)
    result = cli(project, "contacts", "sync", "--source", "UNICEF")
    assert result.output.splitlines() == [
        f"{feed_server.url('/unicef.csv')}:4: note: paolo.ferri@unicef.example.org is left in contacts.db "
        "but listed by this source. If they are back, use contacts edit --resubscribe.",
        f"{feed_server.url('/unicef.csv')}: 0 added, 1 updated, 2 unchanged, 0 rejected",
    ]
    assert rows(db, "SELECT status, job_title FROM contacts WHERE email LIKE 'paolo%'") == [
        ("left", "Officer")
    ]


def test_rows_for_another_organisation_are_rejected(project, feed_server, monkeypatch):
    monkeypatch.chdir(project)
    seed(project)
    body = UNICEF + "jane.roe@who.example.org,Jane Roe,Officer\n"
    body = body.replace("Email,Name,Job title", "Email,Name,Job title,Agency")
    body = body.replace("Lead\n", "Lead,UNICEF\n").replace("Officer\nj", "Officer,UNICEF\nj")
    body = body.replace("Roe,Officer\n", "Roe,Officer,WHO\n")
    feed_server.routes["/u.csv"] = listed(body)
    configure_sources(
        project,
        f'{{ organisation = "UNICEF", url = "{feed_server.url("/u.csv")}", allow_private = true }}',
    )
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 3
    assert (
        f"{feed_server.url('/u.csv')}:4: organisation 'WHO' is not 'United Nations Children's Fund', "
        "which this source owns. Remove the row from the source." in result.output
    )
    assert rows(
        project / "contacts.db", "SELECT status FROM contacts WHERE email LIKE 'jane%'"
    ) == [("subscribed",)]


def test_a_local_part_outside_ascii_is_rejected_like_an_import(project, feed_server, monkeypatch):
    monkeypatch.chdir(project)
    feed_server.routes["/u.csv"] = listed(UNICEF + "amélie@unicef.example.org,Amélie,Officer\n")
    configure_sources(
        project,
        f'{{ organisation = "UNICEF", url = "{feed_server.url("/u.csv")}", allow_private = true }}',
    )
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 3
    assert (
        f"{feed_server.url('/u.csv')}:4: 'amélie@unicef.example.org' is not a valid email "
        "address (the part before the @ has characters outside ASCII ('é'), which most mail "
        "servers cannot deliver to; ask for the plain ASCII address). Correct it.\n"
    ) in result.output
    assert [e for (e,) in rows(project / "contacts.db", "SELECT email FROM contacts")] == [
        "amina.okafor@unicef.example.org",
        "new.person@unicef.example.org",
    ]


FAILURES = {
    "unreachable": ("/missing.csv", listed(b"", 404), "HTTP 404 Not Found."),
    "bad encoding": (
        "/latin.csv",
        listed("Email,Name\nx@unicef.example.org,Jos\u00e9\n".encode("latin-1")),
        ":2: not UTF-8 (byte 0xe9; it looks like Latin-1 or Windows-1252). Save the file as UTF-8.",
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
    project, feed_server, monkeypatch, path, route, message
):
    monkeypatch.chdir(project)
    seed(project)
    feed_server.routes[path] = route
    (project / "who.csv").write_text("Email,Name\njane.roe@who.example.org,Jane R.\n")
    configure_sources(
        project,
        f'{{ name = "bad", organisation = "UNICEF", url = "{feed_server.url(path)}", timeout = 1, allow_private = true }}',
        '{ name = "who", organisation = "WHO", path = "who.csv" }',
    )
    db = project / "contacts.db"
    unicef_before = rows(db, "SELECT * FROM contacts WHERE email LIKE '%unicef%'")
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 3
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: source 'bad': {feed_server.url(path)}")
    assert message in warnings[0] and warnings[0].endswith("Nothing changed for it.")
    assert "who.csv: 0 added, 1 updated, 0 unchanged, 0 rejected" in result.output
    assert rows(db, "SELECT * FROM contacts WHERE email LIKE '%unicef%'") == unicef_before


BAD_CONFIG = {
    "not a table": ('"https://x"', " must be a table such as { organisation = "),
    "unknown key": (
        '{ organisation = "UNICEF", path = "a.csv", org = "x" }',
        ": unknown key 'org'. Use one of: name, organisation, path, url, format, timeout, allow_private.",
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
    "allow_private on a path": (
        '{ organisation = "A", path = "a", allow_private = true }',
        ": 'allow_private' is for a 'url' on your own network; a 'path' needs none. Remove it.",
    ),
    "allow_private not a boolean": (
        '{ organisation = "A", url = "https://a.example", allow_private = "yes" }',
        ": allow_private 'yes' is not true or false. Write true or false.",
    ),
}


@pytest.mark.parametrize("entry,message", BAD_CONFIG.values(), ids=BAD_CONFIG.keys())
def test_bad_source_entries_name_the_file_and_entry(project, monkeypatch, entry, message):
    monkeypatch.chdir(project)
    lines = len((project / "pyproject.toml").read_text().splitlines())
    configure_sources(project, entry)
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 1
    head = f"Error: {project / 'pyproject.toml'}:{lines + 1}: [tool.newsletter] 'sources' entry 1"
    assert result.output.startswith(head + message), result.output
    assert len(result.output.splitlines()) == 1
    assert not (project / "contacts.db").exists()


def test_no_sources_configured(project, monkeypatch):
    monkeypatch.chdir(project)
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 1
    assert "has no 'sources'" in result.output


@pytest.mark.parametrize(
    ("kind", "what"), [("fifo", "a FIFO (named pipe)"), ("device", "a device"), ("dir", "a folder")]
)
def test_a_source_path_that_is_not_a_regular_file_is_a_warning_not_a_hang(
    project, monkeypatch, kind, what
):
    # A FIFO as a source's path waited for a writer forever; a device never ended.
    monkeypatch.chdir(project)
    seed(project)
    special_file(project / "list.csv", kind)
    configure_sources(project, '{ name = "local", organisation = "UNICEF", path = "list.csv" }')
    db = project / "contacts.db"
    before = dump(db)
    result = cli_within(20, project, "contacts", "sync")
    assert (result.exit_code, result.output) == (
        1,
        f"warning: source 'local': list.csv: is {what}, not a file. Nothing changed for it.\n",
    )
    assert dump(db) == before


def test_a_source_path_over_the_size_cap_is_a_warning(project, monkeypatch):
    monkeypatch.chdir(project)
    # The package exports the function sync under the module's name: patch the module.
    monkeypatch.setattr(sys.modules["newsletter.contacts.sync"], "MAX_BYTES", 1024)
    seed(project)
    write(project, "list.csv", "Email,Name,Agency\n" + "a@unicef.example.org,A,UNICEF\n" * 100)
    configure_sources(project, '{ name = "local", organisation = "UNICEF", path = "list.csv" }')
    result = cli(project, "contacts", "sync")
    assert (result.exit_code, result.output) == (
        1,
        "warning: source 'local': list.csv: is larger than 1,024 bytes. Nothing changed for it.\n",
    )


def test_a_dripping_source_gives_up_at_its_timeout(project, feed_server, monkeypatch):
    """A byte every 50 ms never trips a per-read socket timeout; the source's timeout must."""
    monkeypatch.chdir(project)
    seed(project)
    feed_server.routes["/drip.csv"] = listed(UNICEF, drip=0.05)  # about 7 s for the whole list
    url = feed_server.url("/drip.csv")
    configure_sources(
        project,
        f'{{ name = "slow", organisation = "UNICEF", url = "{url}", timeout = 2, allow_private = true }}',
    )
    db = project / "contacts.db"
    before = dump(db)
    start = time.monotonic()
    result = cli(project, "contacts", "sync")
    elapsed = time.monotonic() - start
    assert (result.exit_code, result.output) == (
        1,  # the only source could not be loaded: nothing was done
        f"warning: source 'slow': {url}: timed out after 2 s. Nothing changed for it.\n",
    )
    assert elapsed < 3.5, f"sync took {elapsed:.1f} s with timeout = 2"
    assert dump(db) == before
    print(f"dripping sync gave up after {elapsed:.2f} s")


def test_a_json_source_is_read_by_its_content_type(project, feed_server, monkeypatch):
    """No .json in the URL: the Content-Type says JSON, even gzipped on the way."""
    monkeypatch.chdir(project)
    seed(project)
    people = [{"email": "amina.okafor@unicef.example.org", "name": "Amina Okafor"}]
    body = gzip.compress(json.dumps(people).encode())
    feed_server.routes["/api/people"] = Route(
        body,
        headers={"Content-Type": "application/json; charset=utf-8", "Content-Encoding": "gzip"},
    )
    url = feed_server.url("/api/people")
    configure_sources(
        project, f'{{ name = "api", organisation = "UNICEF", url = "{url}", allow_private = true }}'
    )
    result = cli(project, "contacts", "sync")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"{url}: 0 added, 0 updated, 1 unchanged, 0 rejected, 1 marked left"
    )
    # The request names the newsletter as a feed request does (download.user_agent).
    assert feed_server.requests[-1][1]["user-agent"].endswith("(+https://focalpoint.example.org)")


@pytest.fixture
def db(project):
    return project / "contacts.db"


def seed_unicef(project):
    text = (
        "Email,Name,Organisation,Acronym\n"
        "hq@unicef.example.org,Hana HQ,United Nations Children's Fund,UNICEF\n"
        "region@unicef.example.org,Rui Region,United Nations Children's Fund,UNICEF\n"
        "gone@unicef.example.org,Gus Gone,United Nations Children's Fund,UNICEF\n"
    )
    assert cli(project, "contacts", "import", write(project, "seed.csv", text)).exit_code == 0
    write(project, "hq.csv", "Email,Name\nhq@unicef.example.org,Hana HQ\n")
    write(project, "region.csv", "Email,Name\nregion@unicef.example.org,Rui Region\n")


def statuses(db):
    return rows(db, "SELECT email, status FROM contacts ORDER BY email")


def test_two_sources_for_one_organisation_only_mark_people_missing_from_both(
    project, db, monkeypatch
):
    monkeypatch.chdir(project)
    seed_unicef(project)
    configure_sources(
        project,
        '{ name = "hq", organisation = "UNICEF", path = "hq.csv" }',
        '{ name = "region", organisation = "United Nations Children\'s Fund", path = "region.csv" }',
    )
    result = cli(project, "contacts", "sync")
    assert (result.exit_code, result.output.splitlines()) == (
        0,
        [
            "hq.csv: marked left: 'Gus Gone' <gone@unicef.example.org>",
            "hq.csv: 0 added, 0 updated, 1 unchanged, 0 rejected, 1 marked left",
            "region.csv: 0 added, 0 updated, 1 unchanged, 0 rejected",
        ],
    )
    assert statuses(db) == [
        ("gone@unicef.example.org", "left"),
        ("hq@unicef.example.org", "subscribed"),
        ("region@unicef.example.org", "subscribed"),
    ]


@pytest.mark.parametrize(
    "region,args,why",
    [
        ("Email\nnot-an-address\n", (), "has no valid row"),
        (None, (), "could not be loaded"),
        ("Email\nregion@unicef.example.org\n", ("--source", "hq"), "was not part of this sync"),
    ],
    ids=["no valid row", "missing file", "not synced"],
)
def test_nobody_is_marked_left_while_another_source_of_the_organisation_is_unknown(
    project, db, monkeypatch, region, args, why
):
    monkeypatch.chdir(project)
    seed_unicef(project)
    if region is None:
        (project / "region.csv").unlink()
    else:
        write(project, "region.csv", region)
    configure_sources(
        project,
        '{ name = "hq", organisation = "UNICEF", path = "hq.csv" }',
        '{ name = "region", organisation = "UNICEF", path = "region.csv" }',
    )
    result = cli(project, "contacts", "sync", *args)
    assert (
        f"hq.csv: note: nobody was marked left, as source 'region' for the same organisation {why}."
        in result.output.splitlines()
    )
    assert "hq.csv: 0 added, 0 updated, 1 unchanged, 0 rejected" in result.output.splitlines()
    assert all(status == "subscribed" for _, status in statuses(db))


@pytest.mark.parametrize("url", ["http://[::1", "http://", "http://exa mple.org/a.csv"])
def test_a_malformed_source_url_is_a_config_error(project, monkeypatch, url):
    monkeypatch.chdir(project)
    configure_sources(project, f'{{ organisation = "UNICEF", url = "{url}" }}')
    result = cli(project, "contacts", "sync")
    lines = (project / "pyproject.toml").read_text().splitlines()
    assert (result.exit_code, result.output) == (
        1,
        f"Error: {project / 'pyproject.toml'}:{lines.index('sources = [') + 1}: [tool.newsletter] "
        f"'sources' entry 1: url {url!r} is not an http(s) URL. Copy it from the browser.\n",
    )


def test_a_download_cut_short_is_a_warning(project, db, monkeypatch, feed_server):
    monkeypatch.chdir(project)
    # Promises 1000 bytes, sends 6 and hangs up.
    feed_server.routes["/cut.csv"] = listed(b"Email\n" + b"x" * 994, cut=6)
    url = feed_server.url("/cut.csv")
    configure_sources(
        project, f'{{ name = "cut", organisation = "UNICEF", url = "{url}", allow_private = true }}'
    )
    result = cli(project, "contacts", "sync")
    assert (result.exit_code, result.output) == (
        1,  # the only source failed: nothing was done
        f"warning: source 'cut': {url}: body cut short (6 of 1000 bytes arrived). "
        "Nothing changed for it.\n",
    )
