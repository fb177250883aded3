"""newsletter.store.clicks: one count per issue and link, and nothing else."""

from __future__ import annotations

from newsletter.store import clicks, open_db


def test_each_click_adds_one_to_its_issue_and_link(tmp_path):
    db = open_db(tmp_path / "contacts.db")
    for issue, link in [("2026-Q4", 2), ("2026-Q4", 1), ("2026-Q4", 2), ("2027-Q1", 2)]:
        clicks.count_click(db, issue, link, f"https://example.org/{link}")
    assert clicks.clicks(db, "2026-Q4") == [
        clicks.LinkClicks(1, "https://example.org/1", 1),
        clicks.LinkClicks(2, "https://example.org/2", 2),
    ]
    assert clicks.clicks(db, "2027-Q1") == [clicks.LinkClicks(2, "https://example.org/2", 1)]
    assert clicks.clicks(db, "2025-Q1") == []
