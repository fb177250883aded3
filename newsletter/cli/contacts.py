"""``newsletter contacts ...``: the focal-point directory in contacts.db.

Exit codes: 0 done; 1 nothing done (a user error, the message says why, or
every row was rejected, or no source could be loaded); 3 done, but some rows
were rejected or some sources could not be loaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from newsletter.cli.env import (
    Env,
    Named,
    OneLine,
    echo_json,
    json_option,
    output_options,
    pass_env,
    quiet_option,
)
from newsletter.models import STATUSES

if TYPE_CHECKING:
    from newsletter.contacts import Plan

PARTIAL = 3
F = TypeVar("F", bound=Callable[..., Any])


def _report(plan: Plan, dry_run: bool, quiet: bool) -> None:
    """The changes (with --dry-run), the rows rejected, the notes, those marked left,
    and the summary; with -q only the rejected rows, the notes and the summary."""
    from newsletter.contacts import PREVIEW
    from newsletter.schema import shown

    for line in plan.diff() if dry_run and not quiet else ():
        click.echo(line)
    for line in itertools.chain(plan.rejected, plan.notes):  # rejected may be a million
        click.echo(line)
    for contact in plan.left if not (dry_run or quiet) else ():
        click.echo(f"{plan.display}: marked left: {shown(contact.name, PREVIEW)} <{contact.email}>")
    click.echo(plan.summary() + (" (dry run: nothing written)" if dry_run else ""))


def _fields(func: F) -> F:
    """The contact field options shared by add and edit."""
    for opt in reversed(("name", "org", "job-title", "country", "city", "phone", "topics")):
        func = click.option(
            f"--{opt}", default=None, help=f"The contact's {opt.replace('-', ' ')}."
        )(func)
    return click.option("--listed/--unlisted", default=None, help="Show in the directory.")(func)


def _raw(**options: object) -> dict[str, object]:
    names = {"org": "organisation"}
    return {names.get(k, k): v for k, v in options.items() if v is not None}


@click.group()
def contacts() -> None:
    """Manage the focal points in contacts.db: import, sync, edit, export.

    Example: newsletter contacts import examples/focal-points.csv --dry-run
    """


@contacts.command("import")
@click.argument("file", type=Named(dir_okay=False, path_type=Path))
@click.option("--source", type=OneLine(), help="Who owns these records.  [default: import:FILE]")
@click.option("--dry-run", is_flag=True, help="Print the changes; write nothing.")
@quiet_option
@pass_env
@click.pass_context
def import_(
    ctx: click.Context, env: Env, file: Path, source: str | None, dry_run: bool, quiet: bool
) -> None:
    """Add or update contacts from a UTF-8 CSV (comma or semicolon) or JSON file.

    Example: newsletter contacts import examples/focal-points.csv --dry-run
    """
    from newsletter.contacts import import_file

    plan = import_file(env.db, file, source, dry_run)
    _report(plan, dry_run, quiet)
    if plan.rejected:
        ctx.exit(PARTIAL if plan.added or plan.updated or plan.unchanged else 1)


@contacts.command()
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@output_options("the list (CSV with a BOM, for spreadsheets)")
@click.option("--org", help="Only this organisation (name or acronym).")
@click.option("--status", type=click.Choice(STATUSES), help="Only contacts with this status.")
@pass_env
def export(
    env: Env, fmt: str, output: Path | None, force: bool, org: str | None, status: str | None
) -> None:
    """Write contacts as CSV (formula cells neutralised) or JSON.

    Example: newsletter contacts export --format csv -o focal-points.csv
    """
    from newsletter.contacts import export_contacts

    keep = (env.db_path,)  # pyproject.toml and any SQLite file are refused by files.check_output
    text, count = export_contacts(env.db, output, fmt, org, status, force=force, keep=keep)
    if output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"Wrote {count} contacts to {output}.", err=True)


@contacts.command("list")
@click.option("--org", help="Only this organisation (name or acronym).")
@click.option("--status", type=click.Choice(STATUSES), help="Only contacts with this status.")
@json_option
@pass_env
def list_(env: Env, org: str | None, status: str | None, as_json: bool) -> None:
    """Show contacts as a table: email, name, organisation, status, listed.

    Example: newsletter contacts list --org UNICEF --status subscribed
    """
    from newsletter.contacts import find_contacts
    from newsletter.schema import shown

    people = find_contacts(env.db, org, status)
    if as_json:
        echo_json(
            [
                {
                    "email": c.email,
                    "name": c.name,
                    "organisation": c.organisation,
                    "status": c.status,
                    "listed": c.listed,
                }
                for c in people
            ]
        )
        return
    rows = [("Email", "Name", "Organisation", "Status", "Listed")]
    rows += [
        (c.email, c.name, c.organisation, c.status, "yes" if c.listed else "no") for c in people
    ]
    cells = [[shown(v, 36, quote=False) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(5)]
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"{len(people)} contact{'s' * (len(people) != 1)}")


@contacts.command("show")
@click.argument("email")
@json_option
@pass_env
def show_(env: Env, email: str, as_json: bool) -> None:
    """Show one contact with its full change history.

    Example: newsletter contacts show jane.doe@unicef.example.org
    """
    from newsletter.contacts import PREVIEW, contact_history
    from newsletter.schema import shown

    contact, changes = contact_history(env.db, email)
    if as_json:
        fields = "email name organisation job_title country city phone topics listed status"
        fields += " source created_at updated_at"
        history = [
            {
                "at": h.at,
                "source": h.source,
                "actor": h.actor,
                "field": h.field,
                "old": h.old,
                "new": h.new,
            }
            for h in changes
        ]
        echo_json({f: getattr(contact, f) for f in fields.split()} | {"history": history})
        return
    for label, value in (
        ("Email", contact.email),
        ("Name", contact.name),
        ("Organisation", contact.organisation),
        ("Job title", contact.job_title),
        ("Country", contact.country),
        ("City", contact.city),
        ("Phone", contact.phone),
        ("Topics", contact.topics),
        ("Listed", "yes" if contact.listed else "no"),
        ("Status", contact.status),
        ("Source", contact.source),
        ("Created", contact.created_at),
        ("Updated", contact.updated_at),
    ):
        click.echo(f"{label + ':':<14}{shown(value, 200, quote=False)}")
    click.echo("History:")
    for h in changes:
        change = (
            h.field
            if h.field in ("created", "purged")
            else f"{h.field}: {shown(h.old, PREVIEW)} → {shown(h.new, PREVIEW)}"
        )
        click.echo(f"  {h.at}  {h.source} ({h.actor})  {change}")


@contacts.command()
@click.argument("email")
@_fields
@pass_env
def add(env: Env, email: str, **options: object) -> None:
    """Add one contact, subscribed, validated like an imported row.

    Example: newsletter contacts add jane.doe@unicef.example.org --name "Jane Doe" --org UNICEF
    """
    from newsletter.contacts import PREVIEW, add_contact
    from newsletter.schema import shown

    contact = add_contact(env.db, {"email": email, **_raw(**options)})
    name, organisation = shown(contact.name, PREVIEW), shown(contact.organisation, PREVIEW)
    click.echo(f"Added {contact.email} ({name}, {organisation}).")


@contacts.command()
@click.argument("email")
@click.option("--email", "new_email", help="A new address for the contact.")
@_fields
@click.option(
    "--status", type=click.Choice(STATUSES), help="Set the status (not back to subscribed)."
)
@click.option("--resubscribe", is_flag=True, help="Subscribe again; only when the person asked.")
@pass_env
def edit(env: Env, email: str, new_email: str | None, resubscribe: bool, **options: object) -> None:
    """Change fields of one contact; an empty value clears a field.

    Example: newsletter contacts edit jane.doe@unicef.example.org --job-title "Partnerships Lead"
    """
    from newsletter.contacts import PREVIEW, edit_contact, history_text
    from newsletter.schema import shown

    raw = _raw(**options) | ({"email": new_email} if new_email else {})
    contact, changes = edit_contact(env.db, email, raw, resubscribe)
    if not changes:
        click.echo(f"{contact.email}: nothing to change.")
    for field in changes:
        value = shown(history_text(getattr(contact, field)), PREVIEW)
        click.echo(f"{contact.email}: {field} set to {value}")


@contacts.command()
@click.argument("email")
@click.option(
    "--purge", is_flag=True, help="Erase the person's data; keep only a suppression hash."
)
@click.option("--yes", is_flag=True, help="Do not ask before purging.")
@pass_env
def remove(env: Env, email: str, purge: bool, yes: bool) -> None:
    """Mark a contact left (history kept), or with --purge erase them for good.

    Example: newsletter contacts remove jane.doe@unicef.example.org --purge --yes
    """
    from newsletter.contacts import purge_contact, remove_contact

    if not purge:
        changed = remove_contact(env.db, email)
        click.echo(
            f"{email}: "
            + (
                "marked left; record and history kept."
                if changed
                else "already left; nothing changed."
            )
        )
        return
    if not yes:
        click.confirm(f"Erase all data about {email}? This cannot be undone", abort=True)
    result = purge_contact(env.db, email)
    what = "contact and history values erased" if result.found else "not in contacts.db"
    click.echo(f"{email}: {what}; its hash is on the suppression list, so it is never added again.")
    if not result.checkpointed:
        warning = "warning: another process has contacts.db open; old pages stay in the WAL file"
        click.echo(f"{warning} until it closes. Run the purge again then.", err=True)


@contacts.command("unsubscribe")
@click.argument("email")
@click.option(
    "--source",
    type=OneLine(),
    default="manual",
    show_default=True,
    help="Where the request came from.",
)
@pass_env
def unsubscribe_cmd(env: Env, email: str, source: str) -> None:
    """Mark a contact unsubscribed, so they get no more issues.

    Example: newsletter contacts unsubscribe jane.doe@unicef.example.org
    """
    from newsletter.contacts import unsubscribe_contact

    contact, changed = unsubscribe_contact(env.db, email, source)
    click.echo(f"{contact.email}: " + ("unsubscribed." if changed else "already unsubscribed."))


@contacts.command()
@click.option("--source", "only", help="Sync only the source with this name.")
@click.option("--dry-run", is_flag=True, help="Print the changes; write nothing.")
@quiet_option
@pass_env
@click.pass_context
def sync(ctx: click.Context, env: Env, only: str | None, dry_run: bool, quiet: bool) -> None:
    """Apply every contact source in pyproject.toml; missing people are marked left.

    Example: newsletter contacts sync --dry-run
    """
    from newsletter.contacts import sync as sync_sources

    settings = env.settings  # a bad 'sources' entry stops before the database is opened
    result = sync_sources(env.db, settings, only, dry_run)
    for plan in result.plans:
        _report(plan, dry_run, quiet)
    for warning in result.warnings:
        click.echo(warning, err=True)
    if not result.plans:
        ctx.exit(1)  # every source failed: nothing was applied
    if result.warnings or any(plan.rejected for plan in result.plans):
        ctx.exit(PARTIAL)


COMMANDS = {"contacts": contacts}
