"""returns.readership: /r/<token> on the real app, served on 127.0.0.1, redirects at once
to the signed address and adds one to that link's count; anything else is 400 and
counts nothing; nothing about the reader is stored."""

from __future__ import annotations

import sqlite3
import time
import urllib.error
import urllib.request

import pytest
from helpers import serve_app

from newsletter import tokens
from newsletter.config import load_settings
from newsletter.server import create_app

SECRET = b"a-test-secret-that-is-long-enough"
URL = "https://example.org/report?year=2026&lang=en"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer under test


OPENER = urllib.request.build_opener(NoRedirect)


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with OPENER.open(url, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def rows(project) -> list[tuple]:
    with sqlite3.connect(project / "contacts.db") as conn:
        return conn.execute("SELECT * FROM clicks ORDER BY issue, link").fetchall()


@pytest.fixture
def base(project):
    from helpers import add_contacts

    add_contacts(project, 1)  # the database serve needs
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET)
    with serve_app(app) as url:
        yield url


def test_a_click_redirects_to_the_signed_address_and_is_counted(base, project):
    token = tokens.make_click_token(SECRET, "2026-Q4", 3, URL)
    for n in (1, 2):
        status, headers, _ = get(f"{base}/r/{token}")
        assert (status, headers["Location"]) == (302, URL)
        assert headers["Cache-Control"] == "no-store"
        assert rows(project) == [("2026-Q4", 3, URL, n)]
    other = tokens.make_click_token(SECRET, "2026-Q4", 1, "https://example.org/a")
    assert get(f"{base}/r/{other}")[0] == 302
    assert rows(project) == [("2026-Q4", 1, "https://example.org/a", 1), ("2026-Q4", 3, URL, 2)]


def test_a_query_cannot_choose_where_it_goes(base, project):
    token = tokens.make_click_token(SECRET, "2026-Q4", 1, URL)
    status, headers, _ = get(f"{base}/r/{token}?url=https://evil.test/&next=https://evil.test/")
    assert (status, headers["Location"]) == (302, URL)


def _altered(token: str) -> str:
    payload, mac = token.split(".")
    return f"{payload}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"


def _spliced(token: str) -> str:
    """The MAC of a genuine token on another link's payload."""
    other = tokens.make_click_token(SECRET, "2026-Q4", 1, "https://evil.test/")
    return f"{other.split('.')[0]}.{token.split('.')[1]}"


GENUINE = tokens.make_click_token(SECRET, "2026-Q4", 1, URL)
FORGED = [
    _altered(GENUINE),
    _spliced(GENUINE),
    GENUINE + "A",
    GENUINE[:-1],
    tokens.make_click_token(b"another-secret-long-enough", "2026-Q4", 1, URL),
    tokens.make_token(SECRET, 1, "2026-Q4"),  # an unsubscribe token
    tokens.make_link_token(SECRET, tokens.ENTRY, 1, time.time()),
    tokens.make_link_token(SECRET, tokens.MEMBERS, 1, time.time()),
    "x" * 3000,
    "not-a-token",
]


@pytest.mark.parametrize("token", FORGED)
def test_a_forged_altered_or_other_purpose_token_is_400_and_counts_nothing(base, project, token):
    status, headers, body = get(f"{base}/r/{token}")
    assert status == 400
    assert "Location" not in headers
    assert body.startswith("This link is not valid.")
    assert rows(project) == []


def test_a_click_token_opens_no_other_page(base):
    token = tokens.make_click_token(SECRET, "2026-Q4", 1, URL)
    for page in ("unsubscribe", "entry", "members"):
        assert get(f"{base}/{page}/{token}")[0] in (400, 404)


def test_nothing_about_the_reader_is_stored(base, project):
    token = tokens.make_click_token(SECRET, "2026-Q4", 2, URL)
    for agent in ("Reader-One/1.0", "Reader-Two/2.0"):
        request = urllib.request.Request(
            f"{base}/r/{token}", headers={"User-Agent": agent, "Cookie": "id=42"}
        )
        try:
            OPENER.open(request, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 302
    with sqlite3.connect(project / "contacts.db") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(clicks)")]
    assert columns == ["issue", "link", "url", "count"]  # no person, IP, agent or time
    assert rows(project) == [("2026-Q4", 2, URL, 2)]
    files = [project / "contacts.db", project / "contacts.db-wal"]
    data = b"".join(path.read_bytes() for path in files if path.exists())
    for trace in (b"127.0.0.1", b"Reader-One", b"Reader-Two", b"id=42"):
        assert trace not in data


def test_a_link_from_a_sent_email_is_counted_and_reported_without_anyone_in_it(
    project, monkeypatch
):
    """The whole way: build with readership on, send to the outbox, follow a link from
    two readers' copies on the served app, and read the report."""
    import re

    from helpers import add_contacts, cli, make_issue, outbox, parse

    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nweb_url =", '\nreadership = "aggregate"\nweb_url =', 1))
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET.decode())
    make_issue(project)
    assert cli(project, "build", "2026-Q4", "--offline").exit_code == 0
    add_contacts(project, 2)
    assert cli(project, "send", "2026-Q4", "--yes").exit_code == 0
    copies = []
    for eml in outbox(project):
        body = parse(eml.read_bytes()).get_body(("html",)).get_content()
        copies.append(re.findall(r'href="https://focalpoint\.example\.org(/r/[^"]+)"', body))
    assert len(copies) == 2 and copies[0] == copies[1] and len(copies[0]) == 4  # same links
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET)
    with serve_app(app) as base:
        for links in copies:
            status, headers, _ = get(base + links[0])
            assert (status, headers["Location"]) == (302, "https://example.org/item-4")
    assert rows(project) == [("2026-Q4", 1, "https://example.org/item-4", 2)]
    report = cli(project, "report", "2026-Q4").output
    assert (
        "Clicks per link (no person recorded; under 5 shown as fewer than 5):\n"
        "  [1] fewer than 5  https://example.org/item-4\n"
        "Clicks per organisation (organisations of 5 or more recipients; "
        "under 5 shown as fewer than 5):\n"
        "  Other organisations fewer than 5\n"
    ) in report
    assert "person0" not in report.split("Clicks per link")[1]


def org_rows(project) -> list[tuple]:
    with sqlite3.connect(project / "contacts.db") as conn:
        return conn.execute(
            "SELECT o.name, k.link, k.count FROM click_organisations k"
            " JOIN organisations o ON o.id = k.organisation ORDER BY o.name, k.link"
        ).fetchall()


@pytest.fixture
def sent_to_organisations(project, monkeypatch):
    """Built with readership on and sent to the outbox: five people of UNDP, two of
    UNOPS (under 5), one with no organisation. {address: the click links of its copy}."""
    import re

    from helpers import cli, make_issue, outbox, parse

    from newsletter.models import Contact
    from newsletter.store import open_db
    from newsletter.store.contacts import create_contact

    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nweb_url =", '\nreadership = "aggregate"\nweb_url =', 1))
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET.decode())
    make_issue(project)
    assert cli(project, "build", "2026-Q4", "--offline").exit_code == 0
    db = open_db(project / "contacts.db")
    people = [(f"p{n}@undp.example", "UNDP") for n in range(5)]
    people += [("a@unops.example", "UNOPS"), ("b@unops.example", "UNOPS"), ("c@x.example", "")]
    for address, org in people:
        create_contact(db, Contact(email=address, organisation=org), "test")
    db.conn.close()
    from newsletter.send import dispatch

    signed = []
    make = dispatch.make_click_org_token
    monkeypatch.setattr(
        dispatch, "make_click_org_token", lambda *args: signed.append(args[1:]) or make(*args)
    )
    assert cli(project, "send", "2026-Q4", "--yes").exit_code == 0
    # Signed once in the run, for the one organisation of 5 or more recipients.
    assert [issue for issue, _ in signed] == ["2026-Q4"]
    copies = {}
    for eml in outbox(project):
        message = parse(eml.read_bytes())
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        links = re.findall(r'href="https://focalpoint\.example\.org(/r/[^"]+)"', html)
        assert re.findall(r"https://focalpoint\.example\.org(/r/\S+)", text) == links
        copies[str(message["To"])] = links
    return copies


def test_the_organisation_part_is_the_same_for_one_organisation_and_absent_under_5(
    sent_to_organisations,
):
    copies = sent_to_organisations
    undp = [links for to, links in copies.items() if "undp" in to]
    others = [links for to, links in copies.items() if "undp" not in to]
    assert len(undp) == 5 and len(others) == 3
    assert all(links == undp[0] for links in undp)  # one organisation: the very same links
    parts = {link.split("/")[3] for link in undp[0]}
    assert len(parts) == 1 and all(link.count("/") == 3 for link in undp[0])
    (part,) = parts
    assert tokens.read_click_org_token(SECRET, part, "2026-Q4") is not None
    # UNOPS (2 recipients) and no organisation: the links without a part, as before.
    for links in others:
        assert links == [link.rsplit("/", 1)[0] for link in undp[0]]
    assert "%%" not in "".join(sum(copies.values(), []))


def test_clicks_are_counted_per_organisation_and_reported(sent_to_organisations, project):
    from helpers import cli

    copies = sent_to_organisations
    undp = next(links for to, links in copies.items() if "undp" in to)
    other = next(links for to, links in copies.items() if "unops" in to)
    app = create_app(load_settings(project), project / "contacts.db", secret=SECRET)
    with serve_app(app) as base:
        for _ in range(6):
            assert get(base + undp[0])[0] == 302
        assert get(base + undp[1])[0] == 302
        assert get(base + other[0])[0] == 302
    assert org_rows(project) == [("UNDP", 1, 6), ("UNDP", 2, 1)]
    assert [r[3] for r in rows(project)] == [7, 1]
    report = cli(project, "report", "2026-Q4").output
    assert (
        "Clicks per organisation (organisations of 5 or more recipients; "
        "under 5 shown as fewer than 5):\n"
        "  UNDP                           7\n"
        "  Other organisations fewer than 5\n"
    ) in report


def test_a_forged_or_swapped_organisation_part_counts_for_no_organisation(base, project):
    from newsletter.store import open_db
    from newsletter.store.contacts import organisation_id

    db = open_db(project / "contacts.db")
    undp = organisation_id(db, "UNDP")
    db.conn.close()
    token = tokens.make_click_token(SECRET, "2026-Q4", 1, URL)
    genuine = tokens.make_click_org_token(SECRET, "2026-Q4", undp)
    made_up = tokens.make_click_org_token(SECRET, "2026-Q4", 999)  # genuine, but no such row
    for part in (
        _altered(genuine),
        tokens.make_click_org_token(SECRET, "2026-Q3", undp),  # swapped from another issue
        tokens.make_click_org_token(b"another-secret-long-enough", "2026-Q4", undp),
        tokens.make_click_token(SECRET, "2026-Q4", 1, URL),  # a click token in its place
        tokens.make_token(SECRET, undp, "2026-Q4"),  # an unsubscribe token
        f"{genuine.split('.')[0][:-2]}Nj.{genuine.split('.')[1]}",  # another id, the same MAC
        "x" * 200,
        "not-a-part",
    ):
        status, headers, _ = get(f"{base}/r/{token}/{part}")
        assert (status, headers["Location"]) == (302, URL), part  # the reader still goes on
    assert org_rows(project) == []  # no count for any organisation, real or made up
    assert rows(project) == [("2026-Q4", 1, URL, 8)]
    assert get(f"{base}/r/{token}/{genuine}")[0] == 302
    assert get(f"{base}/r/{token}/{made_up}")[0] == 302
    assert org_rows(project) == [("UNDP", 1, 1)]  # a row id that is no organisation: not shown
    with sqlite3.connect(project / "contacts.db") as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(click_organisations)")]
    assert columns == ["issue", "link", "organisation", "count"]  # no person, IP or time


def test_the_organisation_part_is_kept_out_of_the_logs():
    from newsletter.returns import mask_tokens

    token = tokens.make_click_token(SECRET, "2026-Q4", 1, URL)
    part = tokens.make_click_org_token(SECRET, "2026-Q4", 17)
    line = f'"GET /r/{token}/{part} HTTP/1.1" 302 -'
    assert mask_tokens(line) == '"GET /r/<masked>/<masked> HTTP/1.1" 302 -'
