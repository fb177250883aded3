"""Start-up time of the command line, as whole processes, against a baseline in the same run.

Times ``newsletter --help`` and ``newsletter check 2026-Q4`` (the shipped sample
issue) next to ``python -c "import click"``: the least a click program can cost.
Runs are interleaved, so a noisy neighbour slows all three alike, and the
median of each is reported. Target: ``--help`` within 2x of the baseline.

    python benchmarks/startup.py [--runs 40]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 2.0


def command() -> list[str]:
    """The installed console script, as a user runs it; else the module."""
    script = Path(sys.executable).parent / "newsletter"
    if script.exists():
        return [str(script)]
    found = shutil.which("newsletter")
    return [found] if found else [sys.executable, "-m", "newsletter"]


def once(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    tool = command()
    cases = {
        'baseline: python -c "import click"': [sys.executable, "-c", "import click"],
        "newsletter --help": [*tool, "--help"],
        "newsletter check 2026-Q4": [*tool, "check", "2026-Q4"],
    }
    for argv in cases.values():  # warm the file cache and the bytecode
        once(argv)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            times[name].append(once(argv))
    base = statistics.median(times['baseline: python -c "import click"'])
    print(f"{runs} runs each, interleaved; median wall time per process")
    for name, values in times.items():
        median = statistics.median(values)
        ratio = median / base
        verdict = ""
        if name == "newsletter --help":
            verdict = f"  target <= {TARGET:g}x: {'ok' if ratio <= TARGET else 'MISSED'}"
        print(f"  {name:<36} {median * 1000:7.1f} ms  {ratio:4.2f}x baseline{verdict}")


if __name__ == "__main__":
    main()
