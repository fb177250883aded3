"""newsletter.cli.send: the send command itself asks before it sends."""

from __future__ import annotations

from helpers import cli, ledger_rows, outbox


def test_asks_before_sending(outbox_ready):
    result = cli(outbox_ready, "send", "2026-Q4", input="n\n")
    assert result.exit_code == 1 and "Send to 5 recipients via outbox? [y/N]" in result.output
    assert ledger_rows(outbox_ready) == [] and not outbox(outbox_ready)
    result = cli(outbox_ready, "send", "2026-Q4", input="y\n")
    assert result.exit_code == 0 and len(outbox(outbox_ready)) == 5
