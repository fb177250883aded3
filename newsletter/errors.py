"""User-facing errors.

A user's mistake is a NewsletterError: click prints its one-line message and
exits 1, with no traceback. A command line that is wrong whatever the files
hold (a value of the wrong form, options that exclude each other) is a
BadUsage and exits 2, like click's own usage errors (an unknown option, a
missing argument, a value outside an option's range). Anything else is a bug
and is allowed to raise.
"""

from __future__ import annotations

import click


class NewsletterError(click.ClickException):
    """A problem the user can fix; the message names the place and the fix."""

    exit_code = 1


def where(path: object, line: int | None = None) -> str:
    """Format a location as ``path:line`` (or just ``path``) for messages."""
    return f"{path}:{line}" if line else f"{path}"


class BadUsage(click.UsageError):
    """The command line itself is wrong: one line naming the option, exit 2 as click does.

    Raised where the check needs more than a click type (an ``-o KEY=VALUE``
    checked against the sender's own options, options that exclude each other).
    """

    exit_code = 2
