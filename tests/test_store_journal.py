"""newsletter.store.journal: unsubscribes recorded beside contacts.db, applied on the next open."""

from __future__ import annotations

import errno
import threading

import pytest
from helpers import add_contacts, cli, dump, outbox, rows

from newsletter.errors import NewsletterError
from newsletter.store import journal as journal_module
from newsletter.store import open_db, readonly_db
from newsletter.store.contacts import get_contact, history
from newsletter.store.journal import (
    MAX_BYTES,
    apply,
    journal_path,
    pending,
    read,
    record,
)

AT = "2026-11-30T09:15:00+00:00"


@pytest.fixture
def db_path(project, people):
    return project / "contacts.db"


def leftovers(db_path):
    """The journal and any claimed copy of it still beside the database."""
    return sorted(p.name for p in db_path.parent.iterdir() if ".unsubscribe-journal" in p.name)


def status(db_path, contact_id):
    return get_contact(open_db(db_path), contact_id).status


def test_a_recorded_unsubscribe_is_applied_by_the_next_open(db_path, people):
    jane, omar = people
    record(db_path, jane.id, "2026-Q4", at=AT)
    assert journal_path(db_path).read_text() == (
        f'{{"contact": {jane.id}, "issue": "2026-Q4", "at": "{AT}"}}\n'
    )
    assert pending(db_path) == {jane.id}
    db = open_db(db_path)
    assert get_contact(db, jane.id).status == "unsubscribed"
    assert get_contact(db, omar.id).status == "subscribed"
    last = history(db, jane.id)[-1]
    assert (last.at, last.old, last.new, last.source, last.actor) == (
        AT,  # when the person asked, not when it was applied
        "subscribed",
        "unsubscribed",
        "unsubscribe-link:2026-Q4",
        "recipient",
    )
    assert leftovers(db_path) == [] and pending(db_path) == set()


@pytest.mark.parametrize(
    ("issue", "source"),
    [
        ("2026-Q4", "unsubscribe-link:2026-Q4"),
        ("A" + "b.c_d-" * 10 + "xyz", "unsubscribe-link:A" + "b.c_d-" * 10 + "xyz"),  # 64
        ("évènement", "unsubscribe-link:unknown"),  # no ID of ours: kept readable
        # An ID no issue folder can have (models.ISSUE_ID); the journal's own copy of
        # the pattern let them through.
        ("..", "unsubscribe-link:unknown"),
        ("-2026-Q4", "unsubscribe-link:unknown"),
    ],
)
def test_every_issue_id_reads_back(db_path, people, issue, source):
    jane, _ = people
    record(db_path, jane.id, issue)
    record(db_path, 0, issue)  # a rehearsal's token: nobody
    assert len(read(journal_path(db_path))[0]) == 1
    db = open_db(db_path)
    assert history(db, jane.id)[-1].source == source


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_a_new_journal_gets_the_permissions_of_the_database(db_path, people, mode):
    """The commands applying it may run as another user (in the same group)."""
    jane, _ = people
    db_path.chmod(mode)
    record(db_path, jane.id, "2026-Q4")
    assert journal_path(db_path).stat().st_mode & 0o777 == mode


def test_the_app_and_the_commands_find_one_journal_through_a_symlink(db_path, people, tmp_path):
    jane, _ = people
    link = tmp_path / "elsewhere.db"
    link.symlink_to(db_path)
    record(link, jane.id, "2026-Q4")
    assert (
        journal_path(link)
        == journal_path(db_path)
        == db_path.parent / ("contacts.db.unsubscribe-journal")
    )
    assert status(db_path, jane.id) == "unsubscribed"


def test_a_contact_is_written_once_while_pending(db_path, people):
    jane, omar = people
    for _ in range(5):  # a mail client retrying its one-click POST
        record(db_path, jane.id, "2026-Q4")
    record(db_path, omar.id, "2026-Q3")
    assert len(journal_path(db_path).read_text().splitlines()) == 2


def test_a_full_journal_refuses_another_request(db_path, people):
    jane, _ = people
    journal_path(db_path).write_bytes(b"x" * (MAX_BYTES - 10) + b"\n")
    with pytest.raises(OSError, match="journal is full"):
        record(db_path, jane.id, "2026-Q4")


@pytest.mark.parametrize(
    "garbage",
    [
        b'{"contact": 1, "issue": "2026-Q4", "at": "2026-11-30T09:15:00+0',  # torn: no newline
        b"\xff\xfe not utf-8\n",
        b"[1, 2]\n",
        b'{"contact": true, "issue": "2026-Q4", "at": "2026-11-30T09:15:00+00:00"}\n',
        b'{"contact": "1", "issue": "2026-Q4", "at": "2026-11-30T09:15:00+00:00"}\n',
        b'{"contact": 1, "issue": "x\\nBEGIN", "at": "2026-11-30T09:15:00+00:00"}\n',
        b'{"contact": 1, "issue": "..", "at": "2026-11-30T09:15:00+00:00"}\n',
        b'{"contact": 1, "issue": "2026-Q4", "at": "2026-02-30T09:15:00+00:00"}\n',
        b'{"contact": 1, "issue": "2026-Q4", "at": "2026-11-30T09:15:00"}\n',  # no zone
        b'{"contact": 1, "issue": "2026-Q4", "at": "2026-11-30T09:15:00+00:00", "x": 1}\n',
        b'{"contact": 99999999999999999999999, "issue": "2026-Q4", "at": "2026-11-30"}\n',
        b"[" * 100_000 + b"\n",
        b"9" * 5000 + b"\n",
        b"\n",
    ],
)
def test_garbage_is_skipped_with_one_warning_and_the_rest_applied(db_path, people, garbage, capsys):
    jane, omar = people
    record(db_path, jane.id, "2026-Q4", at=AT)
    with journal_path(db_path).open("ab") as fh:
        fh.write(garbage)
    record(db_path, omar.id, "2026-Q4", at=AT)  # after a torn line: on a line of its own
    requests, skipped = read(journal_path(db_path))
    assert [r.contact_id for r in requests] == [jane.id, omar.id] and skipped == 1
    open_db(db_path).conn.close()
    assert capsys.readouterr().err == (
        f"warning: {journal_path(db_path)}: skipped 1 unreadable line (cut short by a crash, "
        "or not written by newsletter); the other requests were applied.\n"
    )
    assert status(db_path, jane.id) == status(db_path, omar.id) == "unsubscribed"
    assert leftovers(db_path) == []


def test_a_journal_of_only_garbage(db_path, people, capsys):
    jane, _ = people
    journal_path(db_path).write_bytes(b"\x00" * 100_000 + b"\n" + b"z" * 2_000_000)
    open_db(db_path).conn.close()
    assert "skipped 2 unreadable lines" in capsys.readouterr().err
    assert status(db_path, jane.id) == "subscribed" and leftovers(db_path) == []


def test_a_crash_after_the_commit_applies_again_harmlessly(db_path, people):
    """The claimed copy is deleted after the commit; a crash in between leaves it."""
    jane, omar = people
    line = f'{{"contact": {jane.id}, "issue": "2026-Q4", "at": "{AT}"}}\n'
    record(db_path, jane.id, "2026-Q4", at=AT)
    db = open_db(db_path)  # applied and committed
    rows_before = len(history(db, jane.id))
    db.conn.close()
    db_path.with_name("contacts.db.unsubscribe-journal.applying-0").write_text(line)
    record(db_path, omar.id, "2026-Q3", at=AT)  # and a new request since
    db = open_db(db_path)
    assert get_contact(db, jane.id).status == "unsubscribed"
    assert len(history(db, jane.id)) == rows_before  # applied twice, changed once
    assert get_contact(db, omar.id).status == "unsubscribed"
    assert leftovers(db_path) == []


def test_a_crash_before_the_commit_loses_nothing(db_path, people, monkeypatch):
    jane, _ = people
    record(db_path, jane.id, "2026-Q4", at=AT)
    db = open_db(db_path, wait=0)  # applies it; undo that, as a crash before COMMIT would
    db.execute("UPDATE contacts SET status = 'subscribed' WHERE id = ?", [jane.id])
    record(db_path, jane.id, "2026-Q4", at=AT)
    import newsletter.store.journal as journal

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(journal, "_unsubscribe", crash)
    with pytest.raises(KeyboardInterrupt):
        apply(db, db_path)
    monkeypatch.undo()
    assert get_contact(db, jane.id).status == "subscribed"  # rolled back
    assert [n.split("-")[0] for n in leftovers(db_path)] == ["contacts.db.unsubscribe"]
    assert pending(db_path) == {jane.id}
    db.conn.close()
    assert status(db_path, jane.id) == "unsubscribed" and leftovers(db_path) == []


def test_appends_while_another_command_applies_are_never_lost(project):
    ids = add_contacts(project, 120)
    db_path = project / "contacts.db"
    db = open_db(db_path)
    stop = threading.Event()

    def appender(chunk):
        for contact_id in chunk:
            record(db_path, contact_id, "2026-Q4")

    threads = [threading.Thread(target=appender, args=(ids[n::6],)) for n in range(6)]
    for thread in threads:
        thread.start()
    applied = 0
    while any(t.is_alive() for t in threads) or not stop.is_set():
        applied += apply(db, db_path)
        if not any(t.is_alive() for t in threads):
            stop.set()
    applied += apply(db, db_path)
    assert applied == 120
    assert rows(db_path, "SELECT count(*) FROM contacts WHERE status = 'unsubscribed'") == [(120,)]
    assert leftovers(db_path) == []


def test_a_journal_that_cannot_be_applied_stops_the_command(db_path, people):
    jane, _ = people
    journal_path(db_path).mkdir()  # a folder where the journal should be
    with pytest.raises(NewsletterError, match="cannot apply the recorded unsubscribes"):
        open_db(db_path)
    result = cli(db_path.parent, "contacts", "list")
    assert result.exit_code == 1 and result.output.startswith(
        f"Error: {journal_path(db_path)}: cannot apply the recorded unsubscribes"
    )


def test_a_dry_run_counts_them_and_writes_nothing(db_path, people):
    jane, omar = people
    record(db_path, jane.id, "2026-Q4", at=AT)
    before, journal = dump(db_path), journal_path(db_path).read_bytes()
    db = readonly_db(db_path)
    assert get_contact(db, jane.id).status == "unsubscribed"
    assert get_contact(db, omar.id).status == "subscribed"
    assert dump(db_path) == before and journal_path(db_path).read_bytes() == journal


def test_send_applies_them_before_it_mails_anyone(outbox_ready):
    db_path = outbox_ready / "contacts.db"
    first = get_contact(open_db(db_path), "person0@example.org")
    record(db_path, first.id, "2026-Q3", at=AT)
    dry = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert dry.exit_code == 0 and "via outbox: 4 to send" in dry.output
    result = cli(outbox_ready, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    sent = [path.read_text() for path in outbox(outbox_ready)]
    assert len(sent) == 4 and not any("person0@example.org" in text for text in sent)
    assert status(db_path, first.id) == "unsubscribed"
    assert leftovers(db_path) == []


def test_a_journal_that_cannot_be_read_is_named_by_a_dry_run_and_passed_over_by_pending(
    db_path, people, monkeypatch
):
    # The three read-every-file loops are one (_read_all); a read error from the
    # middle of a file (EIO) carries no file name, so it is given the path read.
    jane, omar = people
    record(db_path, jane.id, "2026-Q4", at=AT)
    journal = journal_path(db_path)
    claimed = journal.with_name(journal.name + ".applying-crashed")
    journal.rename(claimed)
    record(db_path, omar.id, "2026-Q4", at=AT)
    real_read = journal_module.read

    def failing(path):
        if path == claimed:
            raise OSError(errno.EIO, "Input/output error")
        return real_read(path)

    monkeypatch.setattr(journal_module, "read", failing)
    assert pending(db_path) == {omar.id}
    with pytest.raises(NewsletterError) as caught:
        readonly_db(db_path)
    assert str(caught.value) == (
        f"{claimed}: cannot read the recorded unsubscribes (Input/output error). "
        "Make it readable, then run the command again."
    )
