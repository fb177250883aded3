"""User-facing errors.

A user's mistake is a NewsletterError: click prints its one-line message and
exits 1, with no traceback. A command line that is wrong whatever the files
hold (a value of the wrong form, options that exclude each other) is a
BadUsage and exits 2, like click's own usage errors (an unknown option, a
missing argument, a value outside an option's range). Anything else is a bug
and is allowed to raise.

A Ctrl-C ends a command too (exit 130, one line: ``cli`` and ``__main__``), and
one can go missing: CPython drops a KeyboardInterrupt raised inside a weakref
callback, as the import system's module locks run one ("Exception ignored in
... _get_module_lock"), so a Ctrl-C pressed while a command loads its modules
can vanish and the command go on as if nobody had asked it to stop.
``__main__`` asks the interpreter to write each signal's number to a pipe
(``signal.set_wakeup_fd``, written from C, so no frame of ours is in any
traceback CPython prints) before anything loads, and sets ``ctrl_c_seen`` to
read it; a long run (``send``) asks once more just before its first message,
once its own modules have loaded.
"""

from __future__ import annotations

from collections.abc import Callable

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


# -- a Ctrl-C that Python dropped ------------------------------------------------


def _not_watching() -> bool:
    return False


# Whether a Ctrl-C came since this was last asked, even one CPython dropped: set by
# ``__main__``, which watches the interpreter's wakeup pipe from its first instant
# (before click loads); False where nothing watches (a test's CliRunner, a thread).
ctrl_c_seen: Callable[[], bool] = _not_watching
