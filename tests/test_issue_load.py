"""newsletter.issue.load: an issue folder into an Issue, in reading order, every problem reported."""

from __future__ import annotations

import pytest
from helpers import GOOD_ITEM, cli, cli_within, item, make_issue, special_file


def test_every_problem_is_reported_not_only_the_first(project):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "items" / "a.md").write_text("---\ntitel: x\nsection: news\n---\n")
    (folder / "items" / "b.md").write_text("---\ntitle: y\nsection: nope\n---\n")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "issues/2026-Q4/items/a.md:2: unknown field 'titel'. Did you mean 'title'?",
        "issues/2026-Q4/items/b.md:3: unknown section 'nope'. "
        "Use one of: news, tools, events, spotlight.",
        "Error: 2 errors in issues/2026-Q4; fix them before building. "
        "Fix the lines above and run again.",
    ]


def test_clean_issue_passes(project):
    make_issue(project)
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert result.output == "issues/2026-Q4: 4 items in 4 sections, no problems.\n"


def test_stray_files_and_duplicate_links_are_warnings(project):
    folder = make_issue(
        project, items={"good.md": GOOD_ITEM, "copy.md": GOOD_ITEM.replace("A good", "Same")}
    )
    (folder / "items" / "notes.txt").write_text("not an item")
    (folder / "items" / ".DS_Store").write_bytes(b"\0\1")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "issues/2026-Q4/items/good.md: warning: same link as issues/2026-Q4/items/copy.md. Merge the two items or drop one.",
        "issues/2026-Q4/items/notes.txt: warning: ignored: items must be Markdown files ending in .md. Rename or move it.",
        "issues/2026-Q4: 2 items in 1 section, 2 warnings.",
    ]


def test_sections_in_configured_order_items_by_weight_then_newest(project):
    make_issue(
        project,
        items={
            "a.md": item("Old news", date="2026-10-01"),
            "b.md": item("New news", date="2026-11-01"),
            "c.md": item("Pinned news", date="2026-10-02", weight=-1),
            "d.md": item("An event", section="events"),
        },
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    text = (project / "issues/2026-Q4/build/email.txt").read_text()
    order = [text.index(t) for t in ("NEWS\n", "Pinned news", "New news", "Old news", "EVENTS")]
    assert order == sorted(order)
    assert "TOOLS" not in text  # an empty section is left out


def test_embargoed_item_is_held_back(project):
    make_issue(
        project,
        items={
            "now.md": item("Visible now"),
            "later.md": item("Not yet", extra="embargo: 2999-01-01\n"),
        },
    )
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0
    assert "Held back until 2999-01-01: issues/2026-Q4/items/later.md" in result.output
    html = (project / "issues/2026-Q4/build/email.html").read_text()
    assert "Visible now" in html and "Not yet" not in html


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("fifo", "a FIFO (named pipe)"),
        ("socket", "a socket"),
        ("device", "a device"),
        ("dir", "a folder"),
    ],
)
def test_a_non_regular_file_in_items_is_skipped_with_one_warning(project, kind, what):
    folder = make_issue(project)
    special_file(folder / "items" / "odd.md", kind)
    result = cli_within(30, project, "check", "2026-Q4")
    assert result.exit_code == 0
    assert result.output == (
        f"issues/2026-Q4/items/odd.md: warning: is {what}, not a file; skipped. "
        "Move it out of items/.\n"
        "issues/2026-Q4: 4 items in 4 sections, 1 warning.\n"
    )


def test_an_item_over_1_mb_is_refused_with_one_line(project):
    folder = make_issue(project)
    (folder / "items" / "big.md").write_text(item("Big") + "word " * 210_000, encoding="utf-8")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "issues/2026-Q4/items/big.md: is larger than 1 MB; an item is a short summary. "
        "Cut it down, or move it out."
    )


@pytest.mark.parametrize(
    ("name", "shown", "better"),
    [
        (
            "evil\nBEGIN:VEVENT\nSUMMARY:injected.md",
            "evil\\u000aBEGIN:VEVENT\\u000aSUMMARY:injected.md",
            "evil-begin-vevent-summary-injected.md",
        ),
        ("a" * 243 + ".md", "a" * 59 + "…", "a" * 60 + ".md"),
        ("Café crème.md", "Café crème.md", "cafe-creme.md"),
        ("two words.md", "two words.md", "two-words.md"),
        ("a;b.md", "a;b.md", "a-b.md"),
    ],
)
def test_check_refuses_an_unsafe_item_file_name_with_the_rename_to_make(
    project, name, shown, better
):
    folder = make_issue(project)
    (folder / "items" / name).write_text(item("Odd name"), encoding="utf-8")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"issues/2026-Q4/items/{shown}: the file name may have only letters, digits, '-', '_' "
        "and '.', and at most 100 characters (it becomes a web address and a calendar UID). "
        f"Rename it to {better}."
    )


def test_a_safe_name_of_100_characters_passes(project):
    folder = make_issue(project)
    (folder / "items" / ("b" * 97 + ".md")).write_text(item("Long name"), encoding="utf-8")
    assert cli(project, "check", "2026-Q4").exit_code == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "issue.toml",
            "issues/2026-Q4/issue.toml: is a FIFO (named pipe), not a file. "
            "Replace it with issue.toml as newsletter new writes it.",
        ),
        (
            "intro.md",
            "issues/2026-Q4/intro.md: is a FIFO (named pipe), not a file. "
            "Write the note in a text file.",
        ),
    ],
)
def test_a_fifo_for_issue_toml_or_intro_is_one_line_not_a_hang(project, name, message):
    folder = make_issue(project)
    (folder / name).unlink()
    special_file(folder / name, "fifo")
    result = cli_within(30, project, "check", "2026-Q4")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == message


def test_an_issue_toml_over_1_mb_is_one_line(project):
    folder = make_issue(project)
    with open(folder / "issue.toml", "a", encoding="utf-8") as fh:
        fh.write("# padding\n" * 110_000)
    result = cli(project, "check", "2026-Q4")
    assert result.stderr.splitlines()[0] == (
        "issues/2026-Q4/issue.toml: is larger than 1,048,576 bytes. "
        "Replace it with issue.toml as newsletter new writes it."
    )


def test_a_deeply_nested_editors_note_is_flattened_with_a_warning_naming_it(project):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "intro.md").write_text("Dear colleagues, " + "<em>" * 10_000 + "welcome.\n")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "issues/2026-Q4/intro.md:1: warning: the editor's note: tags nested more than 32 deep "
        "were unwrapped. Simplify its formatting and shorten it (see Limits in the README)."
    )


def test_a_placeholder_copied_into_another_item_is_a_warning_on_its_line(project):
    """The scan is of every item, not only example.md: a contributor copies the example."""
    copied = GOOD_ITEM + "Write two or three sentences of summary in Markdown.\n"
    folder = make_issue(project, items={"copied.md": copied})
    result = cli(project, "check", "2026-Q4")
    assert (result.exit_code, result.output) == (
        0,
        "issues/2026-Q4/items/copied.md:8: warning: the item's summary is still the "
        "example newsletter new wrote. Write a real item, or delete this file; a real send "
        "refuses until then.\n"
        "issues/2026-Q4: 1 item in 1 section, 1 warning.\n",
    )
    assert folder.is_dir()
