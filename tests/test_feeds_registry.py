"""newsletter.feeds.registry: `feeds add`, `list` and `remove`, and the URLs they accept."""

from __future__ import annotations

import pytest
from helpers import cli, rss

from newsletter.store import open_db
from newsletter.store.feeds import list_feeds


def test_feeds_add_list_remove(project, tmp_path):
    local = tmp_path / "local.xml"
    local.write_bytes(rss([]))
    assert cli(project, "feeds", "list").output == (
        "No feeds. Add one with: newsletter feeds add URL --section SECTION\n"
    )
    out = cli(project, "feeds", "add", "https://news.example.org/rss", "--section", "news").output
    assert out == "Added feed 'news.example.org' (news): https://news.example.org/rss\n"
    out = cli(project, "feeds", "add", f"file://{local}", "--section", "tools", "--name", "Local")
    assert out.output == f"Added feed 'Local' (tools): {local}\n"
    assert cli(project, "feeds", "list").output.splitlines() == [
        "NAME              SECTION  STATUS           LAST SUCCESS  SEEN  NEW  DUP  OLD  ERRORS  URL",
        "news.example.org  news     never collected  -                0    0    0    0       0  "
        "https://news.example.org/rss",
        f"Local             tools    never collected  -                0    0    0    0       0  {local}",
    ]
    out = cli(project, "feeds", "remove", "local.xml").output  # a path, relative to here
    assert out == f"Removed feed 'Local': {local}\n"
    out = cli(project, "feeds", "remove", "https://news.example.org/rss").output
    assert out == "Removed feed 'news.example.org': https://news.example.org/rss\n"


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["https://x.org/f", "--section", "gossip"],
            "--section: unknown section 'gossip'. Use one of: news, tools, events, spotlight.",
        ),
        (
            ["ftp://x.org/f", "--section", "news"],
            "ftp://x.org/f: not a feed URL. Use https://..., file://... or a path.",
        ),
        (
            ["missing.xml", "--section", "news"],
            "missing.xml: no such file. Give an http(s) URL or an existing file.",
        ),
        (
            ["https://a.org/rss", "--section", "news"],
            "https://a.org/rss: already registered as 'A'.",
        ),
        (
            ["https://b.org/rss", "--section", "news", "--name", "a"],
            "--name: a feed is already named 'a'. Pick another name.",
        ),
    ],
)
def test_feeds_add_errors(project, args, message):
    cli(project, "feeds", "add", "https://a.org/rss", "--section", "news", "--name", "A")
    result = cli(project, "feeds", "add", *args)
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"


def test_feeds_remove_unknown(project):
    result = cli(project, "feeds", "remove", "nope")
    assert result.exit_code == 1
    assert result.output == "Error: nope: no such feed. See the names with: newsletter feeds list\n"


@pytest.mark.parametrize(
    "url,message",
    [
        ("http://[::1/rss", "http://[::1/rss: not a valid URL. Check it and try again."),
        (
            "https://x.org:99999/rss",
            "https://x.org:99999/rss: not a valid URL. Check it and try again.",
        ),
        ("", "URL: empty. Give an http(s) URL, a file:// URL or a path."),
        ("HTTPS://A.ORG/rss", "https://a.org/rss: already registered as 'A'."),
        ("https:///rss", "https:///rss: not a feed URL. Use https://..., file://... or a path."),
    ],
    ids=["ipv6-unclosed", "port", "empty", "case-of-host", "no-host"],
)
def test_feeds_add_refuses_bad_urls_without_a_traceback(project, url, message):
    cli(project, "feeds", "add", "https://a.org/rss", "--section", "news", "--name", "A")
    result = cli(project, "feeds", "add", url, "--section", "news")
    assert result.exit_code == 1
    assert result.output == f"Error: {message}\n"


def test_feeds_add_lowercases_scheme_and_host_only(project):
    out = cli(project, "feeds", "add", "HTTPS://News.UN.org/Feed/RSS", "--section", "news").output
    assert out == "Added feed 'news.un.org' (news): https://news.un.org/Feed/RSS\n"
    assert cli(project, "feeds", "remove", "https://NEWS.un.org/Feed/RSS").exit_code == 0


def test_allow_private_is_for_the_one_host_of_the_url(project, tmp_path):
    out = cli(
        project,
        "feeds",
        "add",
        "http://Intranet.Example:8080/rss",
        "--section",
        "news",
        "--allow-private",
    ).output
    assert out == (
        "Added feed 'intranet.example' (news): http://intranet.example:8080/rss\n"
        "Feed 'intranet.example' may be fetched from a loopback or private address of "
        "intranet.example, and only from that host.\n"
    )
    out = cli(project, "feeds", "add", "https://b\u00fccher.example/rss", "--section", "news")
    assert out.exit_code == 0
    again = cli(
        project,
        "feeds",
        "add",
        "https://b\u00fccher.example/rss",
        "--section",
        "news",
        "--allow-private",
    )
    assert again.output == (  # the host as the request names it: IDNA
        "Registered feed 'b\u00fccher.example' may be fetched from a loopback or private "
        "address of xn--bcher-kva.example, and only from that host.\n"
    )
    twice = cli(
        project,
        "feeds",
        "add",
        "https://b\u00fccher.example/rss",
        "--section",
        "news",
        "--allow-private",
    )
    assert twice.output == (
        "Error: https://b\u00fccher.example/rss: already registered as 'b\u00fccher.example'.\n"
    )
    local = tmp_path / "local.xml"
    local.write_bytes(rss([]))
    out = cli(project, "feeds", "add", str(local), "--section", "news", "--allow-private")
    assert out.output == f"Added feed 'local' (news): {local}\n"  # a file needs no address
    db = open_db(project / "contacts.db")
    assert [(f.name, f.private_host) for f in list_feeds(db)] == [
        ("intranet.example", "intranet.example"),
        ("b\u00fccher.example", "xn--bcher-kva.example"),
        ("local", None),
    ]


def test_an_older_database_gains_the_private_host_column(project):
    db = open_db(project / "contacts.db")
    cli(project, "feeds", "add", "https://a.org/rss", "--section", "news", "--name", "A")
    db.execute("ALTER TABLE feeds DROP COLUMN private_host")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_private_host'")
    db.conn.close()
    assert [(f.name, f.private_host) for f in list_feeds(open_db(project / "contacts.db"))] == [
        ("A", None)
    ]
