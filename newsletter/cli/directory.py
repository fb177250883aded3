"""``newsletter directory ...``: the review queue of proposed changes, the check, stewards,
how current the directory is (``status``), published corrections (``correct``), and
the directory's own mailings (a confirmation round, the welcome of a successor).

Exit codes: 0 done (``check``'s findings are advice, so 0 too); 1 nothing done
(an unknown or already decided proposal, an issue folder that does not exist,
a correction that is not one short line, a mailing that could not start or
stopped; the message says which); 130 a mailing stopped by Ctrl-C.
"""

from __future__ import annotations

import datetime as dt

import click

from newsletter.cli.env import Env, OneLine, echo_json, json_option, mailing_options, pass_env
from newsletter.cli.mailings import send_mailing
from newsletter.models import MAX_ROW_ID


@click.group()
def directory() -> None:
    """Review changes to the focal-point directory, check it, record corrections.

    Example: newsletter directory review
    """


@directory.command()
@json_option
@pass_env
def review(env: Env, as_json: bool) -> None:
    """List the pending proposed changes as diffs, oldest first.

    Example: newsletter directory review --json
    """
    from newsletter.directory import review as pending

    found = pending(env.db)
    if as_json:
        echo_json([each.as_json() for each in found])
        return
    for each in found:
        p = each.proposal
        click.echo(f"#{p.id} {p.kind} {each.who} ({p.organisation or 'no organisation'})")
        click.echo(f"   from {p.source}, {p.created_at}")
        for line in each.diff:
            click.echo(f"   {line}")
    click.echo(f"{len(found)} pending." if found else "No proposed changes are waiting.")


@directory.command()
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1, max=MAX_ROW_ID))
@json_option
@pass_env
def approve(env: Env, ids: tuple[int, ...], as_json: bool) -> None:
    """Apply proposed changes, each in its own transaction, with history; welcome successors.

    Example: newsletter directory approve 3 4
    """
    from newsletter.directory import approve_welcoming

    done = approve_welcoming(env.settings, env.db, ids, lambda text: click.echo(text, err=True))
    welcomed = done.welcomed
    if welcomed.problem:  # on stderr, so a script reading --json sees it too
        click.echo(welcomed.line, err=True)
    if as_json:
        echo_json(
            {
                "approved": [p.id for p in done.proposals],
                "added": list(welcomed.added),
                "welcomed": welcomed.sent,
            }
        )
        return
    for p in done.proposals:
        click.echo(f"#{p.id} approved: {p.kind}.")
    if welcomed.added and not welcomed.problem:
        click.echo(welcomed.line)


@directory.command()
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1, max=MAX_ROW_ID))
@click.option("--reason", required=True, type=OneLine(), help="Why, kept with the proposal.")
@json_option
@pass_env
def reject(env: Env, ids: tuple[int, ...], reason: str, as_json: bool) -> None:
    """Drop proposed changes, keeping them with the reason.

    Example: newsletter directory reject 5 --reason "Not a focal point"
    """
    from newsletter.directory import reject as drop

    done = drop(env.db, ids, reason)
    if as_json:
        echo_json({"rejected": [p.id for p in done]})
        return
    for p in done:
        click.echo(f"#{p.id} rejected.")


@directory.command()
@json_option
@pass_env
def check(env: Env, as_json: bool) -> None:
    """Advice on the entries: phones, domains, shared mailboxes, duplicates, gaps.

    Example: newsletter directory check --json
    """
    from newsletter.directory import check as run

    result = run(env.db)
    if as_json:
        echo_json(result.as_json())
        return
    for finding in result.findings:
        click.echo(finding.line())
    click.echo(result.summary())


@directory.command()
@click.argument("email", type=OneLine())
@click.option(
    "--organisation",
    type=OneLine(),
    default="",
    help="The organisation they look after.  [default: their own]",
)
@click.option("--remove", is_flag=True, help="Stop them being its steward.")
@json_option
@pass_env
def steward(env: Env, email: str, organisation: str, remove: bool, as_json: bool) -> None:
    """Name a steward, whose entry link shows and proposes for a whole organisation.

    Example: newsletter directory steward jane.doe@unicef.org --organisation UNICEF
    """
    from newsletter.directory import steward as name

    done = name(env.db, email, organisation, remove)
    if as_json:
        echo_json(done.as_json())
        return
    what = "a steward" if done.steward else "no longer a steward"
    news = "" if done.changed else " (already so: nothing changed)"
    click.echo(f"{done.email} is {what} of {done.organisation}{news}.")


@directory.command("round")
@mailing_options(dry_run="show who would get it and a sample")
@pass_env
def round_(
    env: Env,
    sender_name: str | None,
    options: tuple[str, ...],
    test_to: tuple[str, ...],
    dry_run: bool,
    yes: bool,
) -> None:
    """Email each listed focal point their entry to confirm or correct; once each, resumable.

    Example: newsletter directory round --sender smtp --dry-run
    """
    from newsletter.directory import prepare_round

    send_mailing(env, prepare_round, sender_name, options, test_to, dry_run, yes)


@directory.command()
@mailing_options(dry_run="show who would get it and a sample")
@pass_env
def welcome(
    env: Env,
    sender_name: str | None,
    options: tuple[str, ...],
    test_to: tuple[str, ...],
    dry_run: bool,
    yes: bool,
) -> None:
    """Welcome each successor an approved proposal added, once: the latest issue, their link.

    Example: newsletter directory welcome --sender smtp --yes
    """
    from newsletter.directory import prepare_welcome

    send_mailing(env, prepare_welcome, sender_name, options, test_to, dry_run, yes)


@directory.command()
@click.option(
    "--on",
    "on",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Count as of this day (YYYY-MM-DD) instead of today (UTC).",
)
@json_option
@pass_env
def status(env: Env, on: dt.datetime | None, as_json: bool) -> None:
    """How current the directory is: confirmations, vacant seats, the oldest entries.

    Example: newsletter directory status --json
    """
    from newsletter.contacts import freshness

    found = freshness(env.db, on.date() if on else dt.datetime.now(dt.UTC).date())
    if as_json:
        echo_json(found.as_json())
        return
    click.echo(found.line)
    if found.organisations:
        click.echo("By organisation (confirmed in the last 12 months, of listed):")
        for t in found.organisations:
            click.echo(f"  {t.organisation}: {t.fresh} of {t.listed}")
    if found.vacant:
        click.echo("Vacant seats, longest first:")
        for s in found.vacant:
            click.echo(f"  {s.organisation}, {s.role}: vacant since {s.since} ({s.days} days)")
    if found.oldest:
        click.echo("The oldest confirmations:")
        for o in found.oldest:
            how = "added" if o.never else "confirmed"
            who = o.name or o.email
            click.echo(f"  {o.confirmed} {how}: {who} ({o.organisation or 'no organisation'})")


@directory.command()
@click.argument("issue_id")
@click.argument("text", required=False)
@click.option("--text", "option_text", help="The correction, instead of the TEXT argument.")
@json_option
@pass_env
def correct(
    env: Env, issue_id: str, text: str | None, option_text: str | None, as_json: bool
) -> None:
    """Record a published correction of an earlier issue; the next issue carries it.

    Example: newsletter directory correct 2026-Q3 "Ana Lima's phone is +41 22 917 12 34."
    """
    from newsletter.directory import correct as record
    from newsletter.errors import BadUsage

    if (text is None) == (option_text is None):
        raise BadUsage("give the correction once: as TEXT or with --text, not both or neither.")
    done = record(env.db, env.settings, issue_id, text if text is not None else str(option_text))
    if as_json:
        echo_json(done.as_json())
        return
    click.echo(f"Recorded correction {done.line()}.")


@directory.command()
@json_option
@pass_env
def corrections(env: Env, as_json: bool) -> None:
    """List the published corrections, oldest first, with the issue that carries each.

    Example: newsletter directory corrections --json
    """
    from newsletter.directory import corrections as recorded

    found = recorded(env.db, env.settings)
    if as_json:
        echo_json([each.as_json() for each in found])
        return
    for each in found:
        click.echo(each.line())
    click.echo(f"{len(found)} corrections." if found else "No corrections recorded.")


COMMANDS = {"directory": directory}
