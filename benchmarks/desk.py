"""The editor's desk: how long its busiest pages take, beside baselines from the same run.

A project with ISSUES built issues (the test helpers' sample issue, 4 items each),
CONTACTS contacts and an inbox of CANDIDATES candidate files is made in a temporary
folder. Each page is fetched through the real app (Flask's test client, so the
figure is the app's own time, not the network's), interleaved with its baselines:

- the vendored htmx file through the same app: what any request costs;
- the stage function the page calls, alone (``issue.list_inbox`` for the inbox,
  ``state_of`` for every issue on the issues page): what the page adds to it.

Medians of RUNS rounds.

    python benchmarks/desk.py [--issues 12] [--candidates 200] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers import add_contacts, built, new_project  # noqa: E402

from newsletter.config import load_settings  # noqa: E402
from newsletter.desk import desk_app  # noqa: E402
from newsletter.desk.issues import state_of  # noqa: E402
from newsletter.issue import issue_ids, list_inbox  # noqa: E402
from newsletter.store import open_db  # noqa: E402

CANDIDATE = """---
title: Candidate number {n}
section: news
link: https://example.org/candidate-{n}
date: 2026-11-{day:02d}
source: UN News
---
A short summary of candidate {n}, with a [link](https://example.org/{n}) in it.
"""


def project(folder: Path, issues: int, candidates: int) -> Path:
    root = new_project(folder / "project")
    open_db(root / "contacts.db").conn.close()
    for n in range(issues):
        built(root, f"{2020 + n // 4}-Q{n % 4 + 1}")
    add_contacts(root, 200)
    inbox = root / "issues" / f"{2020 + (issues - 1) // 4}-Q{(issues - 1) % 4 + 1}" / "inbox"
    inbox.mkdir()
    for n in range(candidates):
        (inbox / f"candidate-{n}.md").write_text(
            CANDIDATE.format(n=n, day=n % 28 + 1), encoding="utf-8"
        )
    return root


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=12)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp), args.issues, args.candidates)
        settings = load_settings(root)
        client = desk_app(settings, root / "contacts.db").test_client()
        last = issue_ids(root)[0]
        folder = root / "issues" / last

        def get(path: str) -> Callable[[], object]:
            def fetch() -> None:
                answer = client.get(path)
                assert answer.status_code == 200, (path, answer.status_code)

            return fetch

        def states() -> None:
            db = open_db(root / "contacts.db")
            try:
                for issue_id in issue_ids(root):
                    state_of(settings, db, root / "issues" / issue_id)
            finally:
                db.conn.close()

        cases = {
            "baseline: /static/htmx.min.js": get("/static/htmx.min.js"),
            f"baseline: state_of x {args.issues} (no page)": states,
            f"/ (issues page, {args.issues} issues)": get("/"),
            f"baseline: list_inbox, {args.candidates} candidates": lambda: list_inbox(
                settings, folder
            ),
            f"/issues/{last}/inbox ({args.candidates} candidates)": get(f"/issues/{last}/inbox"),
            f"/issues/{last}/items/item-1.md (editor)": get(f"/issues/{last}/items/item-1.md"),
            f"/issues/{last}/build (preview)": get(f"/issues/{last}/build"),
        }
        for action in cases.values():  # warm caches and imports
            action()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, action in cases.items():
                times[name].append(timed(action))
    print(f"{args.runs} rounds, interleaved; median time per request or call")
    for name, values in times.items():
        print(f"  {name:<52} {statistics.median(values) * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
