"""newsletter.issue.load: an issue folder into an Issue, in reading order, every problem reported."""

from __future__ import annotations

from helpers import GOOD_ITEM, cli, item, make_issue


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


def test_a_deeply_nested_editors_note_is_flattened_with_a_warning_naming_it(project):
    folder = make_issue(project, items={"good.md": GOOD_ITEM})
    (folder / "intro.md").write_text("Dear colleagues, " + "<em>" * 10_000 + "welcome.\n")
    result = cli(project, "check", "2026-Q4")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "issues/2026-Q4/intro.md:1: warning: the editor's note: tags nested more than 32 deep "
        "were unwrapped. Simplify its formatting and shorten it (see Limits in the README)."
    )
