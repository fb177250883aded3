"""newsletter/desk/contributions.py: the Contributions page shows the table
`newsletter contributions` prints, on the real desk served on 127.0.0.1."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import requests
from helpers import cli, serve_app
from test_returns_report import Cells
from test_returns_tracker import Taken, directory, issue, item

from newsletter.config import load_settings
from newsletter.desk import desk_app


def test_the_page_shows_the_command_s_table_and_the_silent(project: Path):
    issue(project, "2026-Q3", {"a.md": item("A", "<b>unicef</b>")})
    issue(project, "2026-Q4", {"b.md": item("B", "WFP")})
    directory(
        project,
        [("fp@ilo.org", "ILO", "2025-01-01"), ("fp@wfp.org", "WFP", "2026-10-01")],
        [Taken("k1", "2026-Q4", "b.md", "wfp"), Taken("k2", "2026-Q3", "x.md", "")],
    )
    command = cli(project, "contributions").output
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        page = requests.get(f"{base}/contributions", timeout=30)
    assert page.status_code == 200
    cells = Cells()
    cells.feed(page.text)
    assert cells.rows == [
        ["Organisation", "2026-Q3", "2026-Q4"],
        ["<b>unicef</b>", "0/1", "0/0"],  # the item's text, escaped
        ["ILO", "0/0", "0/0"],
        ["WFP", "-", "1/1"],
        ["Unverified senders", "1/0", "0/0"],
    ]
    # The same rows as the command's, cell for cell.
    rows = [line.rsplit(None, 2) for line in command.splitlines()[2:6]]
    assert [[name.strip(), *cells] for name, *cells in rows] == cells.rows[1:]
    assert "&lt;b&gt;unicef&lt;/b&gt;" in page.text and "<b>unicef" not in page.text
    assert '<p class="silent">Silent for 2 issues or more:</p>' in page.text
    assert "<li>ILO: 2 issues</li>" in page.text
    assert "-: before the organisation's first contact was added." in html.unescape(page.text)
    assert '<a href="/contributions" aria-current="page">Contributions</a>' in page.text


def test_the_desk_links_the_page_from_every_page(project: Path):
    issue(project, "2026-Q4", {"a.md": item("A")})
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        page = requests.get(f"{base}/", timeout=30)
        empty = requests.get(f"{base}/contributions", timeout=30)
    assert '<a href="/contributions">Contributions</a>' in page.text
    assert (
        "<p>Contributions to the last issue (submitted/accepted): no organisation in the "
        "directory, and no contribution.</p>"
    ) in empty.text


@pytest.mark.parametrize(
    ("asked", "columns", "error"),
    [
        ("1", ["2026-Q4"], ""),
        (" 2 ", ["2026-Q3", "2026-Q4"], ""),
        ("", ["2026-Q3", "2026-Q4"], ""),  # the default, 4: both issues there are
        ("0", ["2026-Q3", "2026-Q4"], "'0' is not a whole number from 1 to 100."),
        ("101", ["2026-Q3", "2026-Q4"], "'101' is not a whole number from 1 to 100."),
        ("2.5", ["2026-Q3", "2026-Q4"], "'2.5' is not a whole number from 1 to 100."),
    ],
)
def test_issues_is_read_as_the_command_reads_it(project: Path, asked, columns, error):
    issue(project, "2026-Q3", {"a.md": item("A", "ILO")})
    issue(project, "2026-Q4", {"b.md": item("B", "ILO")})
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        page = requests.get(f"{base}/contributions", params={"issues": asked}, timeout=30)
    assert page.status_code == 200
    cells = Cells()
    cells.feed(page.text)
    assert cells.rows[0] == ["Organisation", *columns]
    shown = html.unescape(page.text)
    if error:
        assert f'<p class="field-error" id="issues-error">{error}</p>' in shown
        assert 'aria-invalid="true" aria-describedby="issues-error"' in page.text
        # The command says the same of the same text.
        said = cli(project, "contributions", "--issues", asked).output.splitlines()[-1]
        assert said == f"Error: Invalid value for '--issues': {error}"
    else:
        assert 'id="issues-error"' not in page.text
