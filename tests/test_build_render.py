"""newsletter.build.render: the text part, house and issue templates, template and MJML errors."""

from __future__ import annotations

import re

import pytest
from helpers import cli, item, make_issue


def test_text_part_holds_every_title_and_link_unbroken(project):
    long_url = "https://example.org/" + "a-very-long-path-segment/" * 5 + "end"
    make_issue(
        project,
        items={
            "one.md": item(
                "First item with a rather long title that will need wrapping at "
                "seventy-eight columns for sure"
            ),
            "two.md": item("Second", link=long_url),
            "three.md": item("Third", section="events"),
        },
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    text = (project / "issues/2026-Q4/build/email.txt").read_text()
    flat = " ".join(text.split())
    for title in ("First item with a rather long title", "Second", "Third"):
        assert title in flat
    assert f"] {long_url}\n" in text  # listed whole, never split
    assert "https://example.org/Third" in text
    for line in text.splitlines():
        assert len(line) <= 78 or line.split()[-1].startswith("https://"), line
    assert "Events & training" in text and "&amp;" not in text


def test_issue_template_overrides_house_template(project):
    folder = make_issue(project)
    (folder / "templates").mkdir()
    house = (project / "templates/_footer.mjml.j2").read_text()
    (folder / "templates/_footer.mjml.j2").write_text(
        house.replace(
            "<p>{{ settings.from_name }},", "<p>Special edition footer. {{ settings.from_name }},"
        )
    )
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert "Special edition footer." in (folder / "build/email.html").read_text()
    other = make_issue(project, "2027-Q1")
    assert cli(project, "build", "2027-Q1").exit_code == 0
    assert "Special edition footer." not in (other / "build/email.html").read_text()


def test_template_error_names_template_and_line(project):
    make_issue(project)
    path = project / "templates/_toc.mjml.j2"
    lines = path.read_text().splitlines()
    lines[3] = "      <h2>{{ no_such_variable }}</h2>"
    path.write_text("\n".join(lines) + "\n")
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 1
    assert result.output == (
        "Error: templates/_toc.mjml.j2:4: 'no_such_variable' is undefined. Fix the template.\n"
    )


def test_template_syntax_error(project):
    make_issue(project)
    (project / "templates/_toc.mjml.j2").write_text("line one\n{% if %}\n")
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.startswith("Error: templates/_toc.mjml.j2:2: ")


def test_mjml_error_points_at_template_line(project):
    make_issue(project)
    path = project / "templates/_intro.mjml.j2"
    path.write_text(path.read_text().replace("  </mj-column>\n", "", 1))
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.startswith("Error: templates/_intro.mjml.j2:"), result.output
    assert "MJML error" in result.output
    assert not (project / "issues/2026-Q4/build/email.html").exists()
    assert (project / "issues/2026-Q4/build/email.mjml").exists()  # kept for debugging


@pytest.mark.parametrize(
    ("language", "direction"), [("en", "ltr"), ("ar-EG", "rtl"), ("fa", "rtl")]
)
def test_the_email_and_web_page_state_the_direction_of_the_language(project, language, direction):
    """Found: dir="auto" lets a client guess from the first letters (a name, a number)."""
    path = project / "pyproject.toml"
    text = re.sub(r'(?m)^language = ".*"\n', "", path.read_text())
    path.write_text(
        text.replace("[tool.newsletter]\n", f'[tool.newsletter]\nlanguage = "{language}"\n', 1)
    )
    make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    build = project / "issues/2026-Q4/build"
    for name in ("email.html", "web.html"):
        head = re.search(r"<html[^>]*>", (build / name).read_text())[0]
        assert f'lang="{language}"' in head and f'dir="{direction}"' in head, (name, head)


URL = "https://example.org/" + "segment/" * 10  # 100 characters
ADDRESS = "x" * 40 + "@" + "d" * 60 + ".org"


@pytest.mark.parametrize(
    ("line", "lines"),
    [
        ("Dear Jane Doe,", ["Dear Jane Doe,"]),  # fits: as it is, spacing kept
        ("Dear  Jane,", ["Dear  Jane,"]),
        ("Dear " + "Ann " * 20 + "Lee,", ["Dear" + " Ann" * 18, "Ann Ann Lee,"]),
        ("Dear " + "A" * 100 + ",", ["Dear", "A" * 78, "A" * 22 + ","]),  # cut: no line fits it
        ("Unsubscribe: " + URL, ["Unsubscribe:", URL]),  # a URL is never cut
        (ADDRESS, [ADDRESS]),  # nor an address
        ("  " + "word " * 20, ["  " + "word " * 14 + "word", "  " + "word " * 4 + "word"]),
    ],
)
def test_a_line_is_wrapped_only_when_it_does_not_fit(line, lines):
    """Issue 11: `send` puts a long name into the greeting; the line is laid out again."""
    from newsletter.build.render import fit

    assert fit(line).split("\n") == lines


def test_a_long_word_in_the_text_part_is_cut_and_a_url_is_not(project):
    word = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
    make_issue(project, items={"one.md": item(f"The {word} report", link=URL * 2)})
    assert cli(project, "build", "2026-Q4").exit_code == 0
    lines = (project / "issues/2026-Q4/build/email.txt").read_text().splitlines()
    assert max(len(line) for line in lines if "https://" not in line) <= 78
    assert "The" in lines and word[:78] in lines and f"[1] {URL * 2}" in lines
