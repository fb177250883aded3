"""``python -m newsletter`` and the ``newsletter`` script.

Loading the command line takes a moment (click, then a command's stage); a
Ctrl-C in that moment must read as one line, not a traceback, as it does once
a command runs.
"""

import sys


def run() -> None:
    """Load and run the command line; a Ctrl-C click does not see exits 130 with one line."""
    try:
        from newsletter.cli import main

        main()
    except KeyboardInterrupt:  # while loading, or in the moments around click's own handling
        sys.stderr.write("\nInterrupted.\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    run()
