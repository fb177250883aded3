"""Helpers for the send tests: a built issue, contacts written straight into the db."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from click.testing import CliRunner
from conftest import make_issue

from newsletter.build.pipeline import build
from newsletter.cli import main
from newsletter.config import load_settings
from newsletter.store import open_db
from newsletter.store.contacts import address_hash, now

SECRET = "test-secret-0123456789abcdef"


def built(root: Path, issue_id: str = "2026-Q4", settings: str = "") -> Path:
    """Append ``settings`` to the project's pyproject, then make and build an issue."""
    if settings:
        with open(root / "pyproject.toml", "a", encoding="utf-8") as fh:
            fh.write("\n" + settings)
    folder = make_issue(root, issue_id)
    assert build(load_settings(root), folder).ok
    return folder


def add_contacts(root: Path, rows: list[dict] | int) -> list[int]:
    """Insert contacts (dicts of columns, or N generated ones); their ids."""
    if isinstance(rows, int):
        rows = [{"email": f"person{n}@example.org", "name": f"Person {n}"} for n in range(rows)]
    db = open_db(root / "contacts.db")
    ids = []
    with db.atomic():
        for row in rows:
            values = {
                "status": "subscribed",
                "listed": 1,
                "source": "test",
                "created_at": now(),
                "updated_at": now(),
                **row,
            }
            ids.append(db["contacts"].insert(values).last_pk)
    db.conn.close()
    return ids


def set_status(root: Path, email_address: str, status: str) -> None:
    db = open_db(root / "contacts.db")
    db.execute("UPDATE contacts SET status = ? WHERE email = ?", [status, email_address])
    db.conn.close()


def suppress(root: Path, email_address: str) -> None:
    db = open_db(root / "contacts.db")
    db["suppression"].insert({"hash": address_hash(email_address), "reason": "test", "at": now()})
    db.conn.close()


def ledger_rows(root: Path, issue_id: str = "2026-Q4") -> list[dict]:
    db = open_db(root / "contacts.db")
    rows = list(db.query("SELECT * FROM deliveries WHERE issue = ? ORDER BY id", [issue_id]))
    db.conn.close()
    return rows


def cli(root: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["--root", str(root), *args], input=input)


def smtp_args(port: int) -> list[str]:
    return [
        "--sender",
        "smtp",
        "-o",
        "host=127.0.0.1",
        "-o",
        f"port={port}",
        "-o",
        "security=none",
        "-o",
        "timeout=10",
    ]


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)
