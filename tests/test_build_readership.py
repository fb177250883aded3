"""build.readership: with readership = "aggregate" the email's links to other sites go
through serve's /r/ route; the personal links, mailto:, the house's own pages and the
web page keep theirs; with it off the email is exactly as before."""

from __future__ import annotations

import re

import pytest
from helpers import SECRET, cli, make_issue

from newsletter import tokens
from newsletter.build.readership import Links, track

WEB = "https://focalpoint.example.org"
ITEM_LINKS = [f"https://example.org/item-{n}" for n in (4, 1, 2, 3)]  # in the email's order


def setting(root, value: str | None) -> None:
    """Put ``readership = value`` in [tool.newsletter] (None: leave it out)."""
    if value is None:
        return
    path = root / "pyproject.toml"
    text = re.sub(r'\nreadership = "\w+"', "", path.read_text(encoding="utf-8"))
    path.write_text(text.replace("\nweb_url =", f'\nreadership = "{value}"\nweb_url =', 1))


def build(root, value: str | None) -> dict[str, str]:
    setting(root, value)
    folder = root / "issues" / "2026-Q4"
    if not folder.exists():
        make_issue(root)
    result = cli(root, "build", "2026-Q4", "--offline")
    assert result.exit_code == 0, result.output
    names = ("email.html", "email.txt", "web.html", "email.mjml")
    return {name: (folder / "build" / name).read_text(encoding="utf-8") for name in names}


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_off_is_the_default_and_leaves_the_email_byte_identical(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    unset = build(project, None)
    off = build(project, "off")
    assert off == unset
    assert "/r/" not in unset["email.html"] + unset["email.txt"]
    assert [h for h in hrefs(unset["email.html"]) if h.startswith("https://example.org")] == (
        ITEM_LINKS
    )


def test_off_needs_no_secret(project):
    assert "/r/" not in build(project, "off")["email.html"]


def click(href: str) -> tokens.Click | None:
    """What a click link of the build names; each ends with the organisation's marker,
    which `send` fills per recipient."""
    assert href.startswith(f"{WEB}/r/") and href.endswith("%%CLICK_ORG%%"), href
    token = href.removeprefix(f"{WEB}/r/").removesuffix("%%CLICK_ORG%%")
    return tokens.read_click_token(SECRET.encode(), token)


def test_aggregate_sends_each_item_link_through_a_signed_click_link(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    plain = build(project, "off")
    counted = build(project, "aggregate")
    links = hrefs(counted["email.html"])
    clicks = [click(h) for h in links if h.startswith(f"{WEB}/r/")]
    assert clicks == [tokens.Click("2026-Q4", n, url) for n, url in enumerate(ITEM_LINKS, 1)]
    # Everything else is as it was: the personal links, mailto:, the house's own pages.
    kept = [h for h in hrefs(plain["email.html"]) if not h.startswith("https://example.org")]
    assert [h for h in links if not h.startswith(f"{WEB}/r/")] == kept
    assert {"%%UNSUBSCRIBE_URL%%", "%%ENTRY_URL%%", "mailto:partnerships@example.org"} <= set(kept)
    # The text part's link list carries the same click links, in the same numbers.
    listed = re.findall(r"^\[(\d+)\] (\S+)$", counted["email.txt"], re.M)
    assert [(int(n), click(url)) for n, url in listed] == [
        (n, tokens.Click("2026-Q4", n, url)) for n, url in enumerate(ITEM_LINKS, 1)
    ]
    # The web page (and so the archive) keeps the original links.
    assert counted["web.html"] == plain["web.html"]
    assert "/r/" not in counted["web.html"]


def test_the_archive_keeps_the_original_links(project, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    build(project, "aggregate")
    assert cli(project, "publish", "2026-Q4").exit_code == 0
    assert cli(project, "archive").exit_code == 0
    page = (project / "site" / "2026-Q4" / "index.html").read_text(encoding="utf-8")
    assert "/r/" not in page
    for url in ITEM_LINKS:
        assert f'href="{url}"' in page


def test_aggregate_without_a_secret_is_one_line_and_builds_nothing(project):
    setting(project, "aggregate")
    make_issue(project)
    result = cli(project, "build", "2026-Q4", "--offline")
    assert result.exit_code == 1
    assert result.output.startswith("Error: NEWSLETTER_SECRET: not set")
    assert not (project / "issues" / "2026-Q4" / "build" / "email.html").exists()


@pytest.mark.parametrize(
    "html, text, counted",
    [
        (
            '<a href="https://a.org/x?p=1&amp;q=2">',
            "[1] https://a.org/x?p=1&q=2",
            ["https://a.org/x?p=1&q=2"],
        ),
        ('<a href="mailto:x@example.org">', "x@example.org", []),
        ('<a href="https://focalpoint.example.org/2026-Q4/">', "", []),
        ('<a href="https://focalpoint.example.org">', "", []),
        (
            '<a href="https://focalpoint.example.org.evil.test/">',
            "",
            ["https://focalpoint.example.org.evil.test/"],
        ),
        ('<a href="%%UNSUBSCRIBE_URL%%">', "%%UNSUBSCRIBE_URL%%", []),
        # Prose around a URL in the text part stays prose.
        ('<a href="https://a.org/y">', "(see https://a.org/y).", ["https://a.org/y"]),
        # A URL only the text part has is left alone: no link of the HTML to count it as.
        ("", "https://a.org/z", []),
    ],
)
def test_which_links_are_counted(html, text, counted):
    links = Links(SECRET.encode(), "2026-Q4", WEB)
    new_html, new_text = track(html, text, links)
    assert list(links.numbers) == counted
    for url in counted:
        link = links.link(url)
        assert link in new_html
        assert (link in new_text) == (url in text)
    if not counted:
        assert (new_html, new_text) == (html, text)
    else:
        assert new_text.replace(links.link(counted[0]), counted[0]) == text
