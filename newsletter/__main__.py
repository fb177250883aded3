"""``python -m newsletter`` and the ``newsletter`` script.

Loading the command line takes a moment (click, then a command's stage); a
Ctrl-C in that moment must read as one line, not a traceback, as it does once
a command runs.
"""

import sys  # always loaded before any module runs: importing it cannot be interrupted

try:
    from newsletter import errors
except KeyboardInterrupt:  # a Ctrl-C in the first instants, before anything of ours could watch
    sys.stderr.write("\nInterrupted.\n")
    raise SystemExit(130) from None


def run() -> None:
    """Load and run the command line; a Ctrl-C click does not see exits 130 with one line."""
    watching = False
    try:
        watching = errors.watch()
        from newsletter.cli import main

        if watching and errors.ctrl_c_seen():
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
        if watching and errors.ctrl_c_seen():
            _stop()
        raise


def _stop() -> None:
    sys.stderr.write("\nInterrupted.\n")
    raise SystemExit(130) from None


if __name__ == "__main__":
    run()
