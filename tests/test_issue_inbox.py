"""newsletter.issue.inbox: candidate files, their names, and the inbox listing."""

from __future__ import annotations

import json

import pytest
from helpers import cli, cli_within, item, make_issue, special_file

from newsletter.config import load_settings
from newsletter.issue import list_items
from newsletter.issue.inbox import Keys, read_keys, slugify


@pytest.mark.parametrize(
    "title,slug",
    [
        ("UN Supplier Code of Conduct: what's new?", "un-supplier-code-of-conduct-what-s-new"),
        ("Épargne & Développement", "epargne-developpement"),
        ("a" * 30 + " " + "b" * 40, "a" * 30),
    ],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_slugify_non_latin_titles_are_stable_and_distinct():
    assert slugify("Новости") == slugify("Новости") != slugify("Здравствуй")
    assert slugify("Новости").startswith("entry-")


def test_inbox_shows_a_broken_candidate(project):
    folder = make_issue(project)
    (folder / "inbox").mkdir()
    (folder / "inbox" / "broken.md").write_text("---\ntitle: [unclosed\n---\n")
    result = cli(project, "inbox", "2026-Q4")
    assert result.stderr.startswith("issues/2026-Q4/inbox/broken.md:3: invalid YAML")
    assert result.stdout.splitlines()[1].split() == [
        "broken",
        "-",
        "-",
        "-",
        "(cannot",
        "be",
        "read;",
        "see",
        "above)",
    ]
    empty = make_issue(project, "2027-Q1", items={})
    assert cli(project, "inbox", empty.name).stdout == (
        "issues/2027-Q1/inbox/: no candidates. Run: newsletter collect 2027-Q1\n"
    )


@pytest.mark.parametrize(("kind", "what"), [("fifo", "a FIFO (named pipe)"), ("dir", "a folder")])
def test_inbox_skips_a_non_regular_candidate_with_one_warning(project, kind, what):
    folder = make_issue(project)
    (folder / "inbox").mkdir()
    special_file(folder / "inbox" / "odd.md", kind)
    result = cli_within(30, project, "inbox", "2026-Q4")
    assert (result.exit_code, result.stderr) == (
        0,
        f"issues/2026-Q4/inbox/odd.md: warning: is {what}, not a file; skipped. "
        "Move it out of inbox/.\n",
    )
    assert (
        result.stdout == "issues/2026-Q4/inbox/: no candidates. Run: newsletter collect 2026-Q4\n"
    )


def test_write_candidates_on_a_full_disk_is_one_line_and_leaves_no_temporary_file(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "issues" / "2026-Q4"
    folder.mkdir(parents=True)
    script = f"""
import datetime, resource, signal
from pathlib import Path
from newsletter.errors import NewsletterError
from newsletter.issue.inbox import Candidate, write_candidates
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
small = Candidate("Small", "news", None, datetime.date(2026, 10, 5), "F", "u", None, "x")
big = Candidate("Big", "news", None, datetime.date(2026, 10, 5), "F", "u", None, "y" * 9000)
try:
    write_candidates(Path({str(folder)!r}), [small, big], "2026-10-05T00:00:00+00:00")
except NewsletterError as exc:
    print(exc.message)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (run.stdout, run.stderr) == (
        "issues/2026-Q4/inbox: cannot write it (File too large). The disk is full (or over a "
        "size limit); free some space and run again; the candidates written so far are whole.\n",
        "",
    )
    assert sorted(p.name for p in (folder / "inbox").iterdir()) == ["small.md"]


def test_keys_of_a_file_with_yaml_aliases_are_empty_not_expanded(tmp_path):
    """A kilobyte of nested aliases expands to 43 million strings if followed."""
    laughs = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(97 + n)}: &{chr(97 + n)} [{','.join(['*' + chr(96 + n)] * 9)}]\n"
        for n in range(1, 9)
    )
    path = tmp_path / "laughs.md"
    path.write_text(f"---\ntitle: T\nlink: https://e.org/x\n{laughs}title2: *i\n---\nx\n")
    assert read_keys(path) == Keys(frozenset(), None, None, "")


def test_keys_of_a_file_with_an_unmakeable_tag_are_read(tmp_path):
    """``!!bool maybe`` raised KeyError from the YAML constructor, out of `collect`."""
    path = tmp_path / "tag.md"
    path.write_text("---\ntitle: T\nlink: https://e.org/x\nundated: !!bool maybe\n---\nx\n")
    assert read_keys(path) == Keys(frozenset({"https://e.org/x"}), None, None, "T")


def test_inbox_as_json(project):
    folder = make_issue(project)
    (folder / "inbox").mkdir()
    (folder / "inbox" / "broken.md").write_text("---\ntitle: [unclosed\n---\n")
    (folder / "inbox" / "fête.md").write_text(
        "---\ntitle: Journée « portes ouvertes »\nsection: events\ndate: 2026-11-02\n"
        "source: UNESCO\n---\nBody.\n"
    )
    special_file(folder / "inbox" / "odd.md", "dir")
    result = cli(project, "inbox", "2026-Q4", "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "{\n"
        '  "candidates": [\n'
        "    {\n"
        '      "name": "fête",\n'
        '      "section": "events",\n'
        '      "date": "2026-11-02",\n'
        '      "source": "UNESCO",\n'
        '      "contributor": null,\n'
        '      "organisation": null,\n'
        '      "title": "Journée « portes ouvertes »",\n'
        '      "problems": [],\n'
        '      "first_seen": null,\n'
        '      "outside_window": false\n'
        "    },\n"
        "    {\n"
        '      "name": "broken",\n'
        '      "section": null,\n'
        '      "date": null,\n'
        '      "source": null,\n'
        '      "contributor": null,\n'
        '      "organisation": null,\n'
        '      "title": null,\n'
        '      "problems": [\n'
        '        "issues/2026-Q4/inbox/broken.md:3: invalid YAML front matter (did not find '
        "expected ',' or ']'). Check quotes, colons and indents.\"\n"
        "      ],\n"
        '      "first_seen": null,\n'
        '      "outside_window": false\n'
        "    }\n"
        "  ],\n"
        '  "skipped": [\n'
        '    "issues/2026-Q4/inbox/odd.md: warning: is a folder, not a file; skipped. '
        'Move it out of inbox/."\n'
        "  ]\n"
        "}\n"
    )
    empty = make_issue(project, "2027-Q1", items={})
    assert cli(project, "inbox", empty.name, "--json").stdout == (
        '{\n  "candidates": [],\n  "skipped": []\n}\n'
    )


def _candidate(folder, name, *fields):
    (folder / "inbox").mkdir(exist_ok=True)
    head = "".join(f"{f}\n" for f in ("title: T", "section: news", *fields))
    (folder / "inbox" / f"{name}.md").write_text(f"---\n{head}---\nText.\n")


def test_inbox_flags_undated_and_out_of_window_candidates(project):
    folder = make_issue(project, items={})
    stamp = "collected_at: '2026-12-01T09:00:00+00:00'"
    _candidate(folder, "new-undated", "undated: true", stamp)  # as collect writes it now
    _candidate(folder, "old-undated", "date: 2026-12-01", "undated: true", stamp)  # before
    _candidate(folder, "dated-by-hand", "date: 2026-11-20", "undated: true", stamp)
    _candidate(folder, "last-year", "date: 2025-12-01", stamp)
    _candidate(folder, "in-window", "date: 2026-10-05", stamp)
    result = cli(project, "inbox", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:6] == [
        "NAME           SECTION  DATE                            SOURCE  TITLE",
        "new-undated    news     undated, first seen 2026-12-01  -       T",
        "old-undated    news     undated, first seen 2026-12-01  -       T",
        "dated-by-hand  news     2026-11-20                      -       T",
        "in-window      news     2026-10-05                      -       T",
        "last-year      news     2025-12-01, outside the window  -       T",
    ]
    found = json.loads(cli(project, "inbox", "2026-Q4", "--json").stdout)["candidates"]
    assert [(c["name"], c["date"], c["first_seen"], c["outside_window"]) for c in found] == [
        ("new-undated", None, "2026-12-01", False),
        ("old-undated", None, "2026-12-01", False),
        ("dated-by-hand", "2026-11-20", None, False),
        ("in-window", "2026-10-05", None, False),
        ("last-year", "2025-12-01", None, True),
    ]


def test_list_items_lists_items_as_the_inbox_lists_candidates(project):
    folder = make_issue(
        project,
        items={
            "old-news.md": item("Old news", date="2026-10-02"),
            "new-news.md": item("New news", date="2026-10-09"),
            "a-tool.md": item("A tool", section="tools"),
            "early.md": item("Early", date="2026-01-05"),
            "broken.md": "---\ntitle: [\n---\n",
        },
    )
    listed, skipped = list_items(load_settings(project), folder)
    assert [(c.name, c.when, len(c.problems)) for c in listed] == [
        ("new-news", "2026-10-09", 0),
        ("old-news", "2026-10-02", 0),
        ("early", "2026-01-05, outside the window", 0),
        ("a-tool", "2026-10-05", 0),
        ("broken", "-", 1),
    ]
    assert skipped == []
