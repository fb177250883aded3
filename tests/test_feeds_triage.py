"""newsletter.feeds.triage: `accept` and `reject` refuse what they cannot find, naming it."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import cli, cli_within, make_issue


# Names and --all are the command line's own business: a usage error, exit 2; a name
# that is not in the inbox is a plain error, exit 1.
@pytest.mark.parametrize(
    "args,code,message",
    [
        (
            ["accept", "2026-Q4"],
            2,
            "issues/2026-Q4/inbox: no candidates named. Give NAME... or "
            "--all; list them with: newsletter inbox 2026-Q4",
        ),
        (
            ["accept", "2026-Q4", "x", "--all"],
            2,
            "issues/2026-Q4/inbox: give candidate names or --all, not both.",
        ),
        (
            ["reject", "2026-Q4", "nope"],
            1,
            "issues/2026-Q4/inbox/nope.md: no such candidate. "
            "List them with: newsletter inbox 2026-Q4",
        ),
        (
            ["accept", "2026-Q4", "../items/item-1"],
            1,
            "issues/2026-Q4/inbox/../items/item-1.md: no "
            "such candidate. List them with: newsletter inbox 2026-Q4",
        ),
        (
            ["reject", "2026-Q4", "x" * 5000],  # one short line, not 5,000 characters
            1,
            f"issues/2026-Q4/inbox/{'x' * 39}…: no such candidate. "
            "List them with: newsletter inbox 2026-Q4",
        ),
        (
            ["accept", "2026-Q4", "a\x1b[2Jb"],  # a terminal's escape, shown, not obeyed
            1,
            "issues/2026-Q4/inbox/a\\u001b[2Jb.md: no such candidate. "
            "List them with: newsletter inbox 2026-Q4",
        ),
    ],
)
def test_triage_errors(project, args, code, message):
    make_issue(project)
    result = cli(project, *args)
    assert result.exit_code == code
    assert result.output.splitlines()[-1] == f"Error: {message}"


BROKEN = {
    "impossible-date": "---\ntitle: Bad date\nsection: news\ndate: 2026-02-30\n"
    "link: https://x.org/a\n---\nX.\n",
    "bad-yaml": "---\ntitle: [unclosed\n---\nX.\n",
    "bad-tag": "---\ntitle: T\nsection: news\nweight: !!int abc\nlink: https://x.org/b\n---\n",
    "bad-time": "---\ntitle: T\nsection: events\nstarts: 2026-10-05 25:00\n---\n",
    "not-utf8": "---\ntitle: Caf\xe9\nsection: news\n---\n",
}


def _inbox(project, names):
    folder = make_issue(project)
    (folder / "inbox").mkdir()
    for name in names:
        data = BROKEN[name].encode("latin-1" if name == "not-utf8" else "utf-8")
        (folder / "inbox" / f"{name}.md").write_bytes(data)
    return folder


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_candidate_shows_in_inbox_and_can_be_rejected(project, name):
    folder = _inbox(project, [name])
    listed = cli(project, "inbox", "2026-Q4")
    assert listed.exit_code == 0
    assert listed.stderr.startswith(f"issues/2026-Q4/inbox/{name}.md:")
    assert "(cannot be read; see above)" in listed.stdout
    result = cli(project, "reject", "2026-Q4", name)
    assert (result.exit_code, result.output) == (
        0,
        f"Rejected 1 candidate; they will not be proposed again: {name}.md\n",
    )
    assert not (folder / "inbox" / f"{name}.md").exists()


def test_broken_candidates_can_be_rejected_all_at_once_and_accepted(project):
    folder = _inbox(project, sorted(BROKEN))
    accepted = cli(project, "accept", "2026-Q4", "bad-yaml")
    assert accepted.exit_code == 0 and (folder / "items" / "bad-yaml.md").is_file()
    result = cli(project, "reject", "2026-Q4", "--all")
    assert result.exit_code == 0 and result.output.startswith("Rejected 4 candidates;")
    assert list((folder / "inbox").iterdir()) == []


def test_reject_all_skips_a_fifo_rather_than_waiting_on_it(project):
    import os

    folder = _inbox(project, ["bad-yaml"])
    os.mkfifo(folder / "inbox" / "pipe.md")
    result = cli_within(30, project, "reject", "2026-Q4", "--all")
    assert result.output == "Rejected 1 candidate; they will not be proposed again: bad-yaml.md\n"
    assert [p.name for p in (folder / "inbox").iterdir()] == ["pipe.md"]


@pytest.mark.parametrize(
    "front,moved",
    [
        ("title: Café\nsection: news\nlink: https://x.org/a\n", "title: Café\nsection: tools\n"),
        (
            "title: «Q»\r\nsection: 'news'  # from the feed\r\nlink: https://x.org/a\r\n",
            "title: «Q»\r\nsection: tools  # from the feed\r\n",
        ),
        ('{title: T, section: "news", link: "https://x.org/a"}\n', "{title: T, section: tools, "),
    ],
)
def test_accept_into_another_section_changes_that_field_only(project, front, moved):
    folder = make_issue(project)
    (folder / "inbox").mkdir()
    (folder / "inbox" / "story.md").write_bytes(f"---\n{front}---\nText.\n".encode())
    result = cli(project, "accept", "2026-Q4", "story", "--section", "tools")
    assert (result.exit_code, result.stdout.splitlines()[0]) == (
        0,
        "inbox/story.md -> items/story.md (section tools)",
    )
    text = (folder / "items" / "story.md").read_bytes().decode()
    assert text.startswith(f"---\n{moved}")
    assert text == f"---\n{front}---\nText.\n".replace("news", "tools", 1).replace(
        "'tools'", "tools"
    ).replace('"tools"', "tools")
    assert not (folder / "inbox" / "story.md").exists()
    assert cli(project, "check", "2026-Q4").exit_code == 0


def test_accept_into_an_unknown_section_names_the_keys_and_moves_nothing(project):
    folder = _inbox(project, ["bad-yaml"])
    result = cli(project, "accept", "2026-Q4", "--all", "--section", "nope")
    assert (result.exit_code, result.output) == (
        1,
        "Error: --section: unknown section 'nope'. Use one of: news, tools, events, spotlight.\n",
    )
    result = cli(project, "accept", "2026-Q4", "--all", "--section", "tools")
    assert (result.exit_code, result.output) == (
        1,
        "Error: issues/2026-Q4/inbox/bad-yaml.md: no readable 'section:' field. Fix its front "
        "matter (newsletter check says how), or accept it without --section.\n",
    )
    assert [p.name for p in (folder / "inbox").iterdir()] == ["bad-yaml.md"]


STORY = "---\ntitle: A story\nsection: news\nlink: https://x.org/story\n---\nText.\n"
GONE = "issues/2026-Q4/inbox/story.md: no such candidate. List them with: newsletter inbox 2026-Q4"


def _triage(project):
    """An issue with one candidate, story.md, and calls that accept or reject it."""
    from newsletter.config import load_settings
    from newsletter.feeds import accept, reject
    from newsletter.store import open_db

    settings = load_settings(project)
    folder = make_issue(project)
    (folder / "inbox").mkdir()
    (folder / "inbox" / "story.md").write_text(STORY, encoding="utf-8")
    db_path = project / "contacts.db"
    open_db(db_path).conn.close()

    def accepting(section: str):
        return lambda: accept(open_db(db_path), settings, folder, ("story",), False, section)

    def rejecting():
        return lambda: reject(open_db(db_path), folder, ("story",), False)

    return folder, accepting, rejecting


def _at_once(project, *calls):
    """Each call in its own thread while another program holds the write lock, so each
    has looked at the folders before any may move a file; what each returned, or its
    NewsletterError's message."""
    from helpers import hold_write_lock

    from newsletter.errors import NewsletterError

    holder = hold_write_lock(project / "contacts.db", 1.0)
    answers: list[object] = [None] * len(calls)

    def run(n: int) -> None:
        try:
            answers[n] = calls[n]()
        except NewsletterError as exc:
            answers[n] = exc.format_message()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    holder.join()
    return answers


def test_one_candidate_triaged_in_three_tabs_at_once_is_triaged_once(project):
    folder, accepting, rejecting = _triage(project)
    answers = _at_once(project, accepting("tools"), accepting("events"), rejecting())
    done = [a for a in answers if a != GONE]
    assert len(done) == 1, answers
    # The winner's word stands: accepted into its section, or rejected; never both.
    kept = {
        "tools": [[("story.md", "story.md")], None, None],
        "events": [None, [("story.md", "story.md")], None],
        "": [None, None, ["story.md"]],
    }
    section = next(k for k, v in kept.items() if [a if a != GONE else None for a in answers] == v)
    story = folder / "items" / "story.md"
    assert (story.read_text(encoding="utf-8") if story.exists() else "") == (
        STORY.replace("news", section) if section else ""
    )
    assert list((folder / "inbox").iterdir()) == []


def test_accept_never_moves_a_candidate_over_an_item_made_while_it_waited(project):
    from helpers import hold_write_lock

    folder, accepting, _ = _triage(project)
    (folder / "items" / "story.md").write_text(STORY, encoding="utf-8")
    holder = hold_write_lock(project / "contacts.db", 1.5)
    answer: list[object] = []
    waiting = threading.Thread(target=lambda: answer.append(accepting("tools")()))
    waiting.start()
    time.sleep(0.5)  # the accept has looked at items/ and waits for the lock
    mine = "---\ntitle: Another editor's new item\nsection: news\n---\nMine.\n"
    (folder / "items" / "story-2.md").write_text(mine, encoding="utf-8")
    waiting.join(timeout=60)
    holder.join()
    assert answer == [[("story.md", "story-3.md")]]
    assert (folder / "items" / "story-2.md").read_text(encoding="utf-8") == mine
    assert (folder / "items" / "story-3.md").read_text(encoding="utf-8") == STORY.replace(
        "news", "tools"
    )
