"""``python -m newsletter`` and the ``newsletter`` script.

Loading the command line takes a moment (click, then a command's stage); a
Ctrl-C in that moment must read as one line, not a traceback, as it does once
a command runs.
"""

import sys


def run() -> None:
    """Load and run the command line; Ctrl-C while it loads exits with 130 and one line."""
    try:
        from newsletter.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
