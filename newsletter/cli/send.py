"""Commands that deliver an issue: send, senders, status, report."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from newsletter.cli.env import (
    Env,
    InRange,
    echo_json,
    json_option,
    mailing_options,
    output_options,
    pass_env,
    quiet_option,
)
from newsletter.errors import BadUsage, NewsletterError
from newsletter.models import plural

if TYPE_CHECKING:
    from types import TracebackType

    from click._termui_impl import ProgressBar

    from newsletter.returns import DeliveryReport
    from newsletter.send import Plan, Prepared, Readable, Tally


@click.command()
@click.argument("issue_id")
@mailing_options(dry_run="show the count and a sample")
@click.option("--retry-failed", is_flag=True, help="Queue the failed recipients again.")
@click.option(
    "--retry-uncertain",
    is_flag=True,
    help="Resend messages that may have arrived (after a crash): they may arrive twice.",
)
@click.option("--concurrency", type=InRange("concurrency"), help="Connections.  [default: 4]")
@click.option("--rate", type=InRange("rate"), help="Messages a second, evenly; 0 for no limit.")
@click.option(
    "--max-per-hour",
    type=InRange("max_per_hour"),
    help="At most N messages in any hour; 0 for no cap.",
)
@quiet_option
@pass_env
def send(
    env: Env,
    issue_id: str,
    sender_name: str | None,
    options: tuple[str, ...],
    test_to: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    retry_failed: bool,
    retry_uncertain: bool,
    concurrency: int | None,
    rate: float | None,
    max_per_hour: int | None,
    quiet: bool,
) -> None:
    """Send a built issue to every subscribed contact, exactly once each; resumable.

    Example: newsletter send 2026-Q4 --sender smtp --rate 20
    """
    from newsletter.send import (
        SENT,
        parse_overrides,
        plan,
        prepare,
        readable,
        sample,
        send_tests,
    )
    from newsletter.store import readonly_db

    if test_to and dry_run:  # a usage error comes before anything is read
        raise BadUsage("--to and --dry-run: use one or the other.")
    prep = prepare(
        env.settings,
        env.issue_dir(issue_id),
        sender_name,
        parse_overrides(options),
        rehearsal=bool(test_to) or dry_run,
        concurrency=concurrency,
        rate=rate,
        max_per_hour=max_per_hour,
    )
    if prep.dev_secret:
        click.echo(
            "Note: NEWSLETTER_SECRET is not set; the outbox uses the development "
            "secret, so its unsubscribe links only work for rehearsals.",
            err=True,
        )
    for problem in prep.placeholders:  # a rehearsal may go ahead: say what a real send refuses
        click.echo(str(problem), err=True)
    if test_to:
        bad = 0
        for address, result in send_tests(prep, test_to):
            bad += result.status != SENT
            click.echo(f"Test to {address}: {result.status} ({result.reply})")
        if bad:
            raise NewsletterError(f"{bad} test message(s) not sent. See the replies above.")
        return
    if dry_run:
        db = readonly_db(env.db_path)
        p = plan(db, prep, retry_failed, retry_uncertain)
        _describe(issue_id, prep.composer.layout.subject, p, retry_failed, retry_uncertain)
        address, mail_from, data = sample(db, prep)
        click.echo(
            f"Dry run: nothing written or sent. Sample message to {address}, {len(data):,} bytes:"
        )
        click.echo(f"Envelope sender (MAIL FROM, where bounces go): {mail_from}\n")
        _show_sample(readable(data))
        return
    _deliver(env, prep, yes, retry_failed, retry_uncertain, quiet)


def _show_sample(message: Readable) -> None:
    """Headers decoded, one a line; the parts; then the text part as a reader sees it."""
    for name, value in message.headers:
        click.echo(f"{name}: {value}")
    parts = ", ".join(f"{kind} ({size:,} bytes)" for kind, size in message.parts)
    click.echo(f"\nParts, decoded: {parts}\n\nText part, decoded:\n")
    click.echo(message.text, nl=not message.text.endswith("\n"))


def _deliver(
    env: Env, prep: Prepared, yes: bool, retry_failed: bool, retry_uncertain: bool, quiet: bool
) -> None:
    """send.deliver, shown: what it found, the question, a progress bar, the report."""
    from newsletter.send import deliver

    issue_id = prep.issue_id
    bar = _Bar(prep.spec.name, quiet)

    def confirm(recovered: int, p: Plan) -> bool:
        if recovered:  # reported whatever this run finds to send
            click.echo(
                f"{recovered:,} message(s) were being handed over when the last run "
                "stopped; they are now uncertain. Resend with --retry-uncertain (they may "
                "arrive twice)."
            )
        _describe(issue_id, prep.composer.layout.subject, p, retry_failed, retry_uncertain, quiet)
        if p.to_send:
            if not yes:
                click.confirm(f"Send to {p.to_send:,} recipients via {p.sender}?", abort=True)
            bar.start(p.to_send)
        return True

    def notice(text: str) -> None:
        click.echo(f"\n{text}", err=True)

    try:
        with bar:
            done = deliver(
                env.settings,
                env.db,
                prep,
                retry_failed,
                retry_uncertain,
                confirm=confirm,
                progress=bar.progress,
                notice=notice,
            )
    except KeyboardInterrupt:
        if bar.bar is None:  # before sending: as any command's Ctrl-C
            raise
        click.echo(
            "Stopped at once: any message in flight shows as uncertain. "
            "Run the same command to continue.",
            err=True,
        )
        raise SystemExit(130) from None
    if done.tally is None:
        click.echo(f"Nothing to send. See: newsletter status {issue_id}")
        _publication(issue_id, done.publication)
        return
    _report(issue_id, prep.spec.name, done.tally)


def _describe(
    issue_id: str,
    subject: str,
    p: Plan,
    retry_failed: bool,
    retry_uncertain: bool,
    quiet: bool = False,
) -> None:
    """What this run will send (not with -q), and what it leaves alone."""
    first = " (new snapshot of subscribed contacts)."
    later = f"; already {p.sent:,} sent, {p.skipped:,} skipped."
    if not quiet:
        click.echo(
            f'issues/{issue_id} "{subject}" via {p.sender}: {p.to_send:,} to send'
            + (first if p.snapshot else later)
        )
    if p.failed and not retry_failed:
        click.echo(f"{p.failed:,} failed are left alone; queue them again with --retry-failed.")
    if p.uncertain and not retry_uncertain:
        click.echo(
            f"{p.uncertain:,} uncertain (may have arrived) are left alone; "
            "resend them with --retry-uncertain."
        )


class _Bar:
    """The send's progress bar on stderr (none with -q), from the moment the send starts."""

    def __init__(self, sender: str, quiet: bool) -> None:
        self.sender, self.quiet = sender, quiet
        self.bar: ProgressBar[Any] | None = None  # its items are the rate, shown
        self.started = self.done = 0.0

    def start(self, length: int) -> None:
        self.started = time.monotonic()
        self.bar = click.progressbar(
            length=length,
            label=f"Sending via {self.sender}",
            show_eta=True,
            show_pos=True,
            file=io.StringIO() if self.quiet else sys.stderr,  # -q: no bar
            item_show_func=lambda rate: rate,
        )
        self.bar.__enter__()

    def progress(self, step: int, total: int) -> None:
        assert self.bar is not None  # the run reports progress only once started
        self.done += step
        self.bar.length = total
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        self.bar.update(step, f"{rate:,.0f} msg/s")

    def __enter__(self) -> _Bar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.bar is not None:
            self.bar.__exit__(kind, exc, trace)


def _publication(issue_id: str, outcome: str) -> None:
    if outcome == "published":
        click.echo(f"The send is complete: issues/{issue_id} is published (newsletter archive).")
    elif outcome == "unpublished":
        click.echo(
            f"The send is complete; issues/{issue_id} stays unpublished, as newsletter "
            f"unpublish said. To put it on the site: newsletter publish {issue_id}"
        )


def _report(issue_id: str, sender: str, t: Tally) -> None:
    rate = t.sent / t.elapsed if t.elapsed else 0.0
    click.echo(
        f"Sent {t.sent:,} via {sender} in {t.elapsed:.1f} s ({rate:,.0f} msg/s); "
        f"{t.failed:,} failed, {t.uncertain:,} uncertain, {t.skipped:,} skipped "
        f"(unsubscribed or suppressed since the snapshot), {t.retries:,} retries."
    )
    for line in t.failures:
        click.echo(f"failed: {line}")
    if t.retired:
        click.echo(
            f"Marked bounced: {plural(t.retired, 'contact')} whose server said the address "
            "does not exist (see newsletter status)."
        )
    if t.failed or t.uncertain:
        click.echo(f"All failures: newsletter status {issue_id}")
    _publication(issue_id, t.publication)
    if t.stopped == "interrupted":
        click.echo(f"Stopped; {t.remaining:,} still queued. Run the same command to continue.")
        raise SystemExit(130)
    if t.stopped:
        raise NewsletterError(
            f"issues/{issue_id}: send stopped: {t.stopped} ({t.remaining:,} still queued)"
        )


@click.command()
@pass_env
def senders(env: Env) -> None:
    """List the installed senders, their options, and which are configured.

    Example: newsletter senders
    """
    from newsletter.send import installed

    try:
        configured = env.settings.senders
    except NewsletterError:  # listing plugins works outside a project too
        configured = {}
    for s in installed():
        click.echo(f"{s.name} ({s.dist}): {s.error or s.description}")
        click.echo(f"  options: {', '.join(sorted(s.options)) or 'none'}")
        for name, table in configured.items():
            if table.plugin == s.name:
                click.echo(f"  configured: [tool.newsletter.senders.{name}]")


@click.command()
@click.argument("issue_id")
@click.option("--sender", "sender_name", metavar="NAME", help="Only this sender's deliveries.")
@json_option
@pass_env
def status(env: Env, issue_id: str, sender_name: str | None, as_json: bool) -> None:
    """Show an issue's deliveries, failures with reasons, and what came back since.

    Example: newsletter status 2026-Q4 --json
    """
    from newsletter import returns

    env.issue_dir(issue_id, must_exist=False)
    found = returns.delivery_report(env.db, issue_id, sender_name)
    if as_json:
        echo_json(returns.as_json(found))
    else:
        _show_report(found)


@click.command()
@click.argument("issue_id")
@click.option("--sender", "sender_name", metavar="NAME", help="Only this sender's deliveries.")
@click.option("--html", "html", is_flag=True, help="Write the report as one HTML page.")
@output_options("the HTML page")
@pass_env
def report(
    env: Env, issue_id: str, sender_name: str | None, html: bool, output: Path | None, force: bool
) -> None:
    """Report on an issue for management: deliveries, returns, clicks, contributions and
    the directory's freshness, per organisation; --html writes it as one page.

    Example: newsletter report 2026-Q4 --html -o report-2026-Q4.html
    """
    from newsletter import returns

    if output and not html:  # a usage error comes before anything is read
        raise BadUsage("-o/--output: only with --html.")
    env.issue_dir(issue_id, must_exist=False)
    found = returns.collect(env.settings, env.db, issue_id, sender_name)
    if not html:
        _show_report(found.delivery)
        for line in returns.text_lines(found):
            click.echo(line)
        return
    page = returns.write_html(env.settings, found, output, force=force, keep=(env.db_path,))
    if output is None:
        click.echo(page, nl=False)
    else:
        click.echo(f"Wrote the report of {issue_id} to {output}.", err=True)


def _show_report(found: DeliveryReport) -> None:
    from newsletter.returns import FIGURES, NO_ORGANISATION
    from newsletter.sanitize import one_line

    issue_id = found.issue
    if not found.senders:
        click.echo(f"issues/{issue_id}: no deliveries recorded yet.")
        return
    for each in found.senders:
        click.echo(f"issues/{issue_id} via {each.sender}: {each.total:,} recipients")
        for st, n in each.counts:
            if n or st in ("queued", "sent", "failed", "uncertain"):
                click.echo(f"  {st:<10}{n:>9,}")
        for row in each.problems:
            reason = row.last_error or "being handed over now, or when a send crashed"
            click.echo(
                f"  {row.status}: {row.email or '(erased)'} (contact {row.contact_id}, "
                f"{row.attempts} attempt{'s' * (row.attempts != 1)}): {reason}"
            )
    click.echo("Since the send (contacts):")
    for _, field, label in FIGURES:
        click.echo(f"  {label:<17}{getattr(found.since, field):>9,}")
    names = [one_line(name, 40) or NO_ORGANISATION for name, _ in found.organisations]
    width = max(len("Organisation"), *map(len, names))
    heads = ["recipients", "delivered", "rejected", "hard", "soft", "complaints", "unsub"]
    click.echo("By organisation:")
    click.echo(f"  {'Organisation':<{width}}" + "".join(f"{h:>11}" for h in heads))
    for name, (_, since) in zip(names, found.organisations, strict=True):
        cells = "".join(f"{getattr(since, field):>11,}" for _, field, _ in FIGURES)
        click.echo(f"  {name:<{width}}{cells}")
    _show_clicks(found)


def _show_clicks(found: DeliveryReport) -> None:
    from newsletter.returns import shown_count

    if not found.clicks:
        return
    click.echo("Clicks per link (no person recorded; under 5 shown as fewer than 5):")
    for each in found.clicks:
        click.echo(f"  [{each.link}] {shown_count(each.count):>12}  {each.url}")


COMMANDS = {"send": send, "senders": senders, "status": status, "report": report}
