"""Build benchmark: per-stage times for the sample issue and a 300-item issue.

Not a test. Run: python benchmarks/build.py [--items 300] [--repeat 5]

Prints the median of several builds per stage (load and validate, Jinja, MJML,
text, web, audit, write) and, beside them, a baseline measured in the same run:
the bare cost of reading and parsing the same item files with PyYAML and
markdown-it and compiling a one-section MJML document, so a slow machine shows
up in both columns rather than as a regression.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import mjml
import yaml
from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsletter.build.pipeline import build  # noqa: E402
from newsletter.config import load_settings  # noqa: E402

SECTIONS = ("news", "tools", "events", "spotlight")
ITEM = """---
title: Generated item {n} about partnerships with business in the UN system
section: {section}
link: https://example.org/items/{n}
date: 2026-{month:02d}-{day:02d}
source: Agency {agency}
weight: {weight}
---
A summary of item {n}. It explains what **changed** this quarter, who it is
for, and where to [read more](https://example.org/items/{n}/more). It runs to a
few sentences, as a real summary would, with a list:

- one point
- another point
"""


def make_project(items: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="nl-bench-"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "templates", root / "templates")
    folder = root / "issues" / "2026-Q4"
    shutil.copytree(REPO / "issues" / "2026-Q4", folder, ignore=shutil.ignore_patterns("build"))
    if items:
        shutil.rmtree(folder / "items")
        (folder / "items").mkdir()
        for n in range(items):
            text = ITEM.format(
                n=n,
                section=SECTIONS[n % 4],
                month=10 + n % 3,
                day=1 + n % 28,
                agency=n % 30,
                weight=n % 5,
            )
            (folder / "items" / f"item-{n:04d}.md").write_text(text, encoding="utf-8")
    return root


def baseline(folder: Path) -> float:
    md = MarkdownIt("commonmark")
    start = time.perf_counter()
    for path in sorted((folder / "items").glob("*.md")):
        _, head, body = path.read_text(encoding="utf-8").split("---", 2)
        yaml.safe_load(head)
        md.render(body)
    mjml.mjml2html(
        "<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text></mj-column>"
        "</mj-section></mj-body></mjml>",
        fonts={},
    )
    return time.perf_counter() - start


def run(label: str, items: int, repeat: int) -> None:
    root = make_project(items)
    try:
        settings = load_settings(root)
        folder = root / "issues" / "2026-Q4"
        runs, totals, bases = [], [], []
        for _ in range(repeat):
            start = time.perf_counter()
            result = build(settings, folder)
            totals.append(time.perf_counter() - start)
            runs.append(result.timings)
            bases.append(baseline(folder))
        stages = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        count = result.report.items
        kb = result.report.size_kb
        print(f"\n{label}: {count} items, email.html {kb} KB, median of {repeat} builds")
        for name, seconds in stages.items():
            print(f"  {name:<8} {seconds * 1000:8.1f} ms")
        print(f"  {'total':<8} {statistics.median(totals) * 1000:8.1f} ms")
        print(
            f"  baseline {statistics.median(bases) * 1000:8.1f} ms  "
            "(read + YAML + Markdown of the same files, one tiny MJML compile)"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run("sample issue 2026-Q4", 0, args.repeat)
    run(f"generated issue of {args.items} items", args.items, args.repeat)


if __name__ == "__main__":
    main()
