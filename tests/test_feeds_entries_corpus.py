"""newsletter.feeds.entries on the shared corpus: ~190 real-world and test feeds, parsed and collected."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from helpers import CORPUS, FeedServer, Route, cli, isolate, make_issue, new_project

from newsletter.config import load_settings
from newsletter.feeds.entries import parse_feed, parse_raw
from newsletter.issue.items import load_item

FEEDS = CORPUS / "feeds"
FILES = sorted(p for p in FEEDS.rglob("*") if p.is_file()) if FEEDS.is_dir() else []
# The header comment of feedparser's own test files: HTTP headers and the expectation.
_HEADER = re.compile(r"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.M)
_EXPECT = re.compile(r"^Expect:\s*(.*?)\s*$", re.M)
SANITIZE = FEEDS / "feedparser" / "wellformed" / "sanitize"
# feedparser's Expect lines under wellformed/sanitize/ test feedparser's own sanitiser,
# which is off: nh3 (sanitize.clean_html) is the one allowlist, and it drops script,
# style and the like with their content. Those files are checked below on what our
# pipeline writes instead (test_a_sanitiser_case_reaches_the_inbox_harmless).
EXPECTED = [
    (p, m[1])
    for p in FILES
    if "feedparser" in p.parts and SANITIZE not in p.parents
    if (m := _EXPECT.search(p.read_bytes()[:4000].decode("latin-1")))
]
# Files whose Expect line our parse cannot meet, and why. Strict: one that starts
# to pass fails the run, so the mark is removed rather than left to hide a change;
# only an AssertionError (the Expect line not holding) counts as the known failure.
NO_CHARDET = (
    importlib.util.find_spec("cchardet") is None and importlib.util.find_spec("chardet") is None
)
KNOWN = {
    **{
        f"illformed/chardet/{n}.xml": pytest.mark.xfail(
            NO_CHARDET,
            reason="guessing an undeclared encoding needs chardet, feedparser's optional "
            "helper, which is not installed",
            raises=AssertionError,
            strict=True,
        )
        for n in ("big5", "gb2312", "koi8r", "shiftjis", "windows1255")
    },
    "wellformed/rss/item_description_not_a_doctype.xml": pytest.mark.xfail(
        reason="written for no document URI; given one, feedparser resolves href='foo' against it",
        raises=AssertionError,
        strict=True,
    ),
    **{
        name: pytest.mark.xfail(
            reason="feedparser's own sanitiser rewrites this markup; it is off, since nh3 "
            "(sanitize.clean_html) is the one allowlist",
            raises=AssertionError,
            strict=True,
        )
        for name in ("encoding/bozo_linenoise.xml", "wellformed/namespace/rss2.0mathml.xml")
    },
}
# Markup that must never reach an inbox file, whatever the feed.
HOSTILE_TAGS = re.compile(
    r"<(script|iframe|object|embed|applet|style|form|svg|math)\b"
    r"|<[^>]*\s(on\w+|style)\s*=|(javascript|vbscript|data):|expression\(",
    re.I,
)
# What the sanitiser cases hide in scripts, style and comments: never written either.
SCRIPT_TEXT = re.compile(r"alert\(|location\.href|executeMe|url\(|evil", re.I)


def headers(path: Path) -> dict[str, str]:
    head = path.read_bytes()[:4000].decode("latin-1")
    return {k.lower(): v for k, v in _HEADER.findall(head)}


def rel(path: Path) -> str:
    return str(path.relative_to(FEEDS))


def key(path: Path) -> str:
    return str(path.relative_to(FEEDS / "feedparser"))


@pytest.mark.parametrize(
    "path,expect",
    [pytest.param(p, e, id=rel(p), marks=KNOWN.get(key(p), ())) for p, e in EXPECTED],
)
def test_feedparser_expectations(corpus, path, expect):
    """What our parse sees matches each file's Expect line (feedparser's reference)."""
    # feedparser's own test server served the files at this document URI.
    result = parse_raw(path.read_bytes(), headers(path), f"http://127.0.0.1:8097/tests/{key(path)}")
    assert eval(expect, {}, result), expect


_CODE = re.compile(r"^(`{3,})\n.*?^\1$|(`+)[^`]*?\2", re.M | re.S)


def outside_code(markdown: str) -> str:
    """The Markdown with code blocks and code spans taken out."""
    return _CODE.sub(" ", markdown)


@dataclass(frozen=True)
class Collected:
    """The whole corpus collected once: the project, the command's result, each file's URL."""

    project: Path
    result: Result
    urls: dict[str, str]

    def written(self, path: Path) -> list[str]:
        """The inbox files collected from one corpus file."""
        feed = re.compile(rf"^feed: {re.escape(self.urls[rel(path)])}$", re.M)
        inbox = self.project / "issues" / "2026-Q4" / "inbox"
        texts = (p.read_text(encoding="utf-8") for p in sorted(inbox.glob("*.md")))
        return [text for text in texts if feed.search(text.split("\n---\n", 1)[0])]


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Collected:
    """Every corpus file served on 127.0.0.1, registered as a feed, and collected once."""
    if not FEEDS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (set NEWSLETTER_CORPUS)")
    root = tmp_path_factory.mktemp("corpus")
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, root)  # a module's fixture runs before the autouse one
        project = new_project(root / "project")
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
                    "--allow-private",
                )
                assert result.exit_code == 0, result.output
            result = cli(project, "collect", "2026-Q4")
        urls = {rel(p): server.url(f"/{n}") for n, p in enumerate(FILES)}
    return Collected(project, result, urls)


def test_the_whole_corpus_through_collect(collected):
    """Each feed gives clean candidates or one warning line; never a traceback."""
    project, result, urls = collected.project, collected.result, collected.urls
    folder = project / "issues" / "2026-Q4"
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
    for path in files:
        item, problems = load_item(path, path.name, sections)
        assert item is not None and not [p for p in problems if p.severity == "error"], problems
        text = path.read_text(encoding="utf-8")
        # Markdown now: inside code, "<iframe" is words about markup, shown as written.
        assert not HOSTILE_TAGS.search(outside_code(text.split("\n---\n", 1)[1])), path.name
        assert not HOSTILE_TAGS.search(item.summary_html), path.name
    # Every feed feedparser finds entries in counted them (new, duplicate or outside the
    # window), unless it warned: nothing is dropped silently.
    for path in FILES:
        parsed = parse_raw(path.read_bytes(), headers(path), urls[rel(path)])
        if parsed.entries and rel(path) not in warned:
            assert sum(map(int, rows[rel(path)][1:4])) > 0, rel(path)


SANITIZED = sorted(SANITIZE.glob("*.xml")) if SANITIZE.is_dir() else []
# The harmless part of each sanitiser case, and where it must survive: the inbox
# file collected from it (its Markdown body follows "---\n"), or (a feed's own title is never written) the title that
# parse_feed reads. Nested CDATA leaves only "]]>", and "<!DOCTYPE ~" in a title
# is dropped as a tag; an entry that is only an image without alt text (the onclick,
# onerror and Blogger cases) is dropped whole, handler and all: nothing is written.
NOTHING_WRITTEN = {
    "blogger_dollar_sign_in_attribute.xml",
    "entry_content_onclick.xml",
    "entry_content_onerror.xml",
}
KEPT_IN_INBOX = {
    "entry_content_crazy.xml": "Did The Javascript Execute? I will execute here",
    "entry_content_embed.xml": "safe **description**",
    "entry_content_iframe.xml": "---\nsafe\n",  # the rest is inside the iframe
    "entry_content_object.xml": "---\nsafe\n",  # the rest is inside the unclosed object
    "entry_content_script.xml": "---\nsafe description\n",
    "entry_content_script_cdata.xml": "---\nsafe description\n",
    "entry_content_script_inline.xml": "---\nsafe description\n",
    "entry_content_style.xml": "[never trust your upstream platypus](",
    "entry_content_style_tag.xml": "safe **description**",
    "entry_summary_script_base64.xml": "---\nsafe description\n",
    "item_content_encoded_iframe.xml": "---\nsafe\n",  # "<iframe ... />" does not close it
    "item_description_iframe.xml": "---\nsafe\n",
    "item_description_script.xml": "---\nsafe description\n",
    "item_xhtml_body_script.xml": "---\nsafe description\n",
    "large_atom_feed_that_needs_css_sanitisation.xml": "title: Невидимая броня для Вашего Nokia 5800",
    "style_background_url.xml": "---\nSome text\n",
    "style_mso_list_l0_level1_lfo1.xml": "---\nSome text\n",
}
KEPT_IN_TITLE = {
    "feed_title_script.xml": "safe description",
    "feed_title_unacceptable_uri.xml": "safe",
    "xml_malicious_comment.xml": "sa",  # "<!-- -- nonwhitespace >" opens a comment to the end
    "xml_unclosed_comment.xml": "safe",
}


@pytest.mark.parametrize("path", SANITIZED, ids=rel)
def test_a_sanitiser_case_reaches_the_inbox_harmless(collected, path):
    """feedparser's sanitiser cases, judged on what we write: no hostile markup, the rest kept."""
    # Every one of these Expect lines starts "not bozo": that half is ours too.
    raw = parse_raw(path.read_bytes(), headers(path), f"http://127.0.0.1:8097/tests/{key(path)}")
    assert not raw.bozo, raw.get("bozo_exception")
    written = collected.written(path)
    parsed = parse_feed(path.read_bytes(), tuple(headers(path).items()), collected.urls[rel(path)])
    assert parsed.error is None, parsed.error
    read = [parsed.title, *(f"{e.title}\n{e.summary}" for e in parsed.entries)]
    for text in written + read:
        assert not HOSTILE_TAGS.search(text), text
        assert not SCRIPT_TEXT.search(text), text
    if path.name in KEPT_IN_INBOX:
        assert any(KEPT_IN_INBOX[path.name] in text for text in written), written
    if path.name in KEPT_IN_TITLE:
        assert parsed.title == KEPT_IN_TITLE[path.name]
    if path.name in NOTHING_WRITTEN:
        assert written == [] and parsed.entries == ()
