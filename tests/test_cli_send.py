"""newsletter.cli.send: the send command itself asks before it sends."""

from __future__ import annotations

from helpers import cli, ledger_rows, outbox


def test_asks_before_sending(outbox_ready):
    result = cli(outbox_ready, "send", "2026-Q4", input="n\n")
    assert result.exit_code == 1 and "Send to 5 recipients via outbox? [y/N]" in result.output
    assert ledger_rows(outbox_ready) == [] and not outbox(outbox_ready)
    result = cli(outbox_ready, "send", "2026-Q4", input="y\n")
    assert result.exit_code == 0 and len(outbox(outbox_ready)) == 5


def test_quiet_send_prints_the_closing_report_only(outbox_ready):
    result = cli(outbox_ready, "send", "2026-Q4", "--yes", "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == (  # a warning: kept
        "Note: NEWSLETTER_SECRET is not set; the outbox uses the development secret, so its "
        "unsubscribe links only work for rehearsals.\n"
    )
    line = result.stdout.splitlines()
    assert len(line) == 1 and line[0].startswith("Sent 5 via outbox in "), result.stdout
    assert line[0].endswith(
        "msg/s); 0 failed, 0 uncertain, 0 skipped (unsubscribed or suppressed since the "
        "snapshot), 0 retries."
    )
