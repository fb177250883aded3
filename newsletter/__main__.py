"""``python -m newsletter`` and the ``newsletter`` script.

Loading the command line takes a moment (click, then a command's stage); a
Ctrl-C in that moment must read as one line, not a traceback, as it does once
a command runs.
"""

import sys  # always loaded before any module runs: importing it cannot be interrupted

try:
    import os
    import signal
    from functools import partial
except KeyboardInterrupt:  # a Ctrl-C in the first instants, before anything of ours could watch
    sys.stderr.write("\nInterrupted.\n")
    raise SystemExit(130) from None


def run() -> None:
    """Load and run the command line; a Ctrl-C click does not see exits 130 with one line."""
    seen = None
    try:
        seen = _watch_signals()
        from newsletter import errors
        from newsletter.cli import main

        if seen is not None:
            # A long run (send) asks again just before its first message, once its own
            # modules have loaded: a Ctrl-C dropped there must stop it too.
            errors.ctrl_c_seen = partial(_got_ctrl_c, seen)
        if seen is not None and _got_ctrl_c(seen):
            # CPython drops a KeyboardInterrupt raised inside an import's weakref
            # callback ("Exception ignored in ... _get_module_lock"): the Ctrl-C came
            # while loading, so stop before the command starts.
            _stop()
        main()
    except KeyboardInterrupt:  # while loading, or in the moments around click's own handling
        _stop()
    except Exception:
        # A KeyboardInterrupt raised while a C extension initialises (``_ssl`` during
        # ``import ssl``) can come out as another exception (CPython's "TypeError:
        # expected a message argument"): what was asked is still a stop.
        if seen is not None and _got_ctrl_c(seen):
            _stop()
        raise


def _watch_signals() -> int | None:
    """A pipe the interpreter itself writes each signal's number to (``set_wakeup_fd``),
    from C, so no frame of ours is ever in a traceback; its reading end, or None where
    it cannot be set (not the main thread)."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    try:
        signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:
        os.close(read)
        os.close(write)
        return None
    return read


def _got_ctrl_c(read: int) -> bool:
    """Whether a Ctrl-C was written to the pipe since the last call (each is seen once)."""
    seen = False
    while True:
        try:
            got = os.read(read, 4096)
        except BlockingIOError:  # nothing (more) was written
            return seen
        if not got:
            return seen
        seen = seen or signal.SIGINT in got


def _stop() -> None:
    sys.stderr.write("\nInterrupted.\n")
    raise SystemExit(130) from None


if __name__ == "__main__":
    run()
