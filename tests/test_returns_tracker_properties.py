"""returns.tracker, by property: whatever --issues is given, and whatever an item's
`organisation` holds, `newsletter contributions` answers in one line per row or refuses
the option as a usage error, never a traceback."""

from __future__ import annotations

import json

import pytest
from helpers import cli, examples, make_issue, new_project
from hypothesis import example, given, settings
from hypothesis import strategies as st


@settings(max_examples=examples(50), deadline=None)
@given(st.text(max_size=12))
def test_issues_takes_a_whole_number_from_1_to_100_or_is_a_usage_error(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("p")
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    result = cli(root, "contributions", "--issues", text)
    try:
        ok = 1 <= int(text.strip()) <= 100 and text.strip().lstrip("+-").isdigit()
    except ValueError:
        ok = False
    if ok:
        assert "Invalid value for '--issues'" not in result.output
    else:
        assert result.exit_code == 2, result.output
        assert "Error: Invalid value for '--issues'" in result.output


@settings(max_examples=examples(30), deadline=None)
@example("\u200b\u202e")  # nothing visible: no organisation's row, not the unverified's
@given(st.text(max_size=200))
def test_any_organisation_is_one_row_of_one_line(tmp_path_factory, organisation):
    root = new_project(tmp_path_factory.mktemp("p") / "project")
    quoted = json.dumps(organisation)  # a YAML double-quoted scalar, escapes and all
    make_issue(
        root, items={"a.md": f"---\ntitle: A\nsection: news\norganisation: {quoted}\n---\nA.\n"}
    )
    result = cli(root, "contributions")
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:  # the item file is refused: one line naming it
        return
    lines = result.output.splitlines()
    rows = lines[2:-1]
    assert len(rows) <= 1 and all(len(row) <= 140 for row in rows)
    data = json.loads(cli(root, "contributions", "--json").output)
    assert len(data["organisations"]) == len(rows)
    assert all(row["organisation"] for row in data["organisations"])


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """The desk, served once, on a project with two issues."""
    from helpers import serve_app

    from newsletter.config import load_settings
    from newsletter.desk import desk_app

    root = new_project(tmp_path_factory.mktemp("desk") / "project")
    make_issue(root, "2026-Q3")
    make_issue(root, "2026-Q4")
    with serve_app(desk_app(load_settings(root), root / "contacts.db")) as base:
        yield base, root


@settings(max_examples=examples(50), deadline=None)
@given(st.text(max_size=60))
def test_the_desk_reads_any_issues_as_the_option_does(desk, text):
    """?issues= on the desk: a table of that many issues, or the table of 4 and one error
    beside the field, exactly when --issues refuses the same text."""
    import html

    import requests

    base, root = desk
    page = requests.get(f"{base}/contributions", params={"issues": text}, timeout=30)
    assert page.status_code == 200
    refused = "Invalid value for '--issues'" in cli(root, "contributions", "--issues", text).output
    if not text.strip():
        refused = False  # an empty field is the default, as no option is
    assert ('id="issues-error"' in page.text) is refused
    assert "Traceback" not in html.unescape(page.text)
