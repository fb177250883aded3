"""The ``newsletter`` command line: thin commands over the pipeline stages.

Commands load lazily, with click's documented lazy-loading group: ``newsletter
--help`` imports the small command modules, which import only click at the top,
and a command imports its stage when it runs. So ``newsletter check`` never
loads Flask, the SMTP sender, sqlite-utils or feedparser. The loaders below are
written out (no import by name string), so the import-direction test sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

import click

from newsletter import __version__
from newsletter.cli.env import Env


def _issue() -> ModuleType:
    from newsletter.cli import issue

    return issue


def _contacts() -> ModuleType:
    from newsletter.cli import contacts

    return contacts


def _directory() -> ModuleType:
    from newsletter.cli import directory

    return directory


def _feeds() -> ModuleType:
    from newsletter.cli import feeds

    return feeds


def _send() -> ModuleType:
    from newsletter.cli import send

    return send


def _review() -> ModuleType:
    from newsletter.cli import review

    return review


def _web() -> ModuleType:
    from newsletter.cli import web

    return web


INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it

# Each command, and the module that defines it (in that module's COMMANDS).
LAZY: Mapping[str, Callable[[], ModuleType]] = {
    "new": _issue,
    "check": _issue,
    "build": _issue,
    "contacts": _contacts,
    "directory": _directory,
    "feeds": _feeds,
    "collect": _feeds,
    "intake": _feeds,
    "call": _feeds,
    "contributions": _feeds,
    "inbox": _feeds,
    "accept": _feeds,
    "reject": _feeds,
    "send": _send,
    "senders": _send,
    "status": _send,
    "report": _send,
    "review": _review,
    "preview": _web,
    "archive": _web,
    "publish": _web,
    "unpublish": _web,
    "serve": _web,
    "desk": _web,
    "bounces": _web,
}


class LazyGroup(click.Group):
    """A group whose commands are imported only when they are listed or run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY:
            command: click.Command = LAZY[cmd_name]().COMMANDS[cmd_name]
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit) as exc:
            # A command that fails (a mistake, a usage error, or ctx.exit(1) after
            # its own report) leaves no new, empty contacts.db behind.
            failed = not isinstance(exc, click.exceptions.Exit) or exc.exit_code != 0
            if failed and isinstance(ctx.obj, Env):
                ctx.obj.discard_new_db()
            raise
        except KeyboardInterrupt:
            # Ctrl-C: exit 130 as shells expect, at once, with one line; click's own
            # handling says "Aborted!" and exits 1, like a question answered no.
            # Commands keep their writes atomic, so a stop leaves nothing half-written.
            if isinstance(ctx.obj, Env):
                ctx.obj.discard_new_db()
            click.echo("\nInterrupted.", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="NEWSLETTER_ROOT",
    show_envvar=True,
    default=".",
    show_default="current directory",
    help="Project folder holding pyproject.toml, issues/ and templates/.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="NEWSLETTER_DB",
    show_envvar=True,
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
    ctx.call_on_close(ctx.obj.close)
