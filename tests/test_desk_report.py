"""newsletter/desk/report.py: the Report page shows the very page `newsletter report ID
--html` writes, on the real desk served on 127.0.0.1."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests
from helpers import SECRET, add_contacts, built, cli, serve_app

from newsletter.config import load_settings
from newsletter.desk import desk_app

# The report's one line that changes from minute to minute: when it was made.
MADE = re.compile(r"figures as of [^<]*")


@pytest.fixture
def sent(outbox_ready: Path) -> Path:
    """Five contacts sent the issue through the outbox."""
    assert cli(outbox_ready, "send", "2026-Q4", "--yes").exit_code == 0
    return outbox_ready


def framed(page: str) -> str:
    """The report inside the desk's frame, as the browser reads its srcdoc."""
    found = re.search(r'<iframe class="report" title="([^"]+)" sandbox srcdoc="([^"]*)"', page)
    assert found, page
    assert found[1] == "The report on 2026-Q4 for management"
    return html.unescape(found[2])


def test_the_report_page_shows_the_command_s_page(sent: Path):
    command = cli(sent, "report", "2026-Q4", "--html")
    assert command.exit_code == 0
    with serve_app(desk_app(load_settings(sent), sent / "contacts.db")) as base:
        page = requests.get(f"{base}/issues/2026-Q4/report", timeout=30)
    assert page.status_code == 200
    shown = framed(page.text)
    assert MADE.sub("", shown) == MADE.sub("", command.output)
    assert "<dt>Recipients</dt><dd>5</dd>" in shown
    assert 'href="/issues/2026-Q4/report.html" download="report-2026-Q4.html"' in page.text


def test_the_report_is_offered_as_a_file_to_forward(sent: Path):
    command = cli(sent, "report", "2026-Q4", "--html")
    with serve_app(desk_app(load_settings(sent), sent / "contacts.db")) as base:
        reply = requests.get(f"{base}/issues/2026-Q4/report.html", timeout=30)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="report-2026-Q4.html"'
    assert MADE.sub("", reply.text) == MADE.sub("", command.output)


def test_an_issue_not_sent_yet_has_an_empty_report(project: Path):
    built(project)
    add_contacts(project, 2)
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        page = requests.get(f"{base}/issues/2026-Q4/report", timeout=30)
    assert page.status_code == 200
    assert "Nothing sent yet" in framed(page.text)
    assert "<p>No deliveries recorded yet.</p>" in framed(page.text)


@pytest.mark.parametrize("path", ["report", "report.html"])
def test_an_issue_that_does_not_exist_is_not_found(project: Path, path: str, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project)
    with serve_app(desk_app(load_settings(project), project / "contacts.db")) as base:
        reply = requests.get(f"{base}/issues/2031-Q1/{path}", timeout=30)
    assert reply.status_code == 404
