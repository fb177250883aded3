"""Contacts benchmark: a 100,000-row import and the directory for 5,000 contacts.

Not a test. Run: python benchmarks/contacts.py [--rows 100000] [--directory 5000]

Targets (issue 3): the import runs at 20,000 rows/s or more; the directory
builds in under 1 s. Beside each figure is a baseline measured in the same
run, so a slow machine shows up in both columns rather than as a regression:

* import: a bare ``sqlite3`` ``executemany`` of the same rows, already parsed,
  into a table with the same columns and the same unique email index, in one
  transaction (no CSV parsing, validation, history or diff);
* directory: a bare ``SELECT`` of the listed, subscribed contacts joined to
  their organisations.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sqlite3
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


def rows(count: int) -> list[list[str]]:
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
        for n in range(count)
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
    assert len(plan.added) == count and not plan.rejected
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_import(Path(tmp), args.rows)
        bench_directory(Path(tmp), args.directory)


if __name__ == "__main__":
    main()
