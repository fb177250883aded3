"""newsletter.directory.corrections: `directory correct`, the next issue's box, the archive note."""

from __future__ import annotations

import json

import pytest
from helpers import cli, make_issue

Q3_TEXT = "Ana Lima's phone is +41 22 917 12 34, not +41 22 917 12 43."


def issues(project):
    """2026-Q3 (15 September) and 2026-Q4 (15 December); 2027-Q1 is made by a test that needs it."""
    make_issue(project, "2026-Q4")
    q3 = make_issue(project, "2026-Q3", items={})
    (q3 / "issue.toml").write_text(
        (q3 / "issue.toml").read_text().replace("2026-12-15", "2026-09-15").replace("7", "6")
    )


def recorded(project, issue="2026-Q3", text=Q3_TEXT):
    result = cli(project, "directory", "correct", issue, text, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_correct_records_and_names_the_issue_that_carries_it(project):
    issues(project)
    result = cli(project, "directory", "correct", "2026-Q3", "--text", Q3_TEXT)
    assert result.exit_code == 0, result.output
    day = json.loads(cli(project, "directory", "corrections", "--json").output)[0]["at"][:10]
    assert (
        result.output == f"Recorded correction #1 2026-Q3, {day}: {Q3_TEXT} (shown in 2026-Q4).\n"
    )
    later = recorded(project, "2026-Q4", "The webinar is on 10 February.")
    assert {k: later[k] for k in ("id", "issue", "text", "carried_by")} == {
        "id": 2,
        "issue": "2026-Q4",
        "text": "The webinar is on 10 February.",
        "carried_by": None,  # no later issue folder yet
    }
    listing = cli(project, "directory", "corrections")
    assert listing.output == (
        f"#1 2026-Q3, {day}: {Q3_TEXT} (shown in 2026-Q4)\n"
        f"#2 2026-Q4, {day}: The webinar is on 10 February. (shown in the next issue)\n"
        "2 corrections.\n"
    )
    assert cli(project, "directory", "corrections", "--json").exit_code == 0


def test_no_corrections(project):
    result = cli(project, "directory", "corrections")
    assert (result.exit_code, result.output) == (0, "No corrections recorded.\n")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("2025-Q1", "x"),
            1,
            "Error: issues/2025-Q1: no such issue folder. Create it with: newsletter new 2025-Q1\n",
        ),
        (
            ("../etc", "x"),
            2,
            "Error: '../etc': not a valid issue ID. Use letters, digits and dashes, such as 2026-Q4.\n",
        ),
        (
            ("2026-Q3", "two\nlines"),
            1,
            "Error: correction 'two\\u000alines': is more than one line. Write it on one line.\n",
        ),
        (
            ("2026-Q3", "   "),
            1,
            "Error: correction '   ': is empty. Say what the issue got wrong and what is right.\n",
        ),
        (
            ("2026-Q3", "x" * 501),
            1,
            f"Error: correction '{'x' * 39}…': is 501 characters long; the most is 500. Shorten it.\n",
        ),
        (
            ("2026-Q3", "bell\x07"),
            1,
            "Error: correction 'bell\\u0007': contains control characters. Remove them.\n",
        ),
        (
            ("2026-Q3",),
            2,
            "Error: give the correction once: as TEXT or with --text, not both or neither.\n",
        ),
        (
            ("2026-Q3", "a", "--text", "b"),
            2,
            "Error: give the correction once: as TEXT or with --text, not both or neither.\n",
        ),
    ],
    ids=["unknown", "malformed", "two-lines", "empty", "too-long", "control", "none", "both"],
)
def test_bad_input_is_one_line_and_records_nothing(project, args, code, message):
    issues(project)
    result = cli(project, "directory", "correct", *args)
    assert result.exit_code == code
    assert result.stderr.endswith(message)
    assert "Traceback" not in result.output
    assert cli(project, "directory", "corrections").output == "No corrections recorded.\n"


def test_the_next_issue_carries_the_box_everywhere(project):
    issues(project)
    make_issue(project, "2027-Q1")
    recorded(project, text="<b>Bold</b> & %%EMAIL%% claims")
    for issue in ("2026-Q3", "2026-Q4", "2027-Q1"):
        assert cli(project, "build", issue, "--offline").exit_code == 0
    out = project / "issues/2026-Q4/build"
    html, text, web = ((out / n).read_text() for n in ("email.html", "email.txt", "web.html"))
    assert "<h2>Corrections</h2>" in html and "<h2>Corrections</h2>" in web
    escaped = "&lt;b&gt;Bold&lt;/b&gt; &amp; %\u200d%EMAIL%\u200d% claims"
    assert f"<p>{escaped} <em>(Issue 2026-Q3, corrected " in html
    assert f"<p>{escaped} <em>(Issue 2026-Q3, corrected " in web
    assert (
        "CORRECTIONS\n\n- <b>Bold</b> & %\u200d%EMAIL%\u200d% claims (Issue 2026-Q3, corrected"
        in text
    )
    assert text.index("CORRECTIONS") < text.index("IN THIS ISSUE")
    for issue in ("2026-Q3", "2027-Q1"):  # the corrected issue itself, and the one after next
        built = project / "issues" / issue / "build"
        for name in ("email.html", "email.txt", "web.html"):
            assert "Corrections" not in (built / name).read_text()
            assert "CORRECTIONS" not in (built / name).read_text()


def test_the_archive_page_of_the_corrected_issue_gets_a_dated_note(project):
    issues(project)
    found = recorded(project, text="<script>x</script> was wrong")
    day = found["at"][:10]
    for issue in ("2026-Q3", "2026-Q4"):
        assert cli(project, "build", issue, "--offline").exit_code == 0
        assert cli(project, "publish", issue).exit_code == 0
    result = cli(project, "archive")
    assert result.exit_code == 0, result.output
    import datetime as dt

    from newsletter.build.render import longdate

    page = (project / "site/2026-Q3/index.html").read_text()
    note = (
        f"<p><strong>Correction, {longdate(dt.date.fromisoformat(day))}:</strong>"
        " &lt;script&gt;x&lt;/script&gt; was wrong</p>"
    )
    assert note in page
    assert page.index('id="corrections-notes"') < page.index("Editor's note")
    assert "Correction, " not in (project / "site/2026-Q4/index.html").read_text()
    assert "<h2>Corrections</h2>" in (project / "site/2026-Q4/index.html").read_text()
