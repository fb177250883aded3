"""Commands on one issue folder: new, check, build."""

from __future__ import annotations

import click

from newsletter.cli.env import Env, pass_env, quiet_option
from newsletter.errors import NewsletterError
from newsletter.models import plural


@click.command()
@click.argument("issue_id")
@pass_env
def new(env: Env, issue_id: str) -> None:
    """Create a new issue folder with issue.toml, intro.md and an example item.

    Example: newsletter new 2027-Q1
    """
    from newsletter.issue import new_issue

    new_issue(env.settings, env.issue_dir(issue_id, must_exist=False))
    click.echo(f"Created issues/{issue_id}/: issue.toml, intro.md, items/example.md")
    click.echo(f"Next: add items to issues/{issue_id}/items/, then: newsletter check {issue_id}")


@click.command()
@click.argument("issue_id")
@pass_env
def check(env: Env, issue_id: str) -> None:
    """Validate an issue's issue.toml, intro.md and every item; list all problems.

    Example: newsletter check 2026-Q4
    """
    from newsletter.issue import CheckFailed, load_issue

    issue, problems = load_issue(env.settings, env.issue_dir(issue_id))
    if issue is None:
        raise CheckFailed(issue_id, problems, "fix them before building")
    for problem in problems:
        click.echo(str(problem))
    count = plural(sum(len(s.items) for s in issue.sections), "item")
    summary = plural(len(problems), "warning") if problems else "no problems"
    click.echo(
        f"issues/{issue_id}: {count} in {plural(len(issue.sections), 'section')}, {summary}."
    )


@click.command()
@click.argument("issue_id")
@click.option(
    "--screenshots",
    is_flag=True,
    help="Also open the email in headless Chromium "
    "at 375px and 800px and save PNGs under build/screenshots/.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Do not request the items' pictures to check that they show (no network needed).",
)
@quiet_option
@pass_env
def build(env: Env, issue_id: str, screenshots: bool, offline: bool, quiet: bool) -> None:
    """Build the email HTML, plain text, web page and report into issues/ID/build/.

    Example: newsletter build 2026-Q4
    """
    from newsletter.build import build_issue, check_layout

    folder = env.issue_dir(issue_id)
    result = build_issue(env.settings, folder, env.db_path, pictures=not offline)
    for problem in result.warnings:
        click.echo(str(problem))
    rep = result.report
    click.echo(
        f"Built issues/{issue_id}/build/: email.html ({rep.size_kb} KB), "
        "email.txt, web.html, email.mjml, report.json"
    )
    if not quiet:
        titles = {s.key: s.title for s in result.issue.sections}
        counts = ", ".join(f"{titles[k]} {n}" for k, n in rep.sections)
        click.echo(f"{plural(rep.items, 'item')}: {counts}")
        for held in rep.held:
            click.echo(f"Held back until {held.until}: {held.item}")
    period = result.directory.period if result.directory is not None else None
    if period is not None and (not quiet or period.line.startswith("warning:")):
        click.echo(period.line)
    if rep.freshness and not quiet:
        click.echo(rep.freshness)
        click.echo(rep.quality_line)
    findings = rep.warnings[len(result.warnings) :]
    for line in findings:
        click.echo(f"warning: {line}")
    if screenshots:
        for line in check_layout(result.out_dir / "email.html", result.issue):
            click.echo(line)
    if not result.ok:
        for line in rep.errors:
            click.echo(f"error: {line}", err=True)
        raise NewsletterError(result.failure)
    if quiet and not findings:
        return  # -q: nothing more to say when all is well
    verdict = plural(len(findings), "warning") if findings else "no findings"
    if offline:
        click.echo(f"Accessibility and size: {verdict}; pictures not checked (--offline).")
    else:
        click.echo(f"Accessibility, size and pictures: {verdict}.")


COMMANDS = {"new": new, "check": check, "build": build}
