"""newsletter.feeds.collector: `newsletter collect` from a local HTTP server into the inbox."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from helpers import Route, add_feed, cli, cli_within, inbox_files, make_issue, rss

from newsletter.config import load_settings
from newsletter.issue.items import load_item

OCT = "Mon, 05 Oct 2026 10:00:00 GMT"
NOV = "Mon, 02 Nov 2026 09:00:00 GMT"


def assert_loadable(project, issue="2026-Q4"):
    """Every inbox file is an item file with no errors."""
    sections = load_settings(project).section_keys
    for path in (project / "issues" / issue / "inbox").glob("*.md"):
        item, problems = load_item(path, path.name, sections)
        assert item is not None, [str(p) for p in problems]
        assert not [p for p in problems if p.severity == "error"]


UN = [
    {
        "title": "UN Supplier Code of Conduct updated",
        "pubDate": OCT,
        "guid": "urn:un:1",
        "link": "https://un.example.org/code?utm_source=rss",
        "description": "The &lt;b&gt;updated&lt;/b&gt; code.",
    },
    {
        "title": "Old story",
        "link": "https://un.example.org/old",
        "pubDate": "Fri, 01 May 2026 10:00:00 GMT",
    },
    {"title": "Undated note", "link": "https://un.example.org/note"},
    {"title": "Already an item", "link": "https://EXAMPLE.org/item-1/#top", "pubDate": OCT},
]
UNDP = [
    {
        "title": "UN supplier code of conduct updated!",
        "link": "https://undp.example.org/code",
        "pubDate": NOV,
    },
    {
        "title": "Partnering Skills course",
        "link": "https://undp.example.org/course",
        "pubDate": NOV,
        "description": "Courses for UN staff.",
    },
]


def sample(project, feed_server):
    make_issue(project)
    add_feed(project, feed_server, "UN-News", "news", Route(rss(UN), etag='"un1"'))
    add_feed(project, feed_server, "UNDP", "tools", Route(rss(UNDP)))
    add_feed(project, feed_server, "Broken", "news", Route(b"down", status=500))


def test_collect_triage_and_check(project, feed_server):
    sample(project, feed_server)
    result = cli(project, "collect", "2026-Q4")
    assert result.exit_code == 0
    assert result.stderr == "warning: Broken: HTTP 500 Internal Server Error\n"
    assert result.stdout.splitlines() == [
        "issues/2026-Q4/inbox/: 3 new candidates (window 2026-10-01 to 2026-12-31); "
        "1 cross-feed duplicate merged.",
        "FEED     STATUS  NEW  DUP  OLD  ERRORS",
        "UN-News  ok        2    1    1       0",
        "UNDP     ok        1    1    0       0",
        "Broken   failed    0    0    0       1",
        "Feeds to chase:",
        "  Broken: failed: HTTP 500 Internal Server Error",
        "Next: newsletter inbox 2026-Q4",
    ]
    assert feed_server.requests[0][1]["user-agent"].startswith("newsletter/")
    assert inbox_files(project) == [
        "partnering-skills-course.md",
        "un-supplier-code-of-conduct-updated.md",
        "undated-note.md",
    ]
    assert_loadable(project)
    inbox = project / "issues" / "2026-Q4" / "inbox"
    text = (inbox / "un-supplier-code-of-conduct-updated.md").read_text()
    head, body = text.split("---\n")[1:]
    assert head.replace(head.split("collected_at: ")[1].split("\n")[0], "T") == (
        "title: UN Supplier Code of Conduct updated\n"
        "section: news\n"
        "link: https://un.example.org/code\n"
        "date: 2026-10-05\n"
        "source: UN-News\n"
        "collected_at: T\n"
        f"feed: {feed_server.url('/UN-News')}\n"
        "guid: urn:un:1\n"
        "sources:\n"
        "- name: UN-News\n  link: https://un.example.org/code\n"
        "- name: UNDP\n  link: https://undp.example.org/code\n"
    )
    assert body == "The **updated** code.\n"  # Markdown, as a contributor writes it
    undated = (inbox / "undated-note.md").read_text()
    assert "undated: true\n" in undated
    assert "date:" not in undated  # no invented date that reads as the publisher's

    today = dt.datetime.now(dt.UTC).date()
    assert cli(project, "inbox", "2026-Q4").stdout.splitlines() == [
        "NAME                                 SECTION  DATE                            SOURCE   TITLE",
        f"undated-note                         news     undated, first seen {today}  UN-News  "
        "Undated note"
        if today > dt.date(2026, 10, 5)
        else "",
        "un-supplier-code-of-conduct-updated  news     2026-10-05                      UN-News  "
        "UN Supplier Code of Conduct updated",
        "partnering-skills-course             tools    2026-11-02                      UNDP     "
        "Partnering Skills course",
        "3 candidates. Accept with: newsletter accept 2026-Q4 NAME... (or --all); "
        "reject with: newsletter reject 2026-Q4 NAME...",
    ]

    result = cli(project, "accept", "2026-Q4", "partnering-skills-course", "undated-note.md")
    assert result.stdout.splitlines() == [
        "inbox/partnering-skills-course.md -> items/partnering-skills-course.md",
        "inbox/undated-note.md -> items/undated-note.md",
        "Accepted 2 candidates into issues/2026-Q4/items/. Next: newsletter check 2026-Q4",
    ]
    assert cli(project, "accept", "2026-Q4", "--all").exit_code == 0
    assert inbox_files(project) == []
    check = cli(project, "check", "2026-Q4")
    assert check.exit_code == 0, check.output
    assert "7 items" in check.stdout


def test_collect_again_is_idempotent_and_keeps_edits(project, feed_server):
    sample(project, feed_server)
    cli(project, "collect", "2026-Q4")
    inbox = project / "issues" / "2026-Q4" / "inbox"
    edited = inbox / "partnering-skills-course.md"
    edited.write_text(edited.read_text().replace("Courses for UN staff.", "Edited by hand."))
    before = {p.name: p.read_bytes() for p in inbox.glob("*.md")}
    result = cli(project, "collect", "2026-Q4")
    assert result.stdout.splitlines()[:5] == [
        "issues/2026-Q4/inbox/: 0 new candidates (window 2026-10-01 to 2026-12-31).",
        "FEED     STATUS        NEW  DUP  OLD  ERRORS",
        "UN-News  not modified    0    0    0       0",
        "UNDP     ok              0    2    0       0",
        "Broken   failed          0    0    0       2",
    ]
    assert feed_server.requests[-3][1].get("if-none-match") == '"un1"' or any(
        h.get("if-none-match") == '"un1"' for _, h in feed_server.requests[3:]
    )
    assert {p.name: p.read_bytes() for p in inbox.glob("*.md")} == before
    # Even when the feed answers in full again and the memory of what it gave is lost,
    # the links already in the inbox are recognised.
    feed_server.routes["/UN-News"].etag = '"un2"'
    project.joinpath("contacts.db").unlink()
    for name in ("UN-News", "UNDP"):
        cli(
            project,
            "feeds",
            "add",
            feed_server.url(f"/{name}"),
            "--section",
            "news",
            "--name",
            name,
            "--allow-private",
        )
    assert "0 new candidates" in cli(project, "collect", "2026-Q4").stdout
    assert {p.name: p.read_bytes() for p in inbox.glob("*.md")} == before


def test_rejections_are_remembered_across_feeds_and_issues(project, feed_server):
    sample(project, feed_server)
    cli(project, "collect", "2026-Q4")
    result = cli(project, "reject", "2026-Q4", "un-supplier-code-of-conduct-updated")
    assert result.stdout == (
        "Rejected 1 candidate; they will not be proposed again: "
        "un-supplier-code-of-conduct-updated.md\n"
    )
    assert "un-supplier-code-of-conduct-updated.md" not in inbox_files(project)
    # Another feed carrying the same story, by URL or by title, in a later issue.
    make_issue(project, "2027-Q1", items={})
    toml = project / "issues" / "2027-Q1" / "issue.toml"
    toml.write_text(toml.read_text() + "window = { from = 2026-10-01, to = 2027-03-31 }\n")
    mirror = [
        {"title": "Another headline", "link": "https://un.example.org/code#x", "pubDate": OCT},
        {"title": "UN Supplier Code of Conduct Updated", "link": "https://m.org/1", "pubDate": OCT},
        {"title": "Something new", "link": "https://m.org/2", "pubDate": OCT},
    ]
    add_feed(project, feed_server, "Mirror", "news", Route(rss(mirror)))
    cli(project, "collect", "2027-Q1")
    assert inbox_files(project, "2027-Q1") == ["something-new.md"]


def test_cross_issue_duplicates_are_skipped(project, feed_server):
    make_issue(
        project,
        "2026-Q3",
        items={
            "old.md": (
                "---\ntitle: Told before\nsection: news\nlink: https://Site.org/story/\n---\nText.\n"
            )
        },
    )
    make_issue(project)
    items = [
        {
            "title": "Told again",
            "link": "https://site.org/story?utm_medium=rss&amp;fbclid=9",
            "pubDate": OCT,
        },
        {"title": "Fresh", "link": "https://site.org/fresh", "pubDate": OCT},
    ]
    add_feed(project, feed_server, "Site", "news", Route(rss(items)))
    result = cli(project, "collect", "2026-Q4")
    assert "Site  ok        1    1    0       0" in result.stdout
    assert inbox_files(project) == ["fresh.md"]


def test_collect_exits_1_when_every_feed_fails(project, feed_server):
    make_issue(project)
    add_feed(project, feed_server, "Gone", "news", Route(status=404))
    result = cli(project, "collect", "2026-Q4")
    assert result.exit_code == 1
    assert result.stderr == (
        "warning: Gone: HTTP 404 Not Found\n"
        "Error: feeds: every feed failed. Check the URLs above, then collect again.\n"
    )


def test_collect_needs_feeds_and_an_issue(project):
    result = cli(project, "collect", "2026-Q4")
    assert result.exit_code == 1 and "no such issue folder" in result.output
    make_issue(project)
    result = cli(project, "collect", "2026-Q4")
    assert result.output == (
        "Error: feeds: none registered. Add one with: newsletter feeds add URL --section news\n"
    )


HTML_PAGE = b"<!DOCTYPE html><html><head><title>Moved</title></head><body>Hi</body></html>"
BOZO = rss([{"title": "Kept", "link": "https://x.org/k", "pubDate": OCT}]).replace(b"</rss>", b"")
MISLABELLED = rss(
    [{"title": "Caf\u00e9 \u20ac", "link": "https://x.org/c", "pubDate": OCT}]
).replace(b'encoding="utf-8"', b'encoding="windows-1252"')


@pytest.mark.parametrize(
    "route,warning,status",
    [
        (Route(rss([]), delay=1.5), "timed out after 0.3 s", "failed"),
        (Route(status=404), "HTTP 404 Not Found", "failed"),
        (Route(b"x", status=500), "HTTP 500 Internal Server Error", "failed"),
        (
            Route(HTML_PAGE, headers={"Content-Type": "text/html"}),
            "an HTML page, not a feed",
            "failed",
        ),
        (
            Route(BOZO),
            "ill-formed XML (line 3: no element found); kept what could be read",
            "warning",
        ),
        (Route(MISLABELLED), "declared encoding windows-1252 is wrong; read as utf-8", "warning"),
        (
            Route(b"<rss>" + b" " * (5 * 1024 * 1024) + b"</rss>"),
            "body larger than the 5 MB size cap",
            "failed",
        ),
        (
            Route(status=301, headers={"Location": "/Bad"}),
            "redirect loop ({u}/Bad -> {u}/Bad)",
            "failed",
        ),
        (Route(b"", headers={}), "empty document", "failed"),
        (
            Route(b'{"version": "https://jsonfeed.org/version/1"}'),
            "JSON, not RSS or Atom (JSON Feed is not supported)",
            "failed",
        ),
    ],
    ids=["timeout", "404", "500", "html", "bozo", "encoding", "oversize", "loop", "empty", "json"],
)
def test_bad_feeds_warn_once_and_others_still_collect(project, feed_server, route, warning, status):
    make_issue(project)
    add_feed(project, feed_server, "Good", "news", Route(rss([UNDP[1]])))
    add_feed(project, feed_server, "Bad", "tools", route)
    result = cli(project, "collect", "2026-Q4", "--timeout", "0.3")
    assert result.exit_code == 0
    warning = warning.format(u=feed_server.url(""))
    assert result.stderr == f"warning: Bad: {warning}\n"
    lines = result.stdout.splitlines()
    assert lines[2].split()[:3] == ["Good", "ok", "1"]
    assert lines[3].split()[:2] == ["Bad", status] and lines[3].endswith(" 1")
    assert f"  Bad: {'failed: ' if status == 'failed' else ''}{warning}" in lines
    assert "partnering-skills-course.md" in inbox_files(project)
    assert_loadable(project)
    listed = cli(project, "feeds", "list").stdout
    assert f"Bad   tools    {status}" in listed


def test_mislabelled_encoding_is_read_as_utf8(project, feed_server):
    make_issue(project)
    add_feed(project, feed_server, "Enc", "news", Route(MISLABELLED))
    cli(project, "collect", "2026-Q4")
    (name,) = inbox_files(project)
    text = (project / "issues" / "2026-Q4" / "inbox" / name).read_text(encoding="utf-8")
    assert "title: Caf\u00e9 \u20ac\n" in text


def test_permanent_redirect_updates_the_registry(project, feed_server):
    make_issue(project)
    add_feed(project, feed_server, "Moved", "news", Route(status=301, headers={"Location": "/new"}))
    feed_server.routes["/new"] = Route(rss([UNDP[1]]))
    result = cli(project, "collect", "2026-Q4")
    assert f"Moved: moved permanently; URL updated to {feed_server.url('/new')}" in result.stdout
    assert feed_server.url("/new") in cli(project, "feeds", "list").stdout


HOSTILE = (
    '<p onclick="steal()" style="width: expression(alert(1))">Hello'
    '<script>alert(1)</script><iframe src="https://evil.test/"></iframe>'
    '<object data="x.swf"></object><embed src="x.swf">'
    '<a href="javascript:alert(1)">js</a> <a href="data:text/html;base64,PHNjcmlwdD4=">data</a>'
    '<img src="https://e.org/a.png" alt="A chart" onerror="alert(1)">'
    '<img src="data:image/png;base64,AAAA" alt="x"> <a href="vbscript:x">vb</a></p>'
)
HOSTILE_MARKS = (
    "<script",
    "<iframe",
    "<object",
    "<embed",
    "onclick",
    "onerror",
    "javascript:",
    "data:",
    "vbscript:",
    "expression(",
    "style=",
)


def test_hostile_content_never_reaches_the_inbox(project, feed_server):
    make_issue(project)
    from html import escape

    items = [
        {
            "title": "Hostile <script>x</script>",
            "link": "javascript:alert(1)",
            "pubDate": OCT,
            "description": escape(HOSTILE),
        }
    ]
    add_feed(project, feed_server, "Evil", "news", Route(rss(items)))
    cli(project, "collect", "2026-Q4")
    (name,) = inbox_files(project)
    text = (project / "issues" / "2026-Q4" / "inbox" / name).read_text()
    for mark in HOSTILE_MARKS:
        assert mark not in text.lower(), mark
    body = text.split("\n---\n")[1]
    assert body == "Hellojs data vb\n"  # the picture goes too: it would track readers
    assert "\nlink:" not in text  # a javascript: link is dropped, not written
    assert_loadable(project)


def test_stage_collect_reports_progress_and_stamps_files(project, feed_server):
    from newsletter.feeds import collect
    from newsletter.store import open_db

    make_issue(project)
    add_feed(project, feed_server, "UN-News", "news", Route(rss(UN)))
    add_feed(project, feed_server, "UNDP", "tools", Route(rss(UNDP)))
    ticks = []
    when = dt.datetime(2026, 11, 3, 8, 30, tzinfo=dt.UTC)
    result = collect(
        open_db(project / "contacts.db"),
        load_settings(project),
        project / "issues" / "2026-Q4",
        when=when,
        progress=lambda: ticks.append(1),
    )
    assert len(ticks) == 2 and result.ok
    assert [(f.name, f.status, f.new, f.duplicate, f.old) for f in result.feeds] == [
        ("UN-News", "ok", 2, 1, 1),
        ("UNDP", "ok", 1, 1, 0),  # its code story is UN-News's, merged: a duplicate here
    ]
    assert result.merged == 1
    assert sum(f.new for f in result.feeds) == len(result.written) == 3
    text = (project / "issues" / "2026-Q4" / "inbox" / "undated-note.md").read_text()
    assert "date:" not in text and "undated: true\n" in text
    assert "collected_at: '2026-11-03T08:30:00+00:00'\n" in text


LOCAL = ["(local", "network", "allowed)"]  # registered with --allow-private: said in the list


def test_feeds_list_shows_health_after_collect(project, feed_server):
    sample(project, feed_server)
    cli(project, "collect", "2026-Q4")
    lines = cli(project, "feeds", "list").stdout.splitlines()
    rows = [line.split() for line in lines[1:4]]
    assert rows[0][:3] + rows[0][5:] == [
        "UN-News",
        "news",
        "ok",
        "3",
        "2",
        "1",
        "1",
        "0",
        feed_server.url("/UN-News"),
        *LOCAL,
    ]
    assert rows[1][:3] + rows[1][5:] == [
        "UNDP",
        "tools",
        "ok",
        "2",
        "1",
        "1",
        "0",
        "0",
        feed_server.url("/UNDP"),
        *LOCAL,
    ]
    assert rows[2] == [
        "Broken",
        "news",
        "failed",
        "-",
        "0",
        "0",
        "0",
        "0",
        "1",
        feed_server.url("/Broken"),
        *LOCAL,
    ]
    assert lines[4:] == ["Feeds to chase:", "  Broken: failed: HTTP 500 Internal Server Error"]


def test_quiet_collect_prints_warnings_and_the_summary_line(project, feed_server):
    sample(project, feed_server)
    result = cli(project, "collect", "2026-Q4", "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "issues/2026-Q4/inbox/: 3 new candidates (window 2026-10-01 to 2026-12-31);"
        " 1 cross-feed duplicate merged.\n",
        "warning: Broken: HTTP 500 Internal Server Error\n",
    )


def test_feeds_list_as_json(project, feed_server):
    make_issue(project)
    assert cli(project, "feeds", "list", "--json").stdout == "[]\n"
    add_feed(project, feed_server, "UNDP", "tools", Route(rss(UNDP)))
    add_feed(project, feed_server, "Broken", "news", Route(b"down", status=500))
    cli(project, "collect", "2026-Q4")
    result = cli(project, "feeds", "list", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    found = json.loads(result.stdout)
    success = found[0].pop("last_success")
    assert dt.datetime.fromisoformat(success).date() == dt.datetime.now(dt.UTC).date()
    assert found == [
        {
            "name": "UNDP",
            "section": "tools",
            "url": feed_server.url("/UNDP"),
            "local_network": True,
            "status": "ok",
            "seen": 2,
            "new": 2,
            "duplicate": 0,
            "old": 0,
            "errors": 0,
            "chase": None,
        },
        {
            "name": "Broken",
            "section": "news",
            "url": feed_server.url("/Broken"),
            "local_network": True,
            "status": "failed",
            "last_success": None,
            "seen": 0,
            "new": 0,
            "duplicate": 0,
            "old": 0,
            "errors": 1,
            "chase": "failed: HTTP 500 Internal Server Error",
        },
    ]
    first = result.stdout.split("},", 1)[0]
    assert first == (
        "[\n  {\n"
        '    "name": "UNDP",\n'
        '    "section": "tools",\n'
        f'    "url": "{feed_server.url("/UNDP")}",\n'
        '    "local_network": true,\n'
        '    "status": "ok",\n'
        f'    "last_success": "{success}",\n'
        '    "seen": 2,\n'
        '    "new": 2,\n'
        '    "duplicate": 0,\n'
        '    "old": 0,\n'
        '    "errors": 0,\n'
        '    "chase": null\n'
        "  "
    )


def test_server_text_cannot_drive_the_terminal(project, feed_server):
    make_issue(project)
    add_feed(project, feed_server, "Good", "news", Route(rss([UNDP[1]])))
    add_feed(
        project,
        feed_server,
        "Evil",
        "news",
        Route(status=302, headers={"Location": "ftp://x/\x1b[2J"}),
    )
    result = cli(project, "collect", "2026-Q4")
    assert result.stderr == "warning: Evil: redirect to a non-web URL (ftp://x/[2J)\n"


def guid_item(title, guid, link):
    return {"title": title, "guid": guid, "link": link, "pubDate": OCT}


def opaque(items):
    """RSS whose guids are opaque ids (isPermaLink="false"), as many CMSs number them."""
    return Route(rss(items).replace(b"<guid>", b'<guid isPermaLink="false">'))


def test_a_guid_is_only_unique_within_its_feed(project, feed_server):
    """Two feeds numbering their entries alike: "42" from B is not "42" from A."""
    make_issue(project)
    items = [guid_item("Procurement reform explained", "42", "https://a.org/s1")]
    add_feed(project, feed_server, "A", "news", opaque(items))
    cli(project, "collect", "2026-Q4")
    cli(project, "reject", "2026-Q4", "procurement-reform-explained")
    items = [guid_item("Water partnerships in 2026", "42", "https://b.org/water")]
    add_feed(project, feed_server, "B", "news", opaque(items))
    result = cli(project, "collect", "2026-Q4")
    assert result.stdout.splitlines()[3].split() == ["B", "ok", "1", "0", "0", "0"]
    assert inbox_files(project) == ["water-partnerships-in-2026.md"]
    # B's candidate, once accepted, still keeps B's own "42" from coming back.
    cli(project, "accept", "2026-Q4", "--all")
    feed_server.routes["/B"].etag = '"changed"'
    project.joinpath("contacts.db").unlink()
    cli(
        project,
        "feeds",
        "add",
        feed_server.url("/B"),
        "--section",
        "news",
        "--name",
        "B",
        "--allow-private",
    )
    assert "0 new candidates" in cli(project, "collect", "2026-Q4").stdout


def test_two_feeds_moving_to_one_url(project, feed_server):
    make_issue(project)
    add_feed(project, feed_server, "A", "news", Route(status=301, headers={"Location": "/new"}))
    add_feed(project, feed_server, "B", "news", Route(status=308, headers={"Location": "/new"}))
    feed_server.routes["/new"] = Route(rss([UNDP[1]]))
    result = cli(project, "collect", "2026-Q4")
    assert result.exit_code == 0
    moved = [line for line in result.stdout.splitlines() if "moved permanently" in line]
    assert len(moved) == 1
    # The feed that moved is still found by the URL it was added with.
    name = moved[0].split(":")[0]
    result = cli(project, "feeds", "remove", feed_server.url(f"/{name}"))
    assert result.stdout == f"Removed feed '{name}': {feed_server.url('/new')}\n"


def test_hostile_titles_and_guids_never_reach_the_inbox(project, feed_server):
    make_issue(project)
    items = [
        {
            "title": "Hello &lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;",
            "guid": "javascript:alert(3)",
            "link": "https://e.org/a",
            "pubDate": OCT,
            "description": "&lt;a href='&amp;#106;avascript:alert(4)'&gt;click&lt;/a&gt;",
        }
    ]
    add_feed(project, feed_server, "Evil", "news", Route(rss(items)))
    cli(project, "collect", "2026-Q4")
    (name,) = inbox_files(project)
    text = (project / "issues" / "2026-Q4" / "inbox" / name).read_text()
    for mark in HOSTILE_MARKS:
        assert mark not in text.lower(), mark
    assert "title: Hello\n" in text and "guid:" not in text
    assert text.endswith("---\nclick\n")
    # Recognised again all the same: the feed remembers the guid.
    assert "0 new candidates" in cli(project, "collect", "2026-Q4").stdout


def test_a_malformed_link_in_an_item_does_not_stop_collect(project, feed_server):
    bad = '---\ntitle: Bad link\nsection: news\nlink: "http://[oops/x"\n---\nText.\n'
    make_issue(project, "2026-Q3", items={"bad.md": bad})
    make_issue(project)
    add_feed(project, feed_server, "UNDP", "tools", Route(rss(UNDP)))
    result = cli(project, "collect", "2026-Q4")
    assert result.exit_code == 0 and "2 new candidates" in result.stdout


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/html; charset=utf-8"},
        {"Content-Type": "text/plain"},
        {},
        {"Content-Type": "application/octet-stream"},
    ],
    ids=["text-html", "text-plain", "none", "octet-stream"],
)
def test_a_feed_with_the_wrong_content_type_is_still_read(project, feed_server, headers):
    make_issue(project)
    add_feed(project, feed_server, "Odd", "tools", Route(rss([UNDP[1]]), headers=headers))
    result = cli(project, "collect", "2026-Q4")
    assert result.stderr == "" and result.exit_code == 0
    assert inbox_files(project) == ["partnering-skills-course.md"]


BROKEN_FILES = {
    "impossible-date.md": "---\ntitle: Bad date\nsection: news\ndate: 2026-02-30\n---\nX.\n",
    "bad-month.md": "---\ntitle: Bad\nsection: news\ndate: 2026-13-45\nlink: https://x.org/\n---\n",
    "bad-yaml.md": "---\ntitle: [unclosed\n---\nX.\n",
    "bad-tag.md": "---\ntitle: !!int abc\nsection: news\nweight: !!float abc\n---\n",
    "bad-stamp.md": "---\ntitle: T\nsection: news\ndate: !!timestamp garbage\n---\n",
    "huge-number.md": "---\ntitle: T\nsection: news\nweight: " + "9" * 5000 + "\n---\n",
    "latin1.md": "---\ntitle: Caf\xe9\nsection: news\n---\n",
    "deep.md": "---\ntitle: " + "[" * 5000 + "]" * 5000 + "\nsection: news\n---\n",
}


def test_broken_files_in_another_issue_never_stop_collect(project, feed_server):
    import os

    other = make_issue(
        project,
        "2026-Q3",
        items={"told.md": "---\ntitle: Told\nsection: news\nlink: https://site.org/told\n---\n"},
    )
    (other / "inbox").mkdir()
    for folder in ("items", "inbox"):
        for name, text in BROKEN_FILES.items():
            data = text.encode("latin-1" if name == "latin1.md" else "utf-8")
            (other / folder / name).write_bytes(data)
        os.mkfifo(other / folder / "pipe.md")
        (other / folder / "big.md").write_bytes(b"---\ntitle: Big\n---\n" + b"x" * 2_000_000)
    make_issue(project)
    items = [
        {"title": "Told again", "link": "https://site.org/told", "pubDate": OCT},
        {"title": "Fresh", "link": "https://site.org/fresh", "pubDate": OCT},
    ]
    add_feed(project, feed_server, "Site", "news", Route(rss(items)))
    result = cli_within(60, project, "collect", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert inbox_files(project) == ["fresh.md"]  # the readable item of 2026-Q3 still counts


@pytest.mark.parametrize("issue_id", ["9999-Q4", "0001-Q1"])
def test_collect_into_a_quarter_at_the_ends_of_the_calendar(project, feed_server, issue_id):
    assert cli(project, "new", issue_id).exit_code == 0
    add_feed(project, feed_server, "UN-News", "news", Route(rss(UN)))
    result = cli(project, "collect", issue_id)
    assert result.exit_code == 0, result.output
    assert "UN-News  ok" in result.stdout
    assert cli(project, "check", issue_id).exit_code == 0


def test_collect_when_inbox_is_a_file_is_one_line(project, feed_server):
    folder = make_issue(project)
    (folder / "inbox").write_text("notes\n", encoding="utf-8")
    add_feed(project, feed_server, "UN-News", "news", Route(rss(UN)))
    result = cli(project, "collect", "2026-Q4")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "Error: issues/2026-Q4/inbox: is a file, not a folder. "
        "Move it away; collect writes candidates in that folder.\n"
    )
    assert (folder / "inbox").read_text(encoding="utf-8") == "notes\n"


def test_a_feed_adds_at_most_max_new_entries_a_collect_and_the_rest_come_next(
    project, feed_server, monkeypatch
):
    """Found: one 5 MB feed of 30,000 tiny entries wrote 30,000 candidates at once."""
    from newsletter.feeds import collector

    monkeypatch.setattr(collector, "MAX_NEW_PER_FEED", 3)
    make_issue(project)
    items = [
        {"title": f"Story {n}", "link": f"https://site.org/s{n}", "pubDate": OCT} for n in range(5)
    ]
    add_feed(project, feed_server, "Site", "news", Route(rss(items), etag='"v1"'))
    first = cli(project, "collect", "2026-Q4")
    assert first.exit_code == 0, first.output
    assert len(inbox_files(project)) == 3
    assert (
        "2 more new entries were left for the next collect (at most 3 a feed at a time); "
        "triage these, then collect again" in first.output
    )
    assert cli(project, "reject", "2026-Q4", "--all").exit_code == 0
    second = cli(project, "collect", "2026-Q4")  # the same feed, same ETag: fetched again
    assert second.exit_code == 0, second.output
    assert len(inbox_files(project)) == 2
    assert "left for the next collect" not in second.output


def test_ctrl_c_stops_collect_at_once_with_130_and_writes_nothing(project, feed_server):
    """A stalled feed once held a Ctrl-C for the whole feed timeout, then exited 1
    with click's "Aborted!"; now the stop is at once, exit 130, as send's is."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from helpers import _default_sigint

    make_issue(project)
    add_feed(project, feed_server, "UNDP", "tools", Route(rss(UNDP)))
    add_feed(project, feed_server, "Stalled", "news", Route(rss(UN), delay=60))
    before = sorted(
        p.relative_to(project) for p in project.rglob("*") if "contacts.db" not in p.name
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "--root", str(project), "collect", "2026-Q4"],
        env=os.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 30
    while len(feed_server.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # both feeds asked for: one answered, one stalling
    assert len(feed_server.requests) == 2
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    stopped = time.monotonic()
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - stopped
    assert proc.returncode == 130, (out, err)
    assert took < 1.5, f"Ctrl-C took {took:.1f} s"
    assert err.decode().strip() == "Interrupted.", err
    assert "Traceback" not in err.decode() and "Aborted" not in err.decode()
    after = sorted(
        p.relative_to(project) for p in project.rglob("*") if "contacts.db" not in p.name
    )
    assert after == before  # no inbox file, no temporary file
    assert cli(project, "feeds", "list").stdout.count("never collected") == 2
