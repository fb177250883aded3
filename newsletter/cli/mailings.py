"""How every short mailing is sent from the command line (a directory round, a welcome,
a call for contributions): test copies, a dry run, or the send itself, as ``newsletter
send`` does them for an issue. Not a group of commands: the commands that send a
mailing call ``send_mailing`` with the stage function that makes theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from newsletter.cli.env import Env
from newsletter.errors import BadUsage, NewsletterError

if TYPE_CHECKING:
    from newsletter.send import Ready
    from newsletter.store import Database


def send_mailing(
    env: Env,
    prepare: Callable[..., Ready],
    sender_name: str | None,
    options: tuple[str, ...],
    test_to: tuple[str, ...],
    dry_run: bool,
    yes: bool,
) -> None:
    """Test copies, a dry run, or the send itself of the mailing ``prepare`` makes, as
    ``newsletter send`` does them for an issue."""
    from newsletter.send import left_queued, parse_overrides
    from newsletter.store import readonly_db

    if test_to and dry_run:
        raise BadUsage("--to and --dry-run: use one or the other.")
    # Read-only for a dry run or a test send, which write nothing.
    db = readonly_db(env.db_path) if dry_run or test_to else env.db
    ready = prepare(env.settings, db, sender_name, parse_overrides(options))
    prep = ready.prep
    if prep.dev_secret:
        click.echo(
            "Note: NEWSLETTER_SECRET is not set; the outbox uses the development "
            "secret, so its links only work for rehearsals.",
            err=True,
        )
    if test_to:
        _tests(ready, test_to)
        return
    waiting = left_queued(db, ready)
    total = len(ready.recipients) + waiting
    if dry_run:
        _dry_run(db, ready, total)
        return
    head = f"{ready.id} via {prep.spec.name}"
    if not total:
        click.echo(f"{head}: nothing to send. See: newsletter status {ready.id}")
        return
    click.echo(
        f"{head}: {total:,} to send"
        + (f" ({waiting:,} left by a stopped run)." if waiting else ".")
    )
    if not yes:
        click.confirm(f"Send to {total:,} recipients via {prep.spec.name}?", abort=True)
    _deliver(env, ready)


def _tests(ready: Ready, test_to: tuple[str, ...]) -> None:
    from newsletter.send import SENT, send_tests

    bad = 0
    for address, result in send_tests(ready.prep, test_to):
        bad += result.status != SENT
        click.echo(f"Test to {address}: {result.status} ({result.reply})")
    if bad:
        raise NewsletterError(f"{bad} test message(s) not sent. See the replies above.")


def _dry_run(db: Database, ready: Ready, total: int) -> None:
    from newsletter.sanitize import one_line
    from newsletter.send import readable, sample

    click.echo(f"{ready.id} via {ready.prep.spec.name}: {total:,} to send.")
    for c in ready.recipients:
        who = one_line(c.name, 60) or "(no name)"
        click.echo(f"  {who} <{one_line(c.email, 120)}> ({one_line(c.organisation, 60) or '-'})")
    address, mail_from, data = sample(db, ready.prep)
    click.echo(
        f"Dry run: nothing written or sent. Sample message to {address}, {len(data):,} bytes:"
    )
    click.echo(f"Envelope sender (MAIL FROM, where bounces go): {mail_from}\n")
    message = readable(data)
    for name, value in message.headers:
        click.echo(f"{name}: {value}")
    click.echo("\nText part, decoded:\n")
    click.echo(message.text, nl=not message.text.endswith("\n"))


def _deliver(env: Env, ready: Ready) -> None:
    from newsletter.send import deliver_mailing

    def notice(text: str) -> None:
        click.echo(text, err=True)

    try:
        t = deliver_mailing(env.db, ready, notice=notice)
    except KeyboardInterrupt:
        click.echo("Stopped at once. Run the same command to continue.", err=True)
        raise SystemExit(130) from None
    click.echo(
        f"Sent {t.sent:,} via {ready.prep.spec.name}; {t.failed:,} failed, "
        f"{t.uncertain:,} uncertain, {t.skipped:,} skipped. See: newsletter status {ready.id}"
    )
    for line in t.failures:
        click.echo(f"failed: {line}")
    if t.stopped == "interrupted":
        click.echo(f"Stopped; {t.remaining:,} still queued. Run the same command to continue.")
        raise SystemExit(130)
    if t.stopped:
        raise NewsletterError(
            f"{ready.id}: send stopped: {t.stopped} ({t.remaining:,} still queued). "
            "Run the same command to continue."
        )
