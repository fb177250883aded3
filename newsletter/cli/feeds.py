"""Feed commands: the registry (feeds add/list/remove), collect, intake, a call for
contributions, inbox triage, and the contribution tracker (contributions)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from newsletter.cli.env import (
    Env,
    InRange,
    echo_json,
    json_option,
    mailing_options,
    pass_env,
    quiet_option,
)
from newsletter.cli.mailings import send_mailing
from newsletter.errors import BadUsage, NewsletterError
from newsletter.models import FEED_TIMEOUT

if TYPE_CHECKING:
    from newsletter.feeds import Collected, Feed

HEALTH = ("NEW", "DUP", "OLD", "ERRORS")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: set[int]) -> list[str]:
    """Columns padded to the widest cell; ``right`` holds the numeric column indexes."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def _when(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") if stamp else "-"


def _chase(items: list[tuple[str, str | None]]) -> None:
    if items:
        click.echo("Feeds to chase:")
        for name, why in items:
            click.echo(f"  {name}: {why}")


@click.group()
def feeds() -> None:
    """Register, list and remove the feeds that `collect` reads.

    Example: newsletter feeds add https://news.un.org/feed/rss.xml --section news
    """


@feeds.command("add")
@click.argument("url")
@click.option("--section", required=True, help="Section key the feed's entries go to.")
@click.option("--name", help="Short name shown in the inbox and the health report.")
@click.option(
    "--allow-private",
    is_flag=True,
    help="The URL's host is yours and may be at a loopback or private address (an intranet).",
)
@pass_env
def add(env: Env, url: str, section: str, name: str | None, allow_private: bool) -> None:
    """Register a feed: an http(s) URL, a file:// URL or a local path.

    Example: newsletter feeds add https://www.undp.org/rss.xml --section news --name UNDP
    """
    from newsletter.feeds import add_feed

    feed, new = add_feed(env.db, env.settings, url, section, name, allow_private)
    if new:
        click.echo(f"Added feed '{feed.name}' ({feed.section}): {feed.url}")
    if feed.private_host:
        click.echo(
            f"{'Feed' if new else 'Registered feed'} '{feed.name}' may be fetched from a "
            f"loopback or private address of {feed.private_host}, and only from that host."
        )


@feeds.command("list")
@json_option
@pass_env
def list_(env: Env, as_json: bool) -> None:
    """Show every feed with its section, last status, health and error count.

    Example: newsletter feeds list
    """
    from newsletter.feeds import list_feeds, quiet_feeds

    found = list_feeds(env.db)
    quiet = quiet_feeds(env.db) if found else set()
    chase = {f.id: _to_chase(f, f.id in quiet) for f in found}
    if as_json:
        echo_json(
            [
                {
                    "name": f.name,
                    "section": f.section,
                    "url": f.url,
                    "local_network": bool(f.private_host),
                    "status": f.last_status,
                    "last_success": f.last_success,
                    "seen": f.seen,
                    "new": f.last_new,
                    "duplicate": f.last_duplicate,
                    "old": f.last_old,
                    "errors": f.errors,
                    "chase": chase[f.id],
                }
                for f in found
            ]
        )
        return
    if not found:
        click.echo("No feeds. Add one with: newsletter feeds add URL --section SECTION")
        return
    rows = [
        (
            f.name,
            f.section,
            f.last_status or "never collected",
            _when(f.last_success),
            f.seen,
            f.last_new,
            f.last_duplicate,
            f.last_old,
            f.errors,
            f"{f.url} (local network allowed)" if f.private_host else f.url,
        )
        for f in found
    ]
    headers = ("NAME", "SECTION", "STATUS", "LAST SUCCESS", "SEEN", *HEALTH, "URL")
    for line in table(headers, rows, right={4, 5, 6, 7, 8}):
        click.echo(line)
    _chase([(f.name, why) for f in found if (why := chase[f.id])])


def _to_chase(f: Feed, quiet: bool) -> str | None:
    """Why the editor should look at a feed, or None."""
    if f.last_status == "failed":
        return f"failed: {f.last_error}"
    if f.last_status == "warning":
        return f.last_error
    return "nothing new this quarter" if quiet and f.last_status else None


@feeds.command("remove")
@click.argument("name_or_url")
@pass_env
def remove(env: Env, name_or_url: str) -> None:
    """Unregister a feed by name or URL; rejections are kept.

    Example: newsletter feeds remove UNDP
    """
    from newsletter.feeds import remove_feed

    feed = remove_feed(env.db, name_or_url)
    click.echo(f"Removed feed '{feed.name}': {feed.url}")


@click.command()
@click.argument("issue_id")
@click.option(
    "--timeout",
    type=InRange("timeout"),
    default=FEED_TIMEOUT,
    show_default=True,
    help="Seconds allowed for each feed.",
)
@quiet_option
@pass_env
def collect(env: Env, issue_id: str, timeout: float, quiet: bool) -> None:
    """Fetch every feed and write the window's new entries to issues/ID/inbox/.

    Example: newsletter collect 2026-Q4
    """
    from newsletter.feeds import collect as harvest
    from newsletter.feeds import list_feeds

    folder = env.issue_dir(issue_id)
    total = len(list_feeds(env.db))
    if sys.stderr.isatty() and total and not quiet:
        with click.progressbar(
            length=total, label="Fetching feeds", show_pos=True, file=sys.stderr
        ) as bar:
            result = harvest(
                env.db, env.settings, folder, timeout=timeout, progress=lambda: bar.update(1)
            )
    else:
        result = harvest(env.db, env.settings, folder, timeout=timeout)
    for feed in result.feeds:
        if feed.reason:
            click.echo(f"warning: {feed.name}: {feed.reason}", err=True)
    start, end = result.window
    n, merged = len(result.written), result.merged
    # Merged entries are in the DUP column, so NEW adds up to the candidates written.
    told = f"; {merged} cross-feed duplicate{'s' * (merged != 1)} merged" if merged else ""
    click.echo(
        f"issues/{issue_id}/inbox/: {n} new candidate{'s' * (n != 1)} "
        f"(window {start} to {end}){told}."
    )
    if not quiet:
        _collected(result)
    if not result.ok:
        raise NewsletterError("feeds: every feed failed. Check the URLs above, then collect again.")
    if n and not quiet:
        click.echo(f"Next: newsletter inbox {issue_id}")


def _collected(result: Collected) -> None:
    """Each feed's health, the feeds that moved, and those to chase."""
    rows = [(f.name, f.status, f.new, f.duplicate, f.old, f.errors) for f in result.feeds]
    for line in table(("FEED", "STATUS", *HEALTH), rows, right={2, 3, 4, 5}):
        click.echo(line)
    for feed in result.feeds:
        if feed.moved_to:
            click.echo(f"{feed.name}: moved permanently; URL updated to {feed.moved_to}")
    _chase(
        [
            (
                f.name,
                f"failed: {f.reason}"
                if f.status == "failed"
                else f.reason or "nothing new this quarter",
            )
            for f in result.feeds
            if f.reason or f.quiet
        ]
    )


@click.command("inbox")
@click.argument("issue_id")
@json_option
@pass_env
def inbox_(env: Env, issue_id: str, as_json: bool) -> None:
    """List an issue's candidates: name, section, date, source and title.

    Example: newsletter inbox 2026-Q4
    """
    from newsletter.issue import list_inbox

    listed, skipped = list_inbox(env.settings, env.issue_dir(issue_id))
    if as_json:  # stdout holds only the JSON; what cannot be read is in it
        echo_json(
            {
                "candidates": [
                    {
                        "name": c.name,
                        "section": c.item.section if c.item else None,
                        # An undated entry's date is none, whatever an older collect wrote.
                        "date": (
                            c.item.date.isoformat()
                            if c.item and c.item.date and not c.first_seen
                            else None
                        ),
                        "source": c.item.source if c.item else None,
                        # A contribution's sender and their organisation (``intake``).
                        "contributor": c.item.contributor if c.item else None,
                        "organisation": c.item.organisation if c.item else None,
                        "title": c.item.title if c.item else None,
                        "problems": [str(problem) for problem in c.problems],
                        "first_seen": c.first_seen.isoformat() if c.first_seen else None,
                        "outside_window": c.outside,
                    }
                    for c in listed
                ],
                "skipped": [str(problem) for problem in skipped],
            }
        )
        return
    for problem in skipped:
        click.echo(str(problem), err=True)
    if not listed:
        click.echo(f"issues/{issue_id}/inbox/: no candidates. Run: newsletter collect {issue_id}")
        return
    rows = []
    for c in listed:
        for problem in c.problems:
            click.echo(str(problem), err=True)
        item = c.item
        title = item.title if item else "(cannot be read; see above)"
        title = title if len(title) <= 70 else title[:69] + "\u2026"
        rows.append(
            (
                c.name,
                item.section if item else "-",
                c.when,
                (item.source or "-") if item else "-",
                title,
            )
        )
    for line in table(("NAME", "SECTION", "DATE", "SOURCE", "TITLE"), rows, right=set()):
        click.echo(line)
    n = len(listed)
    click.echo(
        f"{n} candidate{'s' * (n != 1)}. Accept with: newsletter accept {issue_id} NAME... "
        f"(or --all); reject with: newsletter reject {issue_id} NAME..."
    )


@click.command()
@click.argument("issue_id")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Accept every candidate in the inbox.")
@click.option("--section", metavar="KEY", help="Move them into this section as they are accepted.")
@pass_env
def accept(
    env: Env, issue_id: str, names: tuple[str, ...], all_: bool, section: str | None
) -> None:
    """Move candidates from the inbox into items/, ready for check and build.

    Example: newsletter accept 2026-Q4 un-launches-supplier-code --section tools
    """
    from newsletter.feeds import accept as accept_

    moved = accept_(env.db, env.settings, env.issue_dir(issue_id), names, all_, section)
    into = f" (section {section})" if section else ""
    for old, new in moved:
        click.echo(f"inbox/{old} -> items/{new}{into}")
    n = len(moved)
    click.echo(
        f"Accepted {n} candidate{'s' * (n != 1)} into issues/{issue_id}/items/. "
        f"Next: newsletter check {issue_id}"
    )


@click.command()
@click.argument("issue_id")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Reject every candidate left in the inbox.")
@pass_env
def reject(env: Env, issue_id: str, names: tuple[str, ...], all_: bool) -> None:
    """Delete candidates and remember them, so no feed proposes them again.

    Example: newsletter reject 2026-Q4 weekly-digest-12
    """
    from newsletter.feeds import reject as reject_

    gone = reject_(env.db, env.issue_dir(issue_id), names, all_)
    n = len(gone)
    click.echo(
        f"Rejected {n} candidate{'s' * (n != 1)}; they will not be proposed again: "
        f"{', '.join(gone) or '-'}"
    )


@click.command()
@click.argument("issue_id")
@click.argument("source")
@click.option(
    "--no-ack",
    is_flag=True,
    help="Send no acknowledgement (by default each known sender gets one).",
)
@json_option
@quiet_option
@pass_env
def intake(env: Env, issue_id: str, source: str, no_ack: bool, as_json: bool, quiet: bool) -> None:
    """Take contributions mailed in (a Maildir, an mbox, imaps://) into issues/ID/inbox/.

    Example: newsletter intake 2026-Q4 ~/Maildir/.contributions
    """
    from newsletter.intake import intake as take_in

    result = take_in(env.settings, env.db, env.issue_dir(issue_id), source, ack=not no_ack)
    if as_json:
        echo_json(
            {
                "messages": [
                    {
                        "message": o.label,
                        "candidate": o.name or None,
                        "from": o.sender or None,
                        "skipped": o.skipped or None,
                        "warnings": list(o.warnings),
                    }
                    for o in result.outcomes
                ],
                "summary": result.summary,
                "acknowledged": result.acknowledged,
                "not_acknowledged": result.unacknowledged,
            }
        )
        return
    for outcome in result.outcomes:
        for warning in outcome.warnings:
            click.echo(f"warning: {outcome.label}: {warning}", err=True)
        if not quiet:
            click.echo(str(outcome))
    for line in result.unacknowledged:
        click.echo(line)
    if result.acks and not quiet:
        click.echo(result.acks)
    click.echo(result.summary)


@click.command()
@click.argument("issue_id")
@click.option(
    "--deadline",
    metavar="DATE",
    help="The last day for contributions, today or later: 2027-01-15 or 15 January 2027.",
)
@click.option(
    "--reminder",
    is_flag=True,
    help="Remind the organisations that have sent nothing yet, with the call's deadline.",
)
@mailing_options(dry_run="show who would get it and a sample")
@pass_env
def call(
    env: Env,
    issue_id: str,
    deadline: str | None,
    reminder: bool,
    sender_name: str | None,
    options: tuple[str, ...],
    test_to: tuple[str, ...],
    dry_run: bool,
    yes: bool,
) -> None:
    """Ask each listed focal point for news by a deadline, with their form; or remind.

    Example: newsletter call 2027-Q1 --deadline 2027-01-15 --sender smtp
    """
    from functools import partial

    from newsletter.intake import prepare_call, prepare_reminder

    if reminder == (deadline is not None):
        raise BadUsage("give --deadline DATE for the call, or --reminder after it; not both.")
    folder = env.issue_dir(issue_id)
    if deadline is not None:
        prepare = partial(prepare_call, folder=folder, deadline=deadline)
    else:
        prepare = partial(prepare_reminder, folder=folder)
    send_mailing(env, prepare, sender_name, options, test_to, dry_run, yes)


@click.command()
@click.option(
    "--issues",
    "count",
    type=InRange("issues"),
    default=4,
    show_default=True,
    help="How many of the latest issues to show.",
)
@json_option
@pass_env
def contributions(env: Env, count: int, as_json: bool) -> None:
    """Show per organisation what it sent to the last issues, what was taken, who is silent.

    Example: newsletter contributions --issues 6
    """
    from newsletter.returns import track, tracker_lines

    found = track(env.settings, env.db, count)
    if as_json:
        echo_json(found.as_json())
        return
    for line in tracker_lines(found):
        click.echo(line)


COMMANDS = {
    "contributions": contributions,
    "intake": intake,
    "call": call,
    "feeds": feeds,
    "collect": collect,
    "inbox": inbox_,
    "accept": accept,
    "reject": reject,
}
