"""newsletter.publish.publication: nothing goes public that was not sent (or published)."""

from __future__ import annotations

import shutil

import pytest
from helpers import REPO, SECRET, add_contacts, cli, make_issue, smtp_args, smtp_send

from newsletter.publish.publication import Status, status
from newsletter.store import open_db
from newsletter.store.publications import EDITOR, SEND, Publication


def record(published: bool, by: str) -> Publication:
    return Publication("2027-Q1", published, by, "x", "2027-03-20T10:00:00+00:00")


@pytest.mark.parametrize(
    ("decision", "draft", "expected"),
    [
        (None, True, Status(False, "a draft, never sent")),
        (None, False, Status(True, "issue.toml does not say draft = true")),
        (None, None, Status(True, "issue.toml does not say draft = true")),
        (record(True, SEND), True, Status(True, "sent on 2027-03-20")),
        (record(True, EDITOR), True, Status(True, "published on 2027-03-20")),
        (record(False, EDITOR), False, Status(False, "unpublished on 2027-03-20")),
        (record(False, EDITOR), None, Status(False, "unpublished on 2027-03-20")),
    ],
)
def test_the_rule(decision, draft, expected):
    assert status(decision, draft) == expected


def pages(project) -> list[str]:
    site = project / "site"
    return sorted(p.parent.name for p in site.glob("*/index.html"))


def test_a_fresh_clone_new_then_archive_publishes_no_page(tmp_path):
    """The issue's "done when": in a fresh clone, new then archive publishes nothing new,
    built or not."""
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("pyproject.toml", "contacts.db"):
        shutil.copyfile(REPO / name, clone / name)
    for name in ("templates", "issues"):
        shutil.copytree(REPO / name, clone / name, ignore=shutil.ignore_patterns("build"))
    assert cli(clone, "new", "2027-Q1").exit_code == 0
    first = cli(clone, "archive")
    assert first.exit_code == 0, first.output
    assert (
        "skipped 2027-Q1: a draft, never sent (publish it with: newsletter publish 2027-Q1)\n"
        in (first.output)
    )
    assert "2027-Q1" not in pages(clone)
    assert cli(clone, "build", "2027-Q1").exit_code == 0
    second = cli(clone, "archive")
    assert "skipped 2027-Q1: a draft, never sent" in second.output
    assert "2027-Q1" not in pages(clone)
    assert "2027-Q1" not in (clone / "site" / "feed.xml").read_text(encoding="utf-8")


@pytest.fixture
def draft(project):
    """A built draft issue, as `new` makes it, with its placeholders replaced."""
    make_issue(project, "2026-Q4")
    toml = project / "issues/2026-Q4/issue.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "draft = true\n", encoding="utf-8")
    assert cli(project, "build", "2026-Q4").exit_code == 0
    return project


def test_publish_then_unpublish_exact_output_and_idempotent(draft):
    steps = [
        ("publish", "Published issues/2026-Q4: newsletter archive now puts it on the site.\n"),
        ("publish", "issues/2026-Q4 is already published (published on {day}).\n"),
        (
            "unpublish",
            "Unpublished issues/2026-Q4: newsletter archive now leaves it off the site.\n",
        ),
        ("unpublish", "issues/2026-Q4 is not published (unpublished on {day}).\n"),
    ]
    for command, expected in steps:
        result = cli(draft, command, "2026-Q4")
        day = open_db(draft / "contacts.db").execute("SELECT at FROM publications").fetchone()[0]
        assert (result.exit_code, result.output) == (0, expected.format(day=day[:10]))


def test_unpublish_of_a_draft_records_nothing_so_its_send_still_publishes(draft):
    result = cli(draft, "unpublish", "2026-Q4")
    assert result.output == "issues/2026-Q4 is not published (a draft, never sent).\n"
    assert open_db(draft / "contacts.db").execute("SELECT * FROM publications").fetchall() == []


def test_a_missing_issue_is_one_line(project):
    result = cli(project, "publish", "2031-Q1")
    assert result.exit_code == 1
    assert result.output.startswith("Error: issues/2031-Q1")


def test_publish_puts_it_on_the_site_and_unpublish_takes_the_page_off(draft):
    assert cli(draft, "archive").exit_code == 0
    assert pages(draft) == []
    cli(draft, "publish", "2026-Q4")
    assert cli(draft, "archive").output.endswith(
        "Published site/: 1 issue (2026-Q4), 5 files; open site/index.html\n"
    )
    assert pages(draft) == ["2026-Q4"]
    cli(draft, "unpublish", "2026-Q4")
    result = cli(draft, "archive")
    day = open_db(draft / "contacts.db").execute("SELECT at FROM publications").fetchone()[0][:10]
    assert result.output.splitlines()[0] == (
        f"skipped 2026-Q4: unpublished on {day} (publish it again with: newsletter publish 2026-Q4)"
    )
    # The site is rebuilt from nothing on every run: the page already out is gone.
    assert pages(draft) == []
    assert "2026-Q4" not in (draft / "site" / "index.html").read_text(encoding="utf-8")


def test_an_issue_from_before_drafts_stays_published(project):
    make_issue(project, "2026-Q4")  # no draft key, never sent
    assert cli(project, "build", "2026-Q4").exit_code == 0
    assert cli(project, "archive").exit_code == 0
    assert pages(project) == ["2026-Q4"]


def test_a_real_send_that_completes_publishes(draft, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    add_contacts(draft, 3)
    result = smtp_send(draft, smtp.port)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "The send is complete: issues/2026-Q4 is published (newsletter archive)."
    )
    assert cli(draft, "archive").exit_code == 0
    assert pages(draft) == ["2026-Q4"]
    again = smtp_send(draft, smtp.port)  # nothing left to send: no second line
    assert "published" not in again.output


@pytest.mark.parametrize(
    ("real", "args"),
    [(False, ()), (True, ("--to", "editor@example.org")), (True, ("--dry-run",))],
    ids=["outbox", "test-send", "dry-run"],
)
def test_a_rehearsal_publishes_nothing(draft, smtp, monkeypatch, real, args):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    add_contacts(draft, 3)
    sender = smtp_args(smtp.port) if real else []  # the outbox delivers nothing
    result = cli(draft, "send", "2026-Q4", "--yes", *sender, *args)
    assert result.exit_code == 0, result.output
    assert "published" not in result.output
    archive = cli(draft, "archive")
    assert "skipped 2026-Q4: a draft, never sent" in archive.output
    assert pages(draft) == []


def test_a_send_that_stops_early_publishes_nothing_until_it_completes(draft, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with open(draft / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n[tool.newsletter.send]\nmax_consecutive_failures = 3\n")
    assert cli(draft, "build", "2026-Q4").exit_code == 0
    add_contacts(draft, 6)
    for n in range(6):
        smtp.fail(f"person{n}@example.org", "554 5.7.1 Relay access denied")
    paused = smtp_send(draft, smtp.port, "--concurrency", "1")
    assert paused.exit_code == 1 and "published" not in paused.output
    cli(draft, "archive")
    assert pages(draft) == []
    smtp.handler.faults.clear()
    resumed = smtp_send(draft, smtp.port)  # 3 failed, 3 sent: every row is done
    assert resumed.exit_code == 0, resumed.output
    assert "The send is complete: issues/2026-Q4 is published" in resumed.output
    cli(draft, "archive")
    assert pages(draft) == ["2026-Q4"]


def test_the_editors_unpublish_stands_when_the_send_completes(draft, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    add_contacts(draft, 3)
    cli(draft, "publish", "2026-Q4")
    cli(draft, "unpublish", "2026-Q4")
    result = smtp_send(draft, smtp.port)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "The send is complete; issues/2026-Q4 stays unpublished, as newsletter unpublish "
        "said. To put it on the site: newsletter publish 2026-Q4"
    )
    assert pages(draft) == []
    cli(draft, "archive")
    assert pages(draft) == []


def test_a_send_complete_but_not_recorded_publishes_when_run_again(draft, smtp, monkeypatch):
    """A run stopped after its last message (Ctrl-C while closing) left it unrecorded."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    add_contacts(draft, 2)
    assert smtp_send(draft, smtp.port).exit_code == 0
    db = open_db(draft / "contacts.db")
    db.execute("DELETE FROM publications")
    db.conn.close()
    again = smtp_send(draft, smtp.port)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-2:] == [
        "Nothing to send. See: newsletter status 2026-Q4",
        "The send is complete: issues/2026-Q4 is published (newsletter archive).",
    ]
    assert len(smtp.messages) == 2
