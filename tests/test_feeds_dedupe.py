"""newsletter.feeds.dedupe: one story from several feeds or listings is one candidate, only then."""

from __future__ import annotations

from helpers import Route, add_feed, cli, inbox_files, make_issue, rss

OCT = "Mon, 05 Oct 2026 10:00:00 GMT"
NOV = "Mon, 02 Nov 2026 09:00:00 GMT"


def guid_item(title, guid, link):
    return {"title": title, "guid": guid, "link": link, "pubDate": OCT}


def test_generic_titles_do_not_merge_and_names_get_suffixes(project, feed_server):
    make_issue(project)
    for name in ("A", "B"):
        items = [{"title": "Weekly update", "link": f"https://{name}.org/w", "pubDate": OCT}]
        add_feed(project, feed_server, name, "news", Route(rss(items)))
    cli(project, "collect", "2026-Q4")
    assert inbox_files(project) == ["weekly-update-2.md", "weekly-update.md"]
    # And rejecting a generic title does not silence it for ever.
    cli(project, "reject", "2026-Q4", "--all")
    items = [{"title": "Weekly update", "link": "https://a.org/w2", "pubDate": NOV}]
    feed_server.routes["/A"] = Route(rss(items))
    cli(project, "collect", "2026-Q4")
    assert inbox_files(project) == ["weekly-update.md"]


def test_one_feed_listing_a_link_twice_is_one_source(project, feed_server):
    make_issue(project)
    items = [
        guid_item("Story about procurement reform", "urn:1", "https://a.org/s1?utm_source=rss"),
        guid_item("Story about procurement reform (updated)", "urn:2", "https://a.org/s1/#top"),
    ]
    add_feed(project, feed_server, "A", "news", Route(rss(items)))
    cli(project, "collect", "2026-Q4")
    (name,) = inbox_files(project)
    text = (project / "issues" / "2026-Q4" / "inbox" / name).read_text()
    assert "sources:" not in text
    # With a second feed, each feed is listed once.
    other = [guid_item("Other title", "x", "https://a.org/s1")]
    add_feed(project, feed_server, "B", "news", Route(rss(other)))
    project.joinpath("issues", "2026-Q4", "inbox", name).unlink()
    project.joinpath("contacts.db").unlink()
    for feed in ("A", "B"):
        cli(
            project,
            "feeds",
            "add",
            feed_server.url(f"/{feed}"),
            "--section",
            "news",
            "--name",
            feed,
            "--allow-private",
        )
    cli(project, "collect", "2026-Q4")
    (name,) = inbox_files(project)
    text = (project / "issues" / "2026-Q4" / "inbox" / name).read_text()
    assert text.split("sources:\n")[1].split("---")[0] == (
        "- name: A\n  link: https://a.org/s1\n- name: B\n  link: https://a.org/s1\n"
    )
