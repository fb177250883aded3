"""newsletter.issue.scaffold: `newsletter new` makes an issue that passes check; never overwrites."""

from __future__ import annotations

import pytest
from helpers import cli, make_issue, run_with_full_disk

from newsletter.issue.scaffold import NOTE, PLACEHOLDERS, PREHEADER, SUMMARY, TITLE

# What `check` says of an issue just made by `new`: it passes, with one warning per
# placeholder left.
FRESH = (
    "issues/{id}/issue.toml:7: warning: the preheader is still the example newsletter new "
    "wrote. Write this issue's own; a real send refuses until then.\n"
    "issues/{id}/intro.md:2: warning: the editor's note is still the example newsletter new "
    "wrote. Write your own; a real send refuses until then.\n"
    "issues/{id}/items/example.md:2: warning: the item's title is still the example "
    "newsletter new wrote. Write a real item, or delete this file; a real send refuses "
    "until then.\n"
    "issues/{id}/items/example.md:9: warning: the item's summary is still the example "
    "newsletter new wrote. Write a real item, or delete this file; a real send refuses "
    "until then.\n"
    "issues/{id}: 1 item in 1 section, 4 warnings.\n"
)


def test_new_issue_passes_check(project):
    make_issue(project, "2026-Q4")  # number 7
    result = cli(project, "new", "2027-Q1")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Created issues/2027-Q1/: issue.toml, intro.md, items/example.md\n"
        "Next: add items to issues/2027-Q1/items/, then: newsletter check 2027-Q1\n"
    )
    toml = (project / "issues/2027-Q1/issue.toml").read_text()
    assert "number = 8\n" in toml and "date = 2027-03-15\n" in toml
    assert 'title = "First quarter 2027"' in toml
    check = cli(project, "check", "2027-Q1")
    assert check.exit_code == 0, check.output
    assert check.output == FRESH.format(id="2027-Q1")
    assert cli(project, "build", "2027-Q1").exit_code == 0


def test_new_writes_a_draft(project):
    import tomllib

    assert cli(project, "new", "2027-Q1").exit_code == 0
    toml = tomllib.loads((project / "issues/2027-Q1/issue.toml").read_text(encoding="utf-8"))
    assert toml["draft"] is True


def test_the_intro_does_not_greet(project):
    """The template greets each reader by name; a greeting in the note made two."""
    assert cli(project, "new", "2027-Q1").exit_code == 0
    intro = (project / "issues/2027-Q1/intro.md").read_text(encoding="utf-8")
    assert intro == f"Welcome to this issue of *The UN-Business Focal Point*.\n{NOTE}\n"
    assert "Dear" not in intro


def test_each_placeholder_is_written_once_on_one_line(project):
    """The list `check` scans for is the text `new` writes: one list, one place."""
    assert cli(project, "new", "2027-Q1").exit_code == 0
    folder = project / "issues/2027-Q1"
    lines = [
        line
        for name in ("issue.toml", "intro.md", "items/example.md")
        for line in (folder / name).read_text(encoding="utf-8").splitlines()
    ]
    for phrase in PLACEHOLDERS:
        assert sum(phrase in line for line in lines) == 1, phrase


def test_check_is_quiet_once_every_placeholder_is_replaced(project):
    assert cli(project, "new", "2027-Q1").exit_code == 0
    folder = project / "issues/2027-Q1"
    for name, old, new in (
        ("issue.toml", PREHEADER, "Partnership screening, a new toolkit, and the spring events."),
        ("intro.md", NOTE, "This quarter starts with a new screening toolkit."),
        ("items/example.md", TITLE, "A screening toolkit"),
        ("items/example.md", SUMMARY, "The toolkit covers the *first* look at a company."),
    ):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    check = cli(project, "check", "2027-Q1")
    assert check.output == "issues/2027-Q1: 1 item in 1 section, no problems.\n"


def test_new_refuses_to_overwrite(project):
    folder = make_issue(project)
    before = (folder / "issue.toml").read_bytes()
    result = cli(project, "new", "2026-Q4")
    assert result.exit_code == 1
    assert result.output == "Error: issues/2026-Q4: already exists. Choose another ID or edit it.\n"
    assert (folder / "issue.toml").read_bytes() == before


def test_new_with_a_free_form_id_gets_a_window(project):
    result = cli(project, "new", "special-edition")
    assert result.exit_code == 0, result.output
    assert "window = { from = " in (project / "issues/special-edition/issue.toml").read_text()
    check = cli(project, "check", "special-edition")
    assert check.exit_code == 0, check.output


@pytest.mark.parametrize(
    ("issue_id", "date", "title"),
    [
        ("9999-Q4", "9999-12-15", "Fourth quarter 9999"),
        ("0001-Q1", "0001-03-15", "First quarter 1"),
    ],
)
def test_new_at_the_ends_of_the_calendar_passes_check_and_builds(project, issue_id, date, title):
    result = cli(project, "new", issue_id)
    assert result.exit_code == 0, result.output
    toml = (project / "issues" / issue_id / "issue.toml").read_text()
    assert f"date = {date}\n" in toml and f'title = "{title}"' in toml
    check = cli(project, "check", issue_id)
    assert check.output == FRESH.format(id=issue_id)
    assert cli(project, "build", issue_id).exit_code == 0
    assert cli(project, "archive").exit_code == 0


def test_new_with_year_zero_is_one_line(project):
    result = cli(project, "new", "0000-Q1")
    assert (result.exit_code, result.output) == (
        1,
        "Error: 0000-Q1: year 0000 is not a calendar year. "
        "Use a year from 0001 to 9999, such as newsletter new 2026-Q4.\n",
    )
    assert not (project / "issues" / "0000-Q1").exists()


@pytest.mark.parametrize(
    "name", ['The "Focal" Point', "Back\\slash News", "It's \\u00e9 news", "Ünïcode ✓ news"]
)
def test_new_writes_the_house_name_into_issue_toml_escaped(project, name):
    import tomllib

    settings = project / "pyproject.toml"
    text = settings.read_text(encoding="utf-8")
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    settings.write_text(
        text.replace('name = "The UN-Business Focal Point"', f'name = "{escaped}"', 1),
        encoding="utf-8",
    )
    assert cli(project, "new", "2027-Q1").exit_code == 0
    toml = tomllib.loads((project / "issues/2027-Q1/issue.toml").read_text(encoding="utf-8"))
    assert toml["subject"] == f"{name}: First quarter 2027"
    check = cli(project, "check", "2027-Q1")
    assert check.output == FRESH.format(id="2027-Q1")


def test_new_when_issues_is_a_file_is_one_line(project):
    (project / "issues").rmdir()
    (project / "issues").write_text("notes\n", encoding="utf-8")
    result = cli(project, "new", "2027-Q1")
    assert (result.exit_code, result.output) == (
        1,
        "Error: issues: is a file, not a folder. Move it away; new makes each issue's folder in it.\n",
    )
    assert (project / "issues").read_text(encoding="utf-8") == "notes\n"


def test_new_on_a_full_disk_is_one_line_and_leaves_nothing(project):
    run = run_with_full_disk(project, "new", "2027-Q1", max_bytes=64)
    assert (run.returncode, run.stderr) == (
        1,
        "Error: issues/2027-Q1: cannot write it (File too large). The disk is full "
        "(or over a size limit); free some space and run again; nothing there was changed.\n",
    )
    assert list((project / "issues").iterdir()) == []
