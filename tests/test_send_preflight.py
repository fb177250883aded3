"""newsletter.send.preflight: what refuses a send before anything is written or sent."""

from __future__ import annotations

import json

import pytest
from helpers import add_contacts, built, cli, ledger_rows, outbox

from newsletter.build.pipeline import input_digest
from newsletter.config import load_settings


def test_refuses_a_missing_failing_or_stale_build(project):
    folder = built(project)
    add_contacts(project, 2)
    report = folder / "build" / "report.json"
    saved = report.read_text()
    report.write_text(saved.replace('"ok": true', '"ok": false'))
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "the build has accessibility or size errors" in result.output
    report.write_text(saved)
    (folder / "items" / "item-1.md").write_text("---\ntitle: Changed\n---\nNew text.\n")
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1
    assert "older than its inputs" in result.output and "newsletter build 2026-Q4" in result.output
    # Fresh by digest but failing the check (the item now lacks a section): still refused.
    data = json.loads(saved)
    data["inputs"] = input_digest(load_settings(project), folder)
    report.write_text(json.dumps(data))
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "nothing was sent" in result.output
    report.unlink()
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "no complete build to send" in result.output
    assert "Traceback" not in result.output and not outbox(project)


def test_a_real_sender_needs_the_secret(outbox_ready):
    result = cli(
        outbox_ready, "send", "2026-Q4", "--yes", "--sender", "smtp", "-o", "host=127.0.0.1"
    )
    assert result.exit_code == 1
    assert "sender smtp delivers real mail, so: NEWSLETTER_SECRET: not set" in result.output
    assert ledger_rows(outbox_ready) == []


@pytest.mark.parametrize(
    "web_url,sender,message",
    [
        ("https://focalpoint.example.org/a b", "outbox", "cannot go in the List-Unsubscribe"),
        ("https://focalpoint.example.org/a>,<x", "outbox", "cannot go in the List-Unsubscribe"),
        ("https://exämple.org", "outbox", "cannot go in the List-Unsubscribe header"),
        ("http://focalpoint.example.org", "smtp", "must start with https:// for a sender"),
    ],
)
def test_web_url_is_checked_before_it_goes_in_a_header(
    project, monkeypatch, web_url, sender, message
):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-0123456789abcdef")
    toml = project / "pyproject.toml"
    toml.write_text(toml.read_text().replace('"https://focalpoint.example.org"', f'"{web_url}"', 1))
    built(project)
    add_contacts(project, 1)
    options = ["-o", "host=127.0.0.1"] if sender == "smtp" else []
    result = cli(project, "send", "2026-Q4", "--yes", "--sender", sender, *options)
    assert result.exit_code == 1 and "[tool.newsletter] 'web_url'" in result.output
    assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(project) == [] and not outbox(project)
