"""`newsletter build`: outputs, ordering, determinism, overrides and failures."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import make_issue

from newsletter.cli import main

OUTPUTS = ["email.html", "email.mjml", "email.txt", "report.json", "web.html"]  # sorted


def build(project, *args):
    return CliRunner().invoke(main, ["--root", str(project), "build", "2026-Q4", *args])


def item(title, section="news", date="2026-10-05", weight=None, link=None, extra=""):
    lines = [f"title: {title}", f"section: {section}", f"date: {date}"]
    lines += [f"link: {link or 'https://example.org/' + title.replace(' ', '-')}"]
    lines += [f"weight: {weight}"] if weight is not None else []
    return "---\n" + "\n".join(lines) + "\n" + extra + "---\nSummary of " + title + ".\n"


def test_build_writes_every_output(project):
    make_issue(project)
    result = build(project)
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    lines = result.output.splitlines()
    size = json.loads((out / "report.json").read_text())["size_kb"]
    assert lines[0] == (
        f"Built issues/2026-Q4/build/: email.html ({size} KB), "
        "email.txt, web.html, email.mjml, report.json"
    )
    assert lines[1] == (
        "4 items: News 1, Tools & resources 1, Events & training 1, Partnership spotlight 1"
    )
    assert lines[-1] == "Accessibility and size: no findings."
    html = (out / "email.html").read_text()
    assert html.startswith("<!doctype html>")
    assert '<html lang="en"' in html and "<mj-" not in html
    assert "https://focalpoint.example.org/2026-Q4/" in html  # view in browser
    assert "%%UNSUBSCRIBE_URL%%" in html and "685 Third Avenue" in html
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] is True and report["errors"] == [] and report["warnings"] == []
    assert report["sections"] == {"news": 1, "tools": 1, "events": 1, "spotlight": 1}


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
    assert build(project).exit_code == 0
    text = (project / "issues/2026-Q4/build/email.txt").read_text()
    flat = " ".join(text.split())
    for title in ("First item with a rather long title", "Second", "Third"):
        assert title in flat
    assert f"] {long_url}\n" in text  # listed whole, never split
    assert "https://example.org/Third" in text
    for line in text.splitlines():
        assert len(line) <= 78 or line.split()[-1].startswith("https://"), line
    assert "Events & training" in text and "&amp;" not in text


def test_two_builds_are_byte_identical(project):
    make_issue(project)
    out = project / "issues/2026-Q4/build"
    assert build(project).exit_code == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert build(project).exit_code == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_broken_item_refuses_and_leaves_build_untouched(project):
    folder = make_issue(project)
    assert build(project).exit_code == 0
    out = folder / "build"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (folder / "items" / "broken.md").write_text(
        "---\ntitle: x\nsection: news\nlink: ftp://x\n---\n"
    )
    result = build(project)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "issues/2026-Q4/items/broken.md:4: link 'ftp://x' is not an http(s) URL. Use https://...",
        "Error: 1 error in issues/2026-Q4; nothing was built. Fix the lines above and run again.",
    ]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_issue_template_overrides_house_template(project):
    folder = make_issue(project)
    (folder / "templates").mkdir()
    house = (project / "templates/_footer.mjml.j2").read_text()
    (folder / "templates/_footer.mjml.j2").write_text(
        house.replace(
            "<p>{{ settings.from_name }},", "<p>Special edition footer. {{ settings.from_name }},"
        )
    )
    assert build(project).exit_code == 0
    assert "Special edition footer." in (folder / "build/email.html").read_text()
    other = make_issue(project, "2027-Q1")
    assert CliRunner().invoke(main, ["--root", str(project), "build", "2027-Q1"]).exit_code == 0
    assert "Special edition footer." not in (other / "build/email.html").read_text()


def test_template_error_names_template_and_line(project):
    make_issue(project)
    path = project / "templates/_toc.mjml.j2"
    lines = path.read_text().splitlines()
    lines[3] = "      <h2>{{ no_such_variable }}</h2>"
    path.write_text("\n".join(lines) + "\n")
    result = build(project)
    assert result.exit_code == 1
    assert result.output == (
        "Error: templates/_toc.mjml.j2:4: 'no_such_variable' is undefined. Fix the template.\n"
    )


def test_template_syntax_error(project):
    make_issue(project)
    (project / "templates/_toc.mjml.j2").write_text("line one\n{% if %}\n")
    result = build(project)
    assert result.exit_code == 1
    assert result.output.startswith("Error: templates/_toc.mjml.j2:2: ")


def test_mjml_error_points_at_template_line(project):
    make_issue(project)
    path = project / "templates/_intro.mjml.j2"
    path.write_text(path.read_text().replace("  </mj-column>\n", "", 1))
    result = build(project)
    assert result.exit_code == 1
    assert result.output.startswith("Error: templates/_intro.mjml.j2:"), result.output
    assert "MJML error" in result.output
    assert not (project / "issues/2026-Q4/build/email.html").exists()
    assert (project / "issues/2026-Q4/build/email.mjml").exists()  # kept for debugging


@pytest.mark.parametrize(
    "old,new,finding",
    [
        (
            '<h1 style="color:{{ p.band_text }};">',
            '<h2 style="color:{{ p.band_text }};">',
            "headings: found 0 <h1>",
        ),
        (
            '<h1 style="color:{{ p.band_text }};">{{ settings.name }}</h1>',
            "<h1>x</h1><h3>y</h3>",
            "headings: heading level skips from h1 to h3",
        ),
        (
            "View this issue in your browser</a>",
            "click here</a>",
            "link-text: link text 'click here'",
        ),
        ('font-size="14px">', 'font-size="11px">', "font-size: text smaller than 14px: 11px"),
        (
            '<p style="margin:0 0 8px;">',
            '<p style="margin:0 0 8px;"><img src="https://example.org/x.png">',
            "img-alt",
        ),
        ("<h1 style", "{{ '{{' }}<h1 style", "leftover: a leftover '{{'"),
        ("</mj-text>", "</mj-text><mj-sparkle>shiny</mj-sparkle>", "mjml-leftover: <mj-sparkle>"),
    ],
    ids=[
        "no-h1",
        "skipped-level",
        "vague-link",
        "small-text",
        "img-without-alt",
        "leftover",
        "unknown-mj-tag",
    ],
)
def test_accessibility_report_on_a_broken_template(project, old, new, finding):
    make_issue(project)
    path = project / "templates/_header.mjml.j2"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    result = build(project)
    assert result.exit_code == 1
    report = json.loads((project / "issues/2026-Q4/build/report.json").read_text())
    assert report["ok"] is False
    assert any(e.startswith(finding) for e in report["errors"]), report["errors"]
    assert f"error: {finding}" in result.output
    assert result.output.splitlines()[-1].startswith("Error: issues/2026-Q4/build/report.json: ")


def test_layout_table_without_role_is_reported():
    from newsletter.build.report import audit

    findings = audit(
        '<html lang="en"><body><h1>x</h1><table><tr><td>x</td></tr></table></body></html>'
    )
    assert [f.rule for f in findings] == ["table-role"]


def test_size_limits():
    from newsletter.build.report import size_findings

    assert size_findings("x" * 50 * 1024) == (50.0, [])
    kb, warn = size_findings("x" * 95 * 1024)
    assert [f.severity for f in warn] == ["warning"]
    kb, err = size_findings("x" * 103 * 1024)
    assert [f.severity for f in err] == ["error"]


def test_sample_issue_builds_clean():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    from newsletter.build.pipeline import build as build_issue
    from newsletter.config import load_settings

    settings = load_settings(repo)
    # Build into a copy so the test never touches the working tree's build/.
    import shutil

    copy = Path(".") / "sample"
    shutil.copytree(
        repo / "issues" / "2026-Q4",
        copy / "issues" / "2026-Q4",
        ignore=shutil.ignore_patterns("build"),
    )
    shutil.copytree(repo / "templates", copy / "templates")
    shutil.copy(repo / "pyproject.toml", copy / "pyproject.toml")
    settings = load_settings(copy.resolve())
    result = build_issue(settings, copy.resolve() / "issues" / "2026-Q4")
    assert result.ok, result.report.errors
    assert result.warnings == [] and result.report.warnings == ()
    assert result.report.items >= 12
    assert result.report.size_kb < 90


def test_input_digest_tracks_content_not_send_settings(project):
    from newsletter.build.pipeline import input_digest
    from newsletter.config import load_settings

    folder = make_issue(project)
    first = input_digest(load_settings(project), folder)
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.newsletter.send]\nrate = 5\n")
    assert input_digest(load_settings(project), folder) == first
    (folder / "items" / "item-1.md").write_text(item("Changed"))
    assert input_digest(load_settings(project), folder) != first


def test_template_like_text_in_content_is_not_a_leftover(project):
    make_issue(project, items={"a.md": item("Pricing {{ braces }} and {% tags %}")})
    result = build(project)
    assert result.exit_code == 0, result.output
    text = (project / "issues/2026-Q4/build/email.txt").read_text()
    assert "Pricing {\u200d{ braces }} and {\u200d% tags %}" in text
