"""templates/_palette.j2: the house palette keeps text readable (WCAG AA) in light and dark mode."""

from __future__ import annotations

import re

import pytest
from helpers import REPO

from newsletter.build.render import environment
from newsletter.config import load_settings


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


LIGHT = [
    ("text", "surface"),
    ("muted", "surface"),
    ("accent", "surface"),
    ("band_text", "band"),
    ("text", "page"),  # the preview's captions and notes sit on the page
    ("muted", "page"),
    ("accent", "page"),
    ("surface", "accent"),  # the unsubscribe button's label
    ("error_text", "error_surface"),  # the preview's build-failed box
]
PAIRS = LIGHT + [(f"dark_{fg}", f"dark_{bg}") for fg, bg in LIGHT]
# Borders only: no text is ever drawn in them.
NOT_TEXT = {"rule", "dark_rule"}


def palette() -> dict[str, str]:
    settings = load_settings(REPO)
    module = environment(settings, REPO / "issues" / "none").get_template("_palette.j2").module
    return {k: v for k, v in vars(module).items() if isinstance(v, str) and v.startswith("#")}


@pytest.mark.parametrize("fg,bg", PAIRS)
def test_palette_contrast(fg, bg):
    colours = palette()
    ratio = contrast(colours[fg], colours[bg])
    assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}:1"


def test_every_palette_colour_is_checked():
    """A colour added to the palette must join a checked pair (or be declared a border)."""
    colours = palette()
    paired = {name for pair in PAIRS for name in pair}
    assert set(colours) == paired | NOT_TEXT


# A hex colour (#abc, #aabbcc, #aabbccdd) or a CSS colour function. "#directory",
# "#{{ key }}" and character references such as "&#8203;" are not colours.
COLOUR = re.compile(
    r"(?<![\w&])#(?:[0-9a-f]{8}|[0-9a-f]{6}|[0-9a-f]{3,4})(?![\w-])|\b(?:rgba?|hsla?)\(", re.I
)


def test_colour_pattern():
    found = COLOUR.findall(
        "a { color: #fff; background: #33404D; border-color: rgba(0,0,0,.5) } "
        '<a href="#directory">, <a href="#{{ key }}">, &#8203;, #decade-plan, #abcde'
    )
    assert found == ["#fff", "#33404D", "rgba("]


def test_no_colour_outside_the_palette():
    """Every colour comes from _palette.j2, so the contrast test above sees it."""
    found = [
        f"templates/{path.name}:{n}: {match.group(0)}"
        for path in sorted((REPO / "templates").iterdir())
        if path.name != "_palette.j2"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in COLOUR.finditer(line)
    ]
    assert found == []


def test_contrast_formula():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#ffffff") < 4.5
