"""newsletter.send.dispatch: each copy carries its own personal links, signed for its reader."""

from __future__ import annotations

import re
import time

from helpers import SECRET, add_contacts, cli, item, make_issue, parse, smtp_send

from newsletter.build.pipeline import build
from newsletter.config import load_settings
from newsletter.store import open_db
from newsletter.tokens import ENTRY, MEMBERS, SUBMIT, read_link_token, read_token

LINK = re.compile(r"https://[^\s\"<>]*/(entry|members|submit|unsubscribe)/([A-Za-z0-9_.-]+)")


def links(part: str) -> dict[str, list[str]]:
    """The personal links' tokens in a decoded body part, by page."""
    found: dict[str, list[str]] = {}
    for page, token in LINK.findall(part):
        found.setdefault(page, []).append(token)
    return found


def bodies(data: bytes) -> tuple[str, str]:
    msg = parse(data)
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_each_copy_links_its_own_entry_and_only_a_listed_one_the_members(smtp_ready, smtp):
    unlisted = add_contacts(smtp_ready, [{"email": "guest@example.org", "listed": 0}])[0]
    db = open_db(smtp_ready / "contacts.db")
    ids = {email: cid for cid, email in db.execute("SELECT id, email FROM contacts")}
    db.conn.close()
    result = smtp_send(smtp_ready, smtp.port)
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == len(ids) == 13
    now = time.time()
    seen = set()
    for message in smtp.messages:
        (address,) = message.rcpt_tos
        text, html = bodies(message.data)
        for part in (text, html):
            found = links(part)
            (entry,) = set(found["entry"])
            link = read_link_token(SECRET.encode(), ENTRY, entry, now)
            assert link is not None and link.contact_id == ids[address]
            # Scoped to its page: it opens neither the members' directory nor an unsubscribe.
            assert read_link_token(SECRET.encode(), MEMBERS, entry, now) is None
            assert read_token(SECRET.encode(), entry) is None
            if ids[address] == unlisted:
                assert "members" not in found and "submit" not in found
                assert "Focal points' directory" not in part
                assert "Send us your news" not in part
            else:
                (members,) = set(found["members"])
                page = read_link_token(SECRET.encode(), MEMBERS, members, now)
                assert page is not None and page.contact_id == ids[address]
                (submit,) = set(found["submit"])
                form = read_link_token(SECRET.encode(), SUBMIT, submit, now)
                assert form is not None and form.contact_id == ids[address]
                assert read_link_token(SECRET.encode(), ENTRY, submit, now) is None
            seen.add(entry)
        assert "Check your entry" in text and "Check your entry" in html
    assert len(seen) == 13  # one each, no two alike


def masked(part: str) -> str:
    return LINK.sub(lambda m: f"{m[1]}/TOKEN", part)


def test_the_unlisted_reader_loses_that_link_and_nothing_else(smtp_ready, smtp):
    add_contacts(smtp_ready, [{"email": "guest@example.org", "name": "Person 0", "listed": 0}])
    assert smtp_send(smtp_ready, smtp.port).exit_code == 0
    by_address = {m.rcpt_tos[0]: bodies(m.data) for m in smtp.messages}
    listed_text, listed_html = (masked(p) for p in by_address["person0@example.org"])
    guest_text, guest_html = (masked(p) for p in by_address["guest@example.org"])
    lines = ("Focal points' directory:\nmembers/TOKEN\n", "Send us your news:\nsubmit/TOKEN\n")
    assert all(line in listed_text for line in lines)  # wrapped: a URL is long
    cut = listed_text.replace(lines[0], "").replace(lines[1], "")
    assert guest_text == cut.replace("person0@", "guest@")
    anchors = (
        re.search(r"<a href=\"members/TOKEN\">Focal points' directory</a> · ", listed_html),
        re.search(r"<a href=\"submit/TOKEN\">Send us your news</a> · ", listed_html),
    )
    assert all(anchors)
    cut = listed_html.replace(anchors[0][0], "").replace(anchors[1][0], "")
    assert guest_html == cut.replace("person0@", "guest@")


def test_a_test_send_links_contact_zero(smtp_ready, smtp):
    result = cli(
        smtp_ready,
        "send",
        "2026-Q4",
        "--to",
        "me@example.org",
        "--sender",
        "smtp",
        "-o",
        "host=127.0.0.1",
        "-o",
        f"port={smtp.port}",
        "-o",
        "security=none",
    )
    assert result.exit_code == 0, result.output
    text, _ = bodies(smtp.messages[0].data)
    found = links(text)
    link = read_link_token(SECRET.encode(), ENTRY, found["entry"][0], time.time())
    assert link is not None and link.contact_id == 0


def test_an_item_cannot_forge_a_personal_link(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    folder = make_issue(project)
    body = "Open %%ENTRY_URL%% or %%MEMBERS_URL%% for <a href='%%MEMBERS_URL%%'>x</a>.\n"
    (folder / "items" / "forged.md").write_text(item("Forged") + body, encoding="utf-8")
    assert build(load_settings(project), folder).ok
    add_contacts(project, [{"email": "guest@example.org", "listed": 0}])
    assert smtp_send(project, smtp.port).exit_code == 0
    text, html = bodies(smtp.messages[0].data)
    for part in (text, html):
        assert "members" not in links(part)  # the unlisted reader has no such link
        assert len(links(part)["entry"]) == 1  # the footer's, and only it
        assert "Open %\u200d%ENTRY_URL%\u200d% or %\u200d%MEMBERS_URL%\u200d%" in part


def test_a_contact_listed_in_the_directory_cannot_forge_a_personal_link(project, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    forged = {"email": "eve@who.int", "name": "%%ENTRY_URL%%", "job_title": "%%MEMBERS_URL%%"}
    add_contacts(project, [{**forged, "city": "%%UNSUBSCRIBE_URL%%"}])
    folder = make_issue(project)
    assert build(load_settings(project), folder).ok
    assert "ENTRY_URL%" in (folder / "build" / "email.txt").read_text()  # listed, broken up
    assert smtp_send(project, smtp.port).exit_code == 0
    text, html = bodies(smtp.messages[0].data)
    for part in (text, html):
        found = links(part)
        assert [len(found[page]) for page in ("entry", "members", "unsubscribe")] == [1, 1, 1]
