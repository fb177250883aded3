"""newsletter.build.report: the accessibility and size audit of the built email."""

from __future__ import annotations

import json

import pytest
from helpers import cli, item, make_issue


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
    result = cli(project, "build", "2026-Q4")
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


@pytest.mark.parametrize(
    ("anchor", "rules"),
    [
        ('<a name="news" id="news"></a>', []),  # a place to land, as the contents use
        ('<a href="#news"></a>', ["link-text"]),
        ('<a href="#news">here</a>', ["link-text"]),
    ],
)
def test_only_a_link_needs_words(anchor, rules):
    """Found: the contents' empty name anchors were reported as links without text."""
    from newsletter.build.report import audit

    findings = audit(f'<html lang="en"><body><h1>x</h1><h2>{anchor}News</h2></body></html>')
    assert [f.rule for f in findings] == rules


def test_size_limits():
    from newsletter.build.report import size_findings

    assert size_findings("x" * 50 * 1024) == (50.0, [])
    kb, warn = size_findings("x" * 95 * 1024)
    assert [f.severity for f in warn] == ["warning"]
    kb, err = size_findings("x" * 103 * 1024)
    assert [f.severity for f in err] == ["error"]


def test_template_like_text_in_content_is_not_a_leftover(project):
    make_issue(project, items={"a.md": item("Pricing {{ braces }} and {% tags %}")})
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    text = (project / "issues/2026-Q4/build/email.txt").read_text()
    assert "Pricing {\u200d{ braces }} and {\u200d% tags %}" in text


# -- the directory's freshness figure and data-quality section ------------------------


def directory_db(project):
    from newsletter.models import Contact
    from newsletter.store import open_db
    from newsletter.store.contacts import create_contact, mark_left

    db = open_db(project / "contacts.db")
    with db.atomic():
        for email, org, at, phone in (
            ("ana@undp.org", "UNDP", "2025-03-04T09:00:00+00:00", "+41 22 917 12 34"),
            ("ben@undp.org", "UNDP", "2026-06-01T09:00:00+00:00", "not a phone"),
            ("info@undp.org", "UNDP", "2026-06-01T09:00:00+00:00", ""),
            ("cy@undp.org", "UNDP", "2026-06-01T09:00:00+00:00", ""),
        ):
            create_contact(db, Contact(email=email, organisation=org, phone=phone), "t", "t", at)
        mark_left(db, "cy@undp.org", "t", "t", "2026-08-17T09:00:00+00:00")
    db.conn.close()


def test_the_build_reports_freshness_and_data_quality(project):
    make_issue(project)
    directory_db(project)
    result = cli(project, "build", "2026-Q4", "--offline")
    assert result.exit_code == 0, result.output
    figure = (
        "Directory: 2 of 3 entries confirmed in the last 12 months (67%); 1 vacant seat, 120 days."
    )
    from newsletter.contacts.checks import un_entities

    # A phone that is no number, a shared mailbox, and every UN entity but UNDP uncovered.
    count = 2 + len(un_entities()) - 1
    lines = result.output.splitlines()
    at = lines.index(figure)
    assert lines[at + 1] == (
        f"Directory data quality: {count} findings (newsletter directory check lists them)."
    )
    report = json.loads((project / "issues/2026-Q4/build/report.json").read_text())
    assert report["freshness"] == figure
    assert [line.split(":")[0] for line in report["quality"][:3]] == [
        "ben@undp.org",
        "info@undp.org",
        "UN",
    ]
    assert len(report["quality"]) == count
    assert report["ok"] is True and report["warnings"] == []  # advice, not a build warning
    quiet = cli(project, "build", "2026-Q4", "--offline", "-q")
    assert figure not in quiet.output


def test_without_contacts_the_report_has_no_directory_figures(project):
    make_issue(project)
    result = cli(project, "build", "2026-Q4", "--offline")
    assert result.exit_code == 0, result.output
    assert "Directory" not in result.output
    report = json.loads((project / "issues/2026-Q4/build/report.json").read_text())
    assert (report["freshness"], report["quality"]) == ("", [])


@pytest.mark.parametrize(
    ("quality", "line"),
    [
        ((), "Directory data quality: nothing to fix."),
        (("a",), "Directory data quality: 1 finding (newsletter directory check lists them)."),
        (("a", "b"), "Directory data quality: 2 findings (newsletter directory check lists them)."),
    ],
)
def test_the_data_quality_line(quality, line):
    from newsletter.build.report import BuildReport

    report = BuildReport("x", True, 0, (), (), 0.0, (), (), "", (), quality=quality)
    assert report.quality_line == line
    assert BuildReport.from_json(report.to_json()) == report


def test_an_older_report_reads_without_the_directory_figures():
    from newsletter.build.report import BuildReport

    old = BuildReport("x", True, 0, (), (), 0.0, (), (), "", ())
    data = json.loads(old.to_json())
    del data["freshness"], data["quality"]
    assert BuildReport.from_json(json.dumps(data)) == old
