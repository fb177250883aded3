"""The review command: ask a reviewer to approve an issue's build, or show what they said."""

from __future__ import annotations

import click

from newsletter.cli.env import Env, pass_env
from newsletter.errors import BadUsage
from newsletter.tokens import MAX_REVIEW_DAYS, REVIEW_DAYS


@click.command()
@click.argument("issue_id")
@click.option("--to", "reviewer", metavar="ADDRESS", help="The reviewer to send a link to.")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_REVIEW_DAYS),
    default=REVIEW_DAYS,
    show_default=True,
    help="How long the link works.",
)
@click.option("--sender", "sender_name", metavar="NAME", help="The sender to mail it through.")
@click.option("--status", "show", is_flag=True, help="Show the links, comments and approvals.")
@pass_env
def review(
    env: Env, issue_id: str, reviewer: str | None, days: int, sender_name: str | None, show: bool
) -> None:
    """Mail a reviewer a link to approve the current build, or show the reviews (--status).

    Example: newsletter review 2026-Q4 --to director@example.org --days 7
    """
    from newsletter.review import ask, entries
    from newsletter.sanitize import one_line

    if bool(reviewer) == show:  # a usage error comes before anything is read
        raise BadUsage("Give --to ADDRESS to ask a reviewer, or --status to see the reviews.")
    folder = env.issue_dir(issue_id)
    if reviewer:
        asked = ask(env.settings, env.db, folder, reviewer, days, sender_name)
        click.echo(f"Sent {asked.reviewer} a review link to {issue_id}, good for {days} days.")
        return
    rows = entries(env.db, issue_id)
    if not rows:
        click.echo(f"issues/{issue_id}: no reviews yet. Ask one: newsletter review {issue_id} --to")
        return
    for row in rows:
        what = {"link": "was sent a link", "comment": "commented", "approval": "approved"}[row.kind]
        who = one_line(row.reviewer, 80)  # a comment is a stranger's text: one safe line
        line = f"{row.at[:16].replace('T', ' ')} {who} {what} (build {row.digest[:12]})"
        click.echo(line + (f": {one_line(row.body)}" if row.body else ""))


COMMANDS = {"review": review}
