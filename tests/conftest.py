"""Shared fixtures: isolated settings, a throwaway project, the shared corpus."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("NEWSLETTER_CORPUS", REPO.parent / "shared" / "corpus"))

ITEM = """\
---
title: {title}
section: {section}
link: https://example.org/{slug}
date: 2026-10-{day:02d}
source: UN Global Compact
---
A short summary of {title}.
"""


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """No test sees the developer's environment or writes outside tmp_path."""
    for name in list(os.environ):
        if name.startswith("NEWSLETTER_") and name != "NEWSLETTER_CORPUS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (set NEWSLETTER_CORPUS)")
    return CORPUS


def settings_toml() -> str:
    """The repository's own [tool.newsletter] table, as a standalone pyproject."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    return text[text.index("[tool.newsletter]") :]


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh project root: house settings and templates, no issues yet."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(settings_toml(), encoding="utf-8")
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "issues").mkdir()
    return root


def make_issue(root: Path, issue_id: str = "2026-Q4", items: dict[str, str] | None = None) -> Path:
    """Write a valid issue folder; ``items`` maps file names to their text."""
    folder = root / "issues" / issue_id
    (folder / "items").mkdir(parents=True)
    (folder / "issue.toml").write_text(
        'number = 7\ntitle = "Test issue"\ndate = 2026-12-15\n'
        'subject = "The UN-Business Focal Point: test issue"\n'
        'preheader = "News, tools and events for UN private-sector focal points."\n',
        encoding="utf-8",
    )
    (folder / "intro.md").write_text("Dear colleagues, welcome to this issue.\n", encoding="utf-8")
    if items is None:
        sections = [
            s["key"] for s in tomllib.loads(settings_toml())["tool"]["newsletter"]["sections"]
        ]
        items = {
            f"item-{n}.md": ITEM.format(
                title=f"Item number {n}",
                section=sections[n % len(sections)],
                slug=f"item-{n}",
                day=n,
            )
            for n in range(1, 5)
        }
    for name, text in items.items():
        (folder / "items" / name).write_text(text, encoding="utf-8")
    return folder
