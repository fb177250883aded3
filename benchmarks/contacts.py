"""Contacts benchmark: imports of 100,000 and 1,000,000 rows, the directory for 5,000.

Not a test. Run: python benchmarks/contacts.py [--rows 100000] [--directory 5000]
[--memory-rows 1000000] (``--memory-rows 0`` skips the long one).

Targets (issue 3): the import runs at 20,000 rows/s or more; the directory
builds in under 1 s. Target (issue 10): a 1,000,000-row import, and its dry
run, peak under 200 MB of memory. Beside each figure is a baseline measured in
the same run, so a slow machine shows up in both columns rather than as a
regression:

* import: a bare ``sqlite3`` ``executemany`` of the same rows, already parsed,
  into a table with the same columns and the same unique email index, in one
  transaction (no CSV parsing, validation, history or diff);
* memory: each import is a real ``newsletter contacts import`` process, its
  peak RSS (``ru_maxrss``) read with ``os.wait4``; the baseline is a process
  that reads the same file with the bare ``csv`` module and keeps nothing;
* directory: a bare ``SELECT`` of the listed, subscribed contacts joined to
  their organisations.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsletter.config import load_settings  # noqa: E402
from newsletter.contacts.directory import build_directory  # noqa: E402
from newsletter.contacts.imports import import_file  # noqa: E402
from newsletter.store import open_db  # noqa: E402
from newsletter.store.contacts import change_contact, get_contact, mark_left  # noqa: E402

HEADER = ["Email", "Full name", "Organisation", "Job title", "Country", "City", "Phone", "Topics"]


def rows(count: int, start: int = 0) -> list[list[str]]:
    return [
        [
            f"first{n}.last{n}@agency{n % 40}.example.org",
            f"First{n} Last{n}",
            f"Agency {n % 40}",
            "Private Sector Partnerships Specialist",
            "Switzerland",
            "Geneva",
            f"+41 22 555 {n % 10000:04d}",
            "climate; supply chains",
        ]
        for n in range(start, start + count)
    ]


def write_csv(path: Path, data: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(data)


def baseline_insert(path: Path, data: list[list[str]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT,"
        " organisation TEXT, job_title TEXT, country TEXT, city TEXT, phone TEXT, topics TEXT)"
    )
    conn.execute("CREATE UNIQUE INDEX e ON contacts(email COLLATE NOCASE)")
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO contacts (email, name, organisation, job_title, country, city, phone, topics)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        data,
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def bench_import(folder: Path, count: int) -> None:
    data = rows(count)
    csv_path = folder / "contacts.csv"
    write_csv(csv_path, data)
    base = baseline_insert(folder / "baseline.db", data)
    db = open_db(folder / "import.db")
    start = time.perf_counter()
    plan = import_file(db, csv_path, actor="bench")
    ours = time.perf_counter() - start
    assert plan.added == count and not plan.rejected
    start = time.perf_counter()
    again = import_file(db, csv_path, actor="bench")
    second = time.perf_counter() - start
    assert again.unchanged == count
    db.conn.close()
    print(
        f"import {count:,} rows (new)       {ours:7.2f} s  {count / ours:9,.0f} rows/s"
        f"   baseline executemany {base:5.2f} s  {count / base:9,.0f} rows/s"
        f"   target >= 20,000 rows/s: {'ok' if count / ours >= 20e3 else 'MISSED'}"
    )
    print(f"re-import, all unchanged          {second:7.2f} s  {count / second:9,.0f} rows/s")


BARE_CSV = """
import csv, sys
with open(sys.argv[1], encoding="utf-8", newline="") as fh:
    count = sum(1 for _ in csv.reader(fh)) - 1
print(f"{count} rows")
"""
# Runs a program and prints its peak RSS at exit. VmHWM is this process's own
# high-water mark since exec; ru_maxrss of a child also counts the parent's
# memory at fork, which would hide the figure under this script's.
PEAK = """
import atexit, runpy, sys
def peak():
    with open("/proc/self/status") as fh:
        kb = next(line.split()[1] for line in fh if line.startswith("VmHWM"))
    print(f"peak {kb} kB", file=sys.stderr)
atexit.register(peak)
sys.argv = sys.argv[1:]
if sys.argv[0] == "-c":
    sys.argv = sys.argv[1:]
    exec(compile(sys.argv[0], "<baseline>", "exec"))
else:
    runpy.run_module(sys.argv[0], run_name="__main__")
"""


def measured(argv: list[str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of one process, ``python -m ARGV`` or ``-c CODE``."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *argv], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    kb = re.search(r"peak (\d+) kB", done.stderr)
    assert kb, done.stderr
    return seconds, int(kb[1]) / 1024, done.stdout


def write_rows(path: Path, count: int) -> None:
    """The same rows as ``rows``, written as they are made (a million fit nowhere else)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for start in range(0, count, 10_000):
            writer.writerows(rows(min(10_000, count - start), start))


def bench_memory(folder: Path, count: int) -> None:
    root = folder / "memory"
    root.mkdir()
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    (root / "pyproject.toml").write_text(text[text.index("[tool.newsletter]") :], "utf-8")
    csv_path = root / "million.csv"
    write_rows(csv_path, count)
    size = csv_path.stat().st_size / 1024 / 1024
    base_s, base_mb, _ = measured(["-c", BARE_CSV, str(csv_path)])
    cli = ["newsletter", "--root", str(root), "contacts", "import"]
    runs = [
        ("dry run", [*cli, str(csv_path), "--dry-run"]),
        ("import (new)", [*cli, str(csv_path)]),
        ("re-import, all unchanged", [*cli, str(csv_path)]),
    ]
    print(
        f"{count:,} rows ({size:,.0f} MB of CSV)   baseline bare csv.reader: "
        f"{base_s:5.1f} s  {count / base_s:9,.0f} rows/s  peak {base_mb:5.0f} MB"
    )
    for label, argv in runs:
        seconds, peak, out = measured(argv)
        summary = out.strip().splitlines()[-1]
        assert f"{count} " in summary.replace(",", ""), summary
        print(
            f"  {label:<26} {seconds:5.1f} s  {count / seconds:9,.0f} rows/s  peak {peak:5.0f} MB"
            f"   target < 200 MB: {'ok' if peak < 200 else 'MISSED'}"
        )


def bench_directory(folder: Path, count: int) -> None:
    csv_path = folder / "directory.csv"
    write_csv(csv_path, rows(count))
    db = open_db(folder / "directory.db")
    import_file(db, csv_path, actor="bench", at="2026-06-01T09:00:00+00:00")
    with db.atomic():  # some history inside the window, as a real quarter has
        for n in range(0, count, 25):
            contact = get_contact(db, f"first{n}.last{n}@agency{n % 40}.example.org")
            change_contact(
                db, contact, {"job_title": "Head"}, "bench", "b", "2026-10-01T00:00:00+00:00"
            )
        for n in range(3, count, 97):
            mark_left(
                db,
                f"first{n}.last{n}@agency{n % 40}.example.org",
                "bench",
                "b",
                "2026-11-01T00:00:00+00:00",
            )
    settings = load_settings(REPO)
    since, until = dt.date(2026, 9, 15), dt.date(2026, 12, 15)
    times, base_times = [], []
    for _ in range(5):
        start = time.perf_counter()
        directory = build_directory(db, settings, since, until)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        db.execute(
            "SELECT c.*, o.name FROM contacts c LEFT JOIN organisations o"
            " ON o.id = c.organisation_id WHERE c.listed = 1 AND c.status = 'subscribed'"
        ).fetchall()
        base_times.append(time.perf_counter() - start)
    best, base = min(times), min(base_times)
    print(
        f"directory for {count:,} contacts       {best * 1000:7.1f} ms"
        f" ({directory.total} shown, {directory.updated} updated, {directory.left} left)"
        f"   baseline SELECT {base * 1000:5.1f} ms"
        f"   target < 1 s: {'ok' if best < 1 else 'MISSED'}"
    )
    db.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--directory", type=int, default=5_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_import(Path(tmp), args.rows)
        bench_directory(Path(tmp), args.directory)
        if args.memory_rows:
            bench_memory(Path(tmp), args.memory_rows)


if __name__ == "__main__":
    main()
