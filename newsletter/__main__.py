"""``python -m newsletter`` and the ``newsletter`` script.

Loading the command line takes a moment (click, then a command's stage); a
Ctrl-C in that moment must read as one line, not a traceback, as it does once
a command runs.
"""

import signal
import sys
from types import FrameType

# Ctrl-Cs seen by this process. A KeyboardInterrupt raised while a C extension
# initialises (``_ssl`` during ``import ssl``) can come out as another exception
# (CPython's "TypeError: expected a message argument"): what was asked is still a
# stop, and it reads as one.
_INTERRUPTS: list[int] = []


def _interrupted(signum: int, frame: FrameType | None) -> None:
    """Python's own Ctrl-C handler, remembering that it ran."""
    _INTERRUPTS.append(signum)
    signal.default_int_handler(signum, frame)


def run() -> None:
    """Load and run the command line; a Ctrl-C click does not see exits 130 with one line."""
    signal.signal(signal.SIGINT, _interrupted)
    try:
        from newsletter.cli import main

        main()
    except KeyboardInterrupt:  # while loading, or in the moments around click's own handling
        _stop()
    except Exception:
        if _INTERRUPTS:  # a Ctrl-C that surfaced as another exception
            _stop()
        raise


def _stop() -> None:
    sys.stderr.write("\nInterrupted.\n")
    raise SystemExit(130) from None


if __name__ == "__main__":
    run()
