"""The ``newsletter`` command line: thin commands over the pipeline stages."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter import __version__
from newsletter.cli.env import Env


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="NEWSLETTER_ROOT",
    default=".",
    show_default="current directory",
    help="Project folder holding pyproject.toml, issues/ and templates/.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="NEWSLETTER_DB",
    default=None,
    help="Contacts database.  [default: ROOT/contacts.db]",
)
@click.version_option(__version__, prog_name="newsletter")
@click.pass_context
def main(ctx: click.Context, root: Path, db_path: Path | None) -> None:
    """Assemble and mail The UN-Business Focal Point.

    Example: newsletter build 2026-Q4
    """
    root = root.resolve()
    ctx.obj = Env(root, (db_path or root / "contacts.db").resolve())


def _register() -> None:
    from newsletter.cli import issue

    for command in (issue.new, issue.check, issue.build):
        main.add_command(command)

    from newsletter.cli import contacts

    main.add_command(contacts.contacts)

    from newsletter.cli import feeds

    for command in feeds.COMMANDS:
        main.add_command(command)

    from newsletter.cli import send

    for command in (send.send, send.senders, send.status):
        main.add_command(command)

    from newsletter.cli import web

    for command in web.COMMANDS:
        main.add_command(command)


_register()
