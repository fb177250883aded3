"""newsletter.store.ledger: the delivery ledger's migrations."""

from __future__ import annotations

from newsletter.store import open_db


def test_the_ledger_migration_brings_old_indexes_in_line(project):
    db = open_db(project / "contacts.db")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_deliveries_indexes'")
    db.execute("DROP INDEX idx_deliveries_contact")
    db.execute("CREATE INDEX idx_deliveries_todo ON deliveries(issue, sender, status, id)")
    db.execute("CREATE INDEX idx_deliveries_sent_at ON deliveries(sender, sent_at)")
    db.conn.close()
    db = open_db(project / "contacts.db")
    names = sorted(i.name for i in db["deliveries"].indexes)
    assert [name for name in names if not name.startswith("sqlite_")] == [
        "idx_deliveries_contact",
        "idx_deliveries_message_id",
    ]


def test_issues_of_a_contact_most_recent_first(project):
    from newsletter.models import Contact
    from newsletter.store import ledger
    from newsletter.store.contacts import create_contact

    db = open_db(project / "contacts.db")
    one = create_contact(db, Contact(email="one@who.example.org"), "t", "t")
    for issue, at in (("2026-Q3", "2026-09-15"), ("2026-Q4", "2026-12-15")):
        for sender in ("outbox", "smtp"):  # a rehearsal and the send: one issue
            ledger.snapshot(db, issue, sender, issue, "example.org")
        db.execute("UPDATE deliveries SET sent_at = ? WHERE issue = ?", [at, issue])
    assert ledger.issues_of(db, one.id) == ["2026-Q4", "2026-Q3"]
    assert ledger.issues_of(db, one.id + 1) == []
