"""The house palette keeps text readable (WCAG AA, 4.5:1) in light and dark mode."""

from __future__ import annotations

import pytest
from conftest import REPO

from newsletter.build.render import environment
from newsletter.config import load_settings


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


PAIRS = [
    ("text", "surface"),
    ("muted", "surface"),
    ("accent", "surface"),
    ("band_text", "band"),
    ("muted", "page"),
    ("accent", "page"),
    ("dark_text", "dark_surface"),
    ("dark_muted", "dark_surface"),
    ("dark_accent", "dark_surface"),
    ("dark_band_text", "dark_band"),
    ("dark_muted", "dark_page"),
    ("dark_accent", "dark_page"),
]


@pytest.mark.parametrize("fg,bg", PAIRS)
def test_palette_contrast(fg, bg):
    settings = load_settings(REPO)
    palette = environment(settings, REPO / "issues" / "none").get_template("_palette.j2").module
    ratio = contrast(getattr(palette, fg), getattr(palette, bg))
    assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}:1"


def test_contrast_formula():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#ffffff") < 4.5
