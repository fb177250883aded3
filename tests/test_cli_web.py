"""newsletter.cli.web: `newsletter serve` says when it cannot listen."""

from __future__ import annotations

import socket

import pytest
from helpers import cli

from newsletter.models import Contact
from newsletter.store import open_db
from newsletter.store.contacts import create_contact

SECRET = "a-test-secret-that-is-long-enough"


@pytest.fixture
def people(project):
    db = open_db(project / "contacts.db")
    jane = create_contact(db, Contact(email="jane.doe@unicef.example", name="Jane"), "test", "t")
    omar = create_contact(db, Contact(email="omar@undp.example", name="Omar"), "test", "t")
    db.conn.close()
    return jane, omar


def test_serve_says_when_it_cannot_listen(project, people, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(project, "serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: 127.0.0.1:{port}: cannot listen (Address already in use). "
        "Pass another --port, or a --host of this machine.\n"
    )
