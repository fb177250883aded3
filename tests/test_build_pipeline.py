"""newsletter.build.pipeline: `build` writes every output, the same bytes each time, or nothing."""

from __future__ import annotations

import json

import pytest
from helpers import cli, item, make_issue, run_with_full_disk, special_file

from newsletter.build import build_issue
from newsletter.config import load_settings
from newsletter.store import open_db

OUTPUTS = ["email.html", "email.mjml", "email.txt", "report.json", "web.html"]  # sorted


def test_build_writes_every_output(project):
    make_issue(project)
    result = cli(project, "build", "2026-Q4")
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
    assert lines[-1] == "Accessibility, size and pictures: no findings."
    html = (out / "email.html").read_text()
    assert html.startswith("<!doctype html>")
    assert '<html lang="en"' in html and "<mj-" not in html
    assert "https://focalpoint.example.org/2026-Q4/" in html  # view in browser
    assert "%%UNSUBSCRIBE_URL%%" in html and "685 Third Avenue" in html
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] is True and report["errors"] == [] and report["warnings"] == []
    assert report["sections"] == {"news": 1, "tools": 1, "events": 1, "spotlight": 1}


def test_build_quiet_prints_the_summary_line_only(project):
    make_issue(project)
    result = cli(project, "build", "2026-Q4", "-q")
    assert result.exit_code == 0, result.output
    size = json.loads((project / "issues/2026-Q4/build/report.json").read_text())["size_kb"]
    assert (result.stdout, result.stderr) == (
        f"Built issues/2026-Q4/build/: email.html ({size} KB), "
        "email.txt, web.html, email.mjml, report.json\n",
        "",
    )


def test_two_builds_are_byte_identical(project):
    """Byte for byte, but for the one value that must differ: when it was built (to the
    second, in report.json; the next issue's directory counts its changes from it)."""
    make_issue(project)
    out = project / "issues/2026-Q4/build"

    def files():
        found = {p.name: p.read_bytes() for p in out.iterdir()}
        report = json.loads(found.pop("report.json"))
        return found, report.pop("built"), report

    assert cli(project, "build", "2026-Q4").exit_code == 0
    first, built, report = files()
    assert cli(project, "build", "2026-Q4").exit_code == 0
    again, rebuilt, report_again = files()
    assert again == first and report_again == report
    assert built <= rebuilt


def test_broken_item_refuses_and_leaves_build_untouched(project):
    folder = make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    out = folder / "build"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (folder / "items" / "broken.md").write_text(
        "---\ntitle: x\nsection: news\nlink: ftp://x\n---\n"
    )
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "issues/2026-Q4/items/broken.md:4: link 'ftp://x' is not an http(s) URL. Use https://...",
        "Error: 1 error in issues/2026-Q4; nothing was built. Fix the lines above and run again.",
    ]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


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


def test_a_full_disk_during_build_is_one_line_and_leaves_build_as_it_was(project):
    folder = make_issue(project)
    assert cli(project, "build", "2026-Q4").exit_code == 0
    before = {p.name: p.read_bytes() for p in (folder / "build").iterdir()}
    (folder / "items" / "item-1.md").write_text(item("A changed item"), encoding="utf-8")
    run = run_with_full_disk(project, "build", "2026-Q4", max_bytes=4096)
    assert (run.returncode, run.stderr) == (
        1,
        "Error: issues/2026-Q4/build: cannot write it (File too large). The disk is full "
        "(or over a size limit); free some space and run again; nothing there was changed.\n",
    )
    assert {p.name: p.read_bytes() for p in (folder / "build").iterdir()} == before


@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_a_build_path_that_is_not_a_folder_is_one_line(project, kind):
    folder = make_issue(project)
    if kind == "file":
        (folder / "build").write_text("notes\n", encoding="utf-8")
    else:
        special_file(folder / "build", kind)
    result = cli(project, "build", "2026-Q4")
    what = "a file" if kind == "file" else "a FIFO (named pipe)"
    assert (result.exit_code, result.output) == (
        1,
        f"Error: issues/2026-Q4/build: is {what}, not a folder. "
        "Move it away; build writes its files in that folder.\n",
    )


def test_build_issue_builds_with_the_contacts_directory(project):
    folder = make_issue(project)
    settings = load_settings(project)
    without = build_issue(settings, folder, project / "contacts.db")
    assert without.ok and without.directory is None and without.failure == ""
    open_db(project / "contacts.db").conn.close()
    result = build_issue(settings, folder, project / "contacts.db", pictures=False)
    assert result.directory is not None and result.report.freshness


def test_a_failed_audit_says_why_in_one_line(project):
    folder = make_issue(project)
    header = project / "templates" / "_header.mjml.j2"
    text = header.read_text(encoding="utf-8")
    header.write_text(text.replace("View this issue in your browser</a>", "click here</a>", 1))
    result = build_issue(load_settings(project), folder, project / "contacts.db", False)
    assert not result.ok
    assert result.failure == (
        f"issues/2026-Q4/build/report.json: {len(result.report.errors)} accessibility or size "
        "errors. Fix the templates or content and build again."
    )


CONTRIBUTED = (
    "---\ntitle: A contributed story\nsection: news\nlink: https://example.org/c\n"
    "date: 2026-10-05\nsource: UNICEF\ncontributor: Jane Contributor\n"
    "organisation: {organisation}\n---\nA summary.\n"
)


@pytest.mark.parametrize("attribution", [True, False])
def test_attribution_credits_the_organisation_in_every_part(project, attribution):
    with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(f"attribution = {str(attribution).lower()}\n")
    make_issue(project, items={"c.md": CONTRIBUTED.format(organisation="UNICEF")})
    assert cli(project, "build", "2026-Q4").exit_code == 0
    out = project / "issues/2026-Q4/build"
    for name in ("email.html", "email.txt", "web.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert ("Contributed by UNICEF" in text) is attribution, name
        assert "Jane Contributor" not in text, name  # a contributor is a person


def test_a_hostile_organisation_is_escaped_and_one_line(project):
    with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("attribution = true\n")
    hostile = '"<b>Evil</b>\\n\\nSubject: x %%NAME%% & co"'
    make_issue(project, items={"c.md": CONTRIBUTED.format(organisation=hostile)})
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    out = project / "issues/2026-Q4/build"
    for name in ("email.html", "web.html"):
        html = (out / name).read_text(encoding="utf-8")
        assert (
            "Contributed by &lt;b&gt;Evil&lt;/b&gt; Subject: x %\u200d%NAME%\u200d% &amp; co"
            in html
        )
        assert "<b>Evil" not in html
        assert "%%NAME%%" not in html.replace("Dear %%NAME%%,", "")  # the greeting's own
    text = (out / "email.txt").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if "Contributed by" in x)
    # As written, wrapped (the date's year on the next line), never a header of its own.
    assert (
        line
        == "UNICEF · Contributed by <b>Evil</b> Subject: x %\u200d%NAME%\u200d% & co · 5 October"
    )
    assert "%%NAME%%" not in text.replace("Dear %%NAME%%,", "")
