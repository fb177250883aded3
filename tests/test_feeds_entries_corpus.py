"""newsletter.feeds.entries on the shared corpus: ~190 real-world and test feeds, parsed and collected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import CORPUS, FeedServer, Route, cli, make_issue

from newsletter.config import load_settings
from newsletter.feeds.entries import parse_raw
from newsletter.issue.items import load_item

FEEDS = CORPUS / "feeds"
FILES = sorted(p for p in FEEDS.rglob("*") if p.is_file()) if FEEDS.is_dir() else []
# The header comment of feedparser's own test files: HTTP headers and the expectation.
_HEADER = re.compile(r"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.M)
_EXPECT = re.compile(r"^Expect:\s*(.*?)\s*$", re.M)
EXPECTED = [
    (p, m[1])
    for p in FILES
    if "feedparser" in p.parts
    if (m := _EXPECT.search(p.read_bytes()[:4000].decode("latin-1")))
]
KNOWN = {
    **{
        f"illformed/chardet/{n}.xml": "guessing an undeclared encoding needs chardet, "
        "feedparser's optional helper, which is not installed"
        for n in ("big5", "gb2312", "koi8r", "shiftjis", "windows1255")
    },
    "wellformed/rss/item_description_not_a_doctype.xml": "written for no document URI; "
    "given one, feedparser resolves href='foo' against it",
    **{
        name: "feedparser's own sanitiser rewrites this markup; it is off, since nh3 "
        "(sanitize.clean_html) is the one allowlist. The inbox files are checked instead."
        for name in ("encoding/bozo_linenoise.xml", "wellformed/namespace/rss2.0mathml.xml")
    },
}
SANITIZER = (
    "these expectations test feedparser's own sanitiser, which is off: nh3 "
    "(sanitize.clean_html) is the one allowlist, and it drops script, style and "
    "the like with their content. The hostile part is checked absent from the inbox "
    "files in test_the_whole_corpus_through_collect."
)
# Markup that must never reach an inbox file, whatever the feed.
HOSTILE_TAGS = re.compile(
    r"<(script|iframe|object|embed|applet|style|form|svg|math)\b"
    r"|<[^>]*\s(on\w+|style)\s*=|(javascript|vbscript|data):|expression\(",
    re.I,
)


def headers(path: Path) -> dict[str, str]:
    head = path.read_bytes()[:4000].decode("latin-1")
    return {k.lower(): v for k, v in _HEADER.findall(head)}


def rel(path: Path) -> str:
    return str(path.relative_to(FEEDS))


@pytest.mark.parametrize("path,expect", EXPECTED, ids=[rel(p) for p, _ in EXPECTED])
def test_feedparser_expectations(corpus, path, expect):
    """What our parse sees matches each file's Expect line (feedparser's reference)."""
    key = str(path.relative_to(FEEDS / "feedparser"))
    # feedparser's own test server served the files at this document URI.
    result = parse_raw(path.read_bytes(), headers(path), f"http://127.0.0.1:8097/tests/{key}")
    held = eval(expect, {}, result)
    if not held and (key in KNOWN or key.startswith("wellformed/sanitize/")):
        pytest.xfail(KNOWN.get(key, SANITIZER))
    assert held, expect


def test_the_whole_corpus_through_collect(corpus, project):
    """Each feed gives clean candidates or one warning line; never a traceback."""
    folder = make_issue(project, items={})
    toml = folder / "issue.toml"
    toml.write_text(toml.read_text() + "window = { from = 1990-01-01, to = 2030-12-31 }\n")
    with FeedServer() as server:
        for n, path in enumerate(FILES):
            got = headers(path)
            server.routes[f"/{n}"] = Route(
                path.read_bytes(),
                headers={
                    "Content-Type": got.get("content-type", "application/xml"),
                    **{k: v for k, v in got.items() if k != "content-type"},
                },
            )
            result = cli(
                project,
                "feeds",
                "add",
                server.url(f"/{n}"),
                "--section",
                "news",
                "--name",
                rel(path),
            )
            assert result.exit_code == 0, result.output
        result = cli(project, "collect", "2026-Q4")
    assert result.exit_code == 0 and "Traceback" not in result.output
    warned = [line.split(": ", 2)[1] for line in result.stderr.splitlines()]
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
    assert len(warned) == len(set(warned)), "a feed warned twice"
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()[2:]
        if line.split() and line.split()[0] in {rel(p) for p in FILES}
    }
    assert len(rows) == len(FILES)
    for name, (status, *_) in rows.items():
        assert (status == "ok") == (name not in warned), name

    sections = load_settings(project).section_keys
    files = sorted((folder / "inbox").glob("*.md"))
    assert len(files) > 300
    by_feed: dict[str, list[str]] = {}
    for path in files:
        item, problems = load_item(path, path.name, sections)
        assert item is not None and not [p for p in problems if p.severity == "error"], problems
        text = path.read_text(encoding="utf-8")
        assert not HOSTILE_TAGS.search(text.split("\n---\n", 1)[1]), path.name
        feed = dict(item.extra)["feed"]
        by_feed.setdefault(feed, []).append(text)
    # Every feed feedparser finds entries in counted them (new, duplicate or outside the
    # window), unless it warned: nothing is dropped silently.
    urls = {rel(p): server.url(f"/{n}") for n, p in enumerate(FILES)}
    for path in FILES:
        parsed = parse_raw(path.read_bytes(), headers(path), urls[rel(path)])
        if parsed.entries and rel(path) not in warned:
            assert sum(map(int, rows[rel(path)][1:4])) > 0, rel(path)
    # The sanitiser cases: the hostile part is absent, the safe part is kept.
    for path in FILES:
        if "sanitize" in path.parts and urls[rel(path)] in by_feed:
            for text in by_feed[urls[rel(path)]]:
                assert not HOSTILE_TAGS.search(text), rel(path)
                assert "alert(" not in text and "evil" not in text.lower(), rel(path)
