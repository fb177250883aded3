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
