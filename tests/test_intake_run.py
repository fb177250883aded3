"""newsletter intake: a mailbox of contribution emails into an issue's inbox, once each."""

from __future__ import annotations

import json
import mailbox
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml
from helpers import REPO, cli, cli_within, inbox_files, make_issue, special_file
from intake_mail import (
    EXPECTED,
    MESSAGES,
    WARNING,
    auto_reply,
    bounce,
    empty,
    maildir,
    mbox,
    outlook,
    plain,
    unknown,
)

from newsletter.models import Contact
from newsletter.store import open_db
from newsletter.store.contacts import create_contact

PLAIN_FILE = """---
title: Youth skills toolkit launched
section: tools
link: https://www.unicef.example/toolkit?lang=en
date: 2027-03-12
source: UNICEF
contributor: Jane Doe
organisation: UNICEF
collected_at: STAMP
---
Dear colleagues,

UNICEF has published a toolkit on youth skills for companies.\\
Read it at https://www.unicef.example/toolkit?utm\\_source=email&lang=en.

Best regards,\\
Jane
"""


def front(project: Path, name: str) -> dict:
    text = (project / "issues" / "2026-Q4" / "inbox" / name).read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def stamped(text: str) -> str:
    return re.sub(r"collected_at: '[^']+'", "collected_at: STAMP", text)


@pytest.mark.parametrize("make", [maildir, mbox], ids=["maildir", "mbox"])
def test_a_mailbox_of_contributions_gives_exactly_the_candidates_and_skip_lines(
    contributors, tmp_path, make
):
    result = cli(contributors, "intake", "2026-Q4", str(make(tmp_path / "box")))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == EXPECTED
    assert result.stderr == WARNING
    assert inbox_files(contributors) == sorted(
        [
            "annual-report-2026.md",
            "fwd-ilo-newsletter-october.md",
            "sdg-business-forum-geneva.md",
            "webinar-on-living-wages.md",
            "youth-skills-toolkit-launched.md",
        ]
    )
    assert not list((contributors / "issues" / "2026-Q4" / "items").glob("*toolkit*"))


def test_a_plain_text_contribution_is_written_as_the_inbox_writes_any_candidate(
    contributors, tmp_path
):
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    path = contributors / "issues" / "2026-Q4" / "inbox" / "youth-skills-toolkit-launched.md"
    assert stamped(path.read_text(encoding="utf-8")) == PLAIN_FILE


@pytest.mark.parametrize(
    "name,expected",
    [
        (
            "sdg-business-forum-geneva.md",
            {
                "title": "SDG Business Forum, Geneva",
                "section": "events",
                "link": "https://www.undp.example/events/forum?id=7",
                "source": "UNDP",
                "contributor": "Omar Khan",
                "organisation": "UNDP",
            },
        ),
        (
            "fwd-ilo-newsletter-october.md",
            {
                "title": "Fwd: ILO Newsletter - October",
                "section": "news",
                "link": "https://www.ilo.example/guide",
                "source": "UNICEF",
                "contributor": "Jane Doe",
                "organisation": "UNICEF",
                "undated": True,
            },
        ),
        (
            "webinar-on-living-wages.md",
            {
                "title": "Webinar on living wages",
                "section": "events",
                "source": "Unverified sender",
                "contributor": "Sam Roe <sam@example.net>",
                "undated": True,
            },
        ),
    ],
)
def test_each_candidate_names_its_contributor_and_organisation(
    contributors, tmp_path, name, expected
):
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    data = front(contributors, name)
    data.pop("collected_at")
    data.pop("date", None)
    assert data == expected


def test_outlook_html_loses_its_word_markup_and_keeps_its_words_and_link(contributors, tmp_path):
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    path = contributors / "issues" / "2026-Q4" / "inbox" / "sdg-business-forum-geneva.md"
    body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
    assert body == (
        "The **Business & SDG Forum** opens in Geneva. Register on "
        "[our page](https://www.undp.example/events/forum?utm_campaign=q4&id=7).\n\n"
        "· Panels on finance\n"
    )
    assert front(contributors, "sdg-business-forum-geneva.md")["date"].isoformat() == "2026-11-05"


def test_attachments_are_not_kept_and_the_candidate_says_so(contributors, tmp_path):
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    path = contributors / "issues" / "2026-Q4" / "inbox" / "annual-report-2026.md"
    body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
    assert body == (
        "Our annual report is out; the PDF is attached.\n\n"
        "The message had 1 attachment(s), not kept: ask for a link.\n"
    )
    assert sorted(p.name for p in (contributors / "issues" / "2026-Q4").rglob("*.pdf")) == []


def test_a_second_run_takes_nothing(contributors, tmp_path):
    box = maildir(tmp_path / "box")
    cli(contributors, "intake", "2026-Q4", str(box))
    before = {
        p.name: p.read_bytes() for p in (contributors / "issues" / "2026-Q4" / "inbox").iterdir()
    }
    again = cli(contributors, "intake", "2026-Q4", str(box), "-q")
    assert again.exit_code == 0
    assert again.stdout == "0 taken into issues/2026-Q4/inbox, 9 skipped.\n"
    after = {
        p.name: p.read_bytes() for p in (contributors / "issues" / "2026-Q4" / "inbox").iterdir()
    }
    assert after == before


def test_each_contribution_is_recorded_for_its_organisation_once(contributors, tmp_path):
    from newsletter.store.intake import submitted

    box = maildir(tmp_path / "box")
    cli(contributors, "intake", "2026-Q4", str(box))
    cli(contributors, "intake", "2026-Q4", str(box))
    db = open_db(contributors / "contacts.db")
    counts = submitted(db, ["2026-Q4"])
    db.conn.close()
    inbox = contributors / "issues" / "2026-Q4" / "inbox"
    by_front: dict[tuple[str, str], int] = {}
    for path in inbox.glob("*.md"):
        key = ("2026-Q4", front(contributors, path.name).get("organisation", ""))
        by_front[key] = by_front.get(key, 0) + 1
    assert counts == by_front and sum(counts.values()) == 5


def test_a_second_run_does_not_read_again_what_it_took_in(contributors, tmp_path, monkeypatch):
    import newsletter.intake.run as run

    box = maildir(tmp_path / "box")
    cli(contributors, "intake", "2026-Q4", str(box), "--no-ack")
    read: list[bytes] = []
    real = run.read_message

    def counted(data, sections):
        read.append(data)
        return real(data, sections)

    monkeypatch.setattr(run, "read_message", counted)
    again = cli(contributors, "intake", "2026-Q4", str(box), "-q", "--no-ack")
    assert again.stdout == "0 taken into issues/2026-Q4/inbox, 9 skipped.\n"
    # Only what was never taken is read again (the auto-reply, the bounce, the empty
    # one); the five taken and the copy of one of them are not: reading is most of a
    # run's time.
    assert len(read) == 3


def test_a_message_taken_is_not_taken_again_from_another_mailbox(contributors, tmp_path):
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    result = cli(contributors, "intake", "2026-Q4", str(mbox(tmp_path / "copy.mbox")))
    assert result.stdout.splitlines()[-1] == "0 taken into issues/2026-Q4/inbox, 9 skipped."


def test_the_candidates_are_listed_by_inbox_with_the_unverified_sender_visible(
    contributors, tmp_path
):
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    listed = json.loads(cli(contributors, "inbox", "2026-Q4", "--json").stdout)["candidates"]
    assert {c["name"]: c["source"] for c in listed} == {
        "annual-report-2026": "UNDP",
        "fwd-ilo-newsletter-october": "UNICEF",
        "sdg-business-forum-geneva": "UNDP",
        "webinar-on-living-wages": "Unverified sender",
        "youth-skills-toolkit-launched": "UNICEF",
    }
    assert all(c["problems"] == [] for c in listed)
    # Who sent each, for the editor: their organisation only when the directory knows them.
    assert {c["name"]: (c["contributor"], c["organisation"]) for c in listed} == {
        "annual-report-2026": ("Omar Khan", "UNDP"),
        "fwd-ilo-newsletter-october": ("Jane Doe", "UNICEF"),
        "sdg-business-forum-geneva": ("Omar Khan", "UNDP"),
        "webinar-on-living-wages": ("Sam Roe <sam@example.net>", None),
        "youth-skills-toolkit-launched": ("Jane Doe", "UNICEF"),
    }


def test_an_accepted_contribution_passes_check(contributors, tmp_path):
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    accepted = cli(contributors, "accept", "2026-Q4", "annual-report-2026")
    assert accepted.exit_code == 0, accepted.output
    checked = cli(contributors, "check", "2026-Q4")
    assert checked.exit_code == 0, checked.output


def test_a_message_without_a_message_id_is_named_by_its_place_and_taken_once(
    contributors, tmp_path
):
    box = tmp_path / "box"
    mailbox.Maildir(box, create=True).close()
    data = re.sub(rb"Message-ID: [^\n]*\n", b"", plain())
    (box / "new" / "1700000000.M1P1.host").write_bytes(data)
    (box / "new" / "1700000001.M1P1.host").write_bytes(data)
    result = cli(contributors, "intake", "2026-Q4", str(box))
    assert result.stdout.splitlines() == [
        "inbox/youth-skills-toolkit-launched.md  from UNICEF (Jane Doe)",
        "1700000001.M1P1.host: skipped, already taken in",
        "1 acknowledgement sent.",
        "1 taken into issues/2026-Q4/inbox, 1 skipped.",
    ]


def test_quiet_prints_warnings_and_the_summary_only(contributors, tmp_path):
    result = cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")), "-q")
    assert result.stdout == "5 taken into issues/2026-Q4/inbox, 4 skipped.\n"
    assert result.stderr == WARNING


def test_json_names_each_message_and_what_became_of_it(contributors, tmp_path):
    result = cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")), "--json")
    data = json.loads(result.stdout)
    assert data["summary"] == "5 taken into issues/2026-Q4/inbox, 4 skipped."
    assert data["messages"][5] == {
        "message": "<unknown@example.net>",
        "candidate": "webinar-on-living-wages.md",
        "from": "Unverified: Sam Roe <sam@example.net>",
        "skipped": None,
        "warnings": ["date '31 February 2027' is not a real date; ignored"],
    }
    assert [m["skipped"] for m in data["messages"]].count(None) == 5


def test_the_readme_example_is_what_intake_prints(contributors, tmp_path):
    box = tmp_path / "box"
    mailbox.Maildir(box, create=True).close()
    chosen = (plain, outlook, auto_reply, unknown, bounce, empty, plain)
    for n, make in enumerate(chosen, 1):
        (box / "new" / f"{n:02d}").write_bytes(make())
    result = cli(contributors, "intake", "2026-Q4", str(box))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("$ newsletter intake 2026-Q4 ~/Maildir/.contributions\n", 1)[1]
    assert result.stdout == example.split("```", 1)[0]


def test_a_message_too_large_is_skipped_with_one_line(contributors, tmp_path):
    box = tmp_path / "box"
    mailbox.Maildir(box, create=True).close()
    big = plain().replace(b"Dear colleagues,", b"Dear colleagues, " + b"x" * (11 * 1024 * 1024))
    (box / "new" / "01").write_bytes(big)
    result = cli(contributors, "intake", "2026-Q4", str(box))
    assert result.stdout.splitlines() == [
        "<plain@unicef.example>: skipped, larger than 10 MB; ask for a link instead",
        "0 taken into issues/2026-Q4/inbox, 1 skipped.",
    ]


@pytest.mark.parametrize(
    "source,message",
    [
        ("nothing-here", "no such file or folder. Pass an mbox file or Maildir."),
        (
            "folder",
            "a folder but not a Maildir (no cur/ and new/). Pass a Maildir folder or an mbox file.",
        ),
    ],
)
def test_a_source_that_is_no_mailbox_is_one_line(contributors, tmp_path, source, message):
    (tmp_path / "folder").mkdir()
    result = cli(contributors, "intake", "2026-Q4", str(tmp_path / source))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / source}: {message}\n"


def test_an_unknown_issue_is_one_line_and_nothing_is_taken(contributors, tmp_path):
    result = cli(contributors, "intake", "2027-Q1", str(maildir(tmp_path / "box")))
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    again = cli(contributors, "intake", "2026-Q4", str(tmp_path / "box"), "-q")
    assert again.stdout == "5 taken into issues/2026-Q4/inbox, 4 skipped.\n"


def test_the_messages_are_those_the_issue_lists():
    # The order the tests above expect: the Maildir's file names sort as MESSAGES.
    assert [n for n, _ in MESSAGES] == sorted(n for n, _ in MESSAGES)


def test_an_empty_maildir_takes_nothing(contributors, tmp_path):
    box = tmp_path / "box"
    mailbox.Maildir(box, create=True).close()
    result = cli(contributors, "intake", "2026-Q4", str(box))
    assert (result.exit_code, result.stdout) == (
        0,
        "0 taken into issues/2026-Q4/inbox, 0 skipped.\n",
    )
    assert not (contributors / "issues" / "2026-Q4" / "inbox").exists()


def test_a_fifo_in_the_maildir_is_skipped_with_one_line_and_never_waited_on(contributors, tmp_path):
    box = maildir(tmp_path / "box")
    special_file(box / "new" / "00-fifo", "fifo")
    result = cli_within(30, contributors, "intake", "2026-Q4", str(box))
    assert (
        result.stdout.splitlines()[0]
        == "00-fifo: skipped, new/00-fifo is a FIFO (named pipe), not a file"
    )
    assert result.stdout.splitlines()[-1] == "5 taken into issues/2026-Q4/inbox, 5 skipped."


@pytest.mark.parametrize(
    "contact,line,source,contributor",
    [
        (
            # No organisation: the source, printed under the item, never names them.
            {"name": "Lena Berg", "organisation": ""},
            "inbox/youth-skills-toolkit-launched.md  from Lena Berg",
            "A UN focal point",
            "Lena Berg",
        ),
        (
            {"name": "", "organisation": "ILO"},
            # The directory has no name: the one the message gives.
            "inbox/youth-skills-toolkit-launched.md  from ILO (Jane Doe)",
            "ILO",
            "Jane Doe",
        ),
    ],
)
def test_a_contact_without_a_name_or_organisation_still_verifies_the_sender(
    project, tmp_path, contact, line, source, contributor
):
    make_issue(project)
    db = open_db(project / "contacts.db")
    create_contact(db, Contact(email="jane.doe@unicef.example", **contact), "test", "t")
    db.conn.close()
    box = tmp_path / "box"
    mailbox.Maildir(box, create=True).close()
    (box / "new" / "01").write_bytes(plain())
    result = cli(project, "intake", "2026-Q4", str(box))
    assert result.stdout.splitlines()[0] == line
    data = front(project, "youth-skills-toolkit-launched.md")
    assert (data["source"], data["contributor"]) == (source, contributor)


def test_a_forwarded_message_keeps_its_own_date_and_section_lines_as_text(contributors, tmp_path):
    # Only the sender's own words say "Section:" or "Date:" for the contribution.
    cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    path = contributors / "issues" / "2026-Q4" / "inbox" / "fwd-ilo-newsletter-october.md"
    assert path.read_text(encoding="utf-8").split("---\n", 2)[2] == (
        "Worth a mention, I think.\n\n"
        "\\---------- Forwarded message ---------\\\n"
        "From: ILO News \\<news@ilo.example>\\\n"
        "Date: Mon, Oct 5, 2026 at 9:30 AM\\\n"
        "Subject: ILO Newsletter - October\n\n"
        "Section: Features\n\n"
        "Decent work in supply chains: a new guide.\\\n"
        "https://www.ilo.example/guide?mc\\_cid=abc&mc\\_eid=def\n"
    )


def test_a_message_another_run_took_in_meanwhile_is_left_to_it(contributors, tmp_path, monkeypatch):
    from newsletter.intake import run
    from newsletter.store.base import writing
    from newsletter.store.intake import Taken, record_taken

    looked_up = run.contacts_by_email

    def meanwhile(db, emails):  # a second intake commits between this one's look and write
        other = open_db(contributors / "contacts.db")
        with writing(other):
            record_taken(other, [Taken("id:plain@unicef.example", "2026-Q4", "elsewhere.md")], "t")
        other.conn.close()
        return looked_up(db, emails)

    monkeypatch.setattr(run, "contacts_by_email", meanwhile)
    result = cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")))
    assert result.stdout.splitlines()[0] == "<plain@unicef.example>: skipped, already taken in"
    assert result.stdout.splitlines()[-1] == "4 taken into issues/2026-Q4/inbox, 5 skipped."
    assert "youth-skills-toolkit-launched.md" not in inbox_files(contributors)


# -- acknowledgements -----------------------------------------------------------------


def smtp_house_sender(project: Path, port: int) -> None:
    """The house's default sender: SMTP on 127.0.0.1:``port``."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + '\n[tool.newsletter.send]\nsender = "local"\n[tool.newsletter.senders.local]\n'
        f'plugin = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 5\n',
        encoding="utf-8",
    )


def test_each_known_sender_gets_one_acknowledgement_and_an_unknown_sender_none(
    contributors, tmp_path, smtp, monkeypatch
):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-0123456789abcdef")
    smtp_house_sender(contributors, smtp.port)
    box = maildir(tmp_path / "box")
    result = cli(contributors, "intake", "2026-Q4", str(box))
    assert result.exit_code == 0, result.output
    assert "4 acknowledgements sent." in result.stdout.splitlines()
    # Jane twice (plain, forwarded), Omar twice (outlook, the attachment); Sam unverified.
    assert smtp.per_recipient() == {"jane.doe@unicef.example": 2, "omar@undp.example": 2}
    texts = {}
    for message in smtp.messages:
        parsed = message_from_bytes(message.data, policy=policy.default)
        text = " ".join(parsed.get_body(("plain",)).get_content().split())
        texts[re.search(r'We received "([^"]+)"', text)[1]] = text
    assert sorted(texts) == [
        "Annual report 2026",
        "Fwd: ILO Newsletter - October",
        "SDG Business Forum, Geneva",
        "Youth skills toolkit launched",
    ]
    assert "for issue 2026-Q4 of The UN-Business Focal Point" in texts["Annual report 2026"]
    assert "The editors will review it" in texts["Annual report 2026"]
    assert "had 1 attachment(s), which we do not keep" in texts["Annual report 2026"]
    assert "please send us a link" in texts["Annual report 2026"]
    assert "attachment" not in texts["Youth skills toolkit launched"]
    again = cli(contributors, "intake", "2026-Q4", str(box))  # nothing new: no email
    assert "acknowledgement" not in again.stdout
    assert len(smtp.messages) == 4


def test_no_ack_sends_none(contributors, tmp_path, smtp, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-0123456789abcdef")
    smtp_house_sender(contributors, smtp.port)
    result = cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")), "--no-ack")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [line for line in EXPECTED if "acknowledge" not in line]
    assert smtp.messages == []


def test_a_failed_acknowledgement_is_one_line_each_and_keeps_every_candidate(
    contributors, tmp_path, monkeypatch
):
    from helpers import free_port

    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-0123456789abcdef")
    smtp_house_sender(contributors, free_port())  # nothing listens there
    result = cli(contributors, "intake", "2026-Q4", str(maildir(tmp_path / "box")), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["acknowledged"] == 0
    lines = report["not_acknowledged"]
    assert [line.split(": acknowledgement to ")[0] for line in lines] == [
        "<plain@unicef.example>",
        "<outlook@undp.example>",
        "<fwd@unicef.example>",
        "<attach@undp.example>",
    ]
    assert all("\n" not in line for line in lines)
    assert len(inbox_files(contributors)) == 5
    again = cli(contributors, "intake", "2026-Q4", str(tmp_path / "box"))
    assert "0 taken into issues/2026-Q4/inbox, 9 skipped." in again.stdout
