"""newsletter.store.database: open_db applies pending migrations, waiting for another writer."""

from __future__ import annotations

import pytest
from helpers import cli, hold_write_lock
from sqlite_utils.migrations import Migrations

from newsletter.store import MIGRATIONS, open_db


@pytest.fixture
def db(project):
    return project / "contacts.db"


def test_pending_migrations_wait_for_another_writer(project, db, monkeypatch):
    cli(project, "contacts", "add", "b@who.example.org")
    # A newer version's migration that reads the schema before it writes, as
    # sqlite-utils' add_column does.
    newer = Migrations("test.newer")
    newer()(lambda store: store["contacts"].add_column("nickname", str))
    thread = hold_write_lock(db, 0.3)
    store = open_db(db, [*MIGRATIONS, newer])
    thread.join()
    assert "nickname" in store["contacts"].columns_dict
    assert store.execute("PRAGMA secure_delete").fetchone() == (1,)
    store.conn.close()


def test_the_shipped_sample_database_has_every_migration(tmp_path):
    """The README's first command builds from a fresh clone and must leave it unchanged."""
    import shutil

    from helpers import REPO
    from sqlite_utils import Database

    copy = tmp_path / "contacts.db"
    shutil.copyfile(REPO / "contacts.db", copy)
    db = Database(copy)
    assert [m.name for m in MIGRATIONS if m.pending(db)] == []
