"""What every command shares: the root folder, the database path, the settings.

Loaded on first use, so a command that needs no database never opens (or
imports) one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from newsletter.models import LIMITS

if TYPE_CHECKING:
    from newsletter.config import Settings
    from newsletter.store import Database


class Env:
    """Lazily loaded state for one invocation, shared through the click context."""

    def __init__(self, root: Path, db_path: Path) -> None:
        self.root = root
        self.db_path = db_path
        self.db_existed = db_path.exists()

    @cached_property
    def settings(self) -> Settings:
        from newsletter.config import load_settings

        return load_settings(self.root)

    @cached_property
    def db(self) -> Database:
        from newsletter.store import open_db

        return open_db(self.db_path)

    def discard_new_db(self) -> None:
        """After a failed command: remove the database it created, if it stayed empty.

        ``env.db`` creates contacts.db on first use, and a command may open it
        before it finds its arguments wrong; a command that fails leaves no trace.
        """
        if self.db_existed or "db" not in self.__dict__:
            return
        from newsletter.store import discard_if_unused

        discard_if_unused(self.db, self.db_path)

    def close(self) -> None:
        """Close the database when the command ends, not whenever the garbage collector
        gets to it: closing checkpoints the WAL into contacts.db, and a later command
        (or a test comparing the file) must not see it change after this one ended."""
        if "db" in self.__dict__:
            self.db.conn.close()

    def issue_dir(self, issue_id: str, *, must_exist: bool = True) -> Path:
        from newsletter.issue import issue_folder

        return issue_folder(self.root, issue_id, must_exist)


pass_env = click.make_pass_decorator(Env)
F = TypeVar("F", bound=Callable[..., Any])


def output_options(what: str) -> Callable[[F], F]:
    """``-o FILE`` and ``--force``: where a command writes ``what`` instead of stdout.

    The rules for FILE are ``files.check_output``'s (never a folder, a device,
    contacts.db or pyproject.toml; an existing file only with ``--force``)."""

    def apply(func: F) -> F:
        func = click.option(
            "--force", is_flag=True, help="Replace FILE if it exists (never contacts.db)."
        )(func)
        return click.option(
            "-o",
            "--output",
            type=Named(path_type=Path),  # an empty name is a usage error, not the cwd
            help=f"Write {what} to FILE instead of stdout.",
        )(func)

    return apply


def mailing_options(dry_run: str) -> Callable[[F], F]:
    """``--sender``, ``-o KEY=VALUE``, ``--to``, ``--dry-run`` and ``-y``: how every
    mailing is sent (an issue, a directory round, a welcome), written once.

    ``dry_run`` says what that mailing's dry run shows."""

    def apply(func: F) -> F:
        for option in (
            click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation."),
            click.option("--dry-run", is_flag=True, help=f"Write and send nothing; {dry_run}."),
            click.option(
                "--to",
                "test_to",
                multiple=True,
                metavar="ADDRESS",
                help="Send a [TEST] copy to ADDRESS only; not recorded. Repeatable.",
            ),
            click.option(
                "-o",
                "--option",
                "options",
                multiple=True,
                metavar="KEY=VALUE",
                help="Set a sender option for this run, e.g. -o port=2525. Repeatable.",
            ),
            click.option(
                "--sender",
                "sender_name",
                metavar="NAME",
                help="Sender to use (see: newsletter senders).  [default: send.sender, "
                "else outbox]",
            ),
        ):
            func = option(func)
        return func

    return apply


def json_option(func: F) -> F:
    """``--json``: the command's output as JSON on stdout, its shape in the README."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (shape in the README) instead of text."
    )(func)


def quiet_option(func: F) -> F:
    """``-q``: a command that reports as it goes prints only its warnings, its errors
    and its one closing summary line (no progress bar, table, per-item line or hint)."""
    return click.option(
        "-q", "--quiet", is_flag=True, help="Print only warnings, errors and the summary line."
    )(func)


def echo_json(value: object) -> None:
    """The one JSON output of every command: indented by 2, UTF-8 as it is, one newline.

    Keys are snake_case and stable: scripts read them, so a key is never renamed."""
    import json

    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


class Named(click.Path):
    """A path option or argument that must name something: an empty value ("") is a
    usage error here, where click would take it as the current folder and write there."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("is empty. Give a name, such as site or contacts.csv.", param, ctx)
        return super().convert(value, param, ctx)


class OneLine(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is not
    """Text stored and shown on one line (an import's ``--source``, kept in every
    history line it writes): a line break or control character is a usage error."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from newsletter.schema import Invalid, line, shown

        try:
            return line().parse(value)
        except Invalid as exc:
            self.fail(f"{shown(value)} {exc.reason}. {exc.fix or 'Give a short name.'}", param, ctx)


class InRange(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2; 8.1 is not
    """A number option read by the same kind as its setting (``models.LIMITS[key]``), so
    ``--concurrency`` and ``concurrency =`` refuse exactly the same values (exit 2 here)."""

    def __init__(self, key: str) -> None:
        self.limit = LIMITS[key]
        self.name = "integer" if self.limit.whole else "number"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        from newsletter.schema import figure

        limit = self.limit
        word = "N" if limit.whole else (limit.unit.upper() or "X")
        low = f"above {figure(limit.minimum)}" if limit.above else figure(limit.minimum)
        return f"{word} ({low} to {figure(limit.maximum)})"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float | int:
        from newsletter.schema import Invalid, ranged, shown

        kind = ranged(self.limit)
        try:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return kind.parse(value)  # a default, already a number
            assert kind.text_parse is not None  # whole() and number() read text
            return kind.text_parse(str(value))
        except Invalid as exc:
            message = f"{shown(value)} {exc.reason}."
            raise click.BadParameter(message, ctx, param) from None
