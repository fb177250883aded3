"""newsletter.issue.inbox: candidate files, their names, and the inbox listing."""

from __future__ import annotations

import pytest
from helpers import cli, make_issue

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
