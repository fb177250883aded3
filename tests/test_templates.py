"""The HTML pages share one frame: head, stylesheet and footer are written once."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

PAGES = sorted(p.name for p in (REPO / "templates").glob("*.html.j2") if not p.name.startswith("_"))


def test_the_pages():
    assert PAGES == [
        "archive_directory.html.j2",
        "archive_index.html.j2",
        "preview.html.j2",
        "unsubscribe.html.j2",
        "web.html.j2",
    ]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_extends_the_one_frame(name):
    text = (REPO / "templates" / name).read_text(encoding="utf-8")
    code = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # comments may name anything
    assert code.lstrip().startswith('{% extends "_site.html.j2" %}')
    for tag in ("<!doctype", "<html", "<head", "<meta charset", "<style", "<footer", "<body"):
        assert tag not in code.lower(), f"{name} repeats {tag}: put it in _site.html.j2"
