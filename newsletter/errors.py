"""User-facing errors.

A user's mistake is a NewsletterError: click prints its one-line message and
exits 1, with no traceback. Anything else is a bug and is allowed to raise.
"""

from __future__ import annotations

import click


class NewsletterError(click.ClickException):
    """A problem the user can fix; the message names the place and the fix."""

    exit_code = 1


def where(path: object, line: int | None = None) -> str:
    """Format a location as ``path:line`` (or just ``path``) for messages."""
    return f"{path}:{line}" if line else f"{path}"
