"""newsletter.build.browser: the built email in headless Chromium, at phone and desktop widths."""

from __future__ import annotations

import struct

from helpers import cli, make_issue, needs_chromium

from newsletter.build.browser import Browser

pytestmark = needs_chromium

LONG = "https://example.org/" + "an-unbreakable-path-segment-" * 6


def png_size(path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_email_fits_a_phone_and_every_title_is_visible(project):
    items = {
        f"i{n}.md": f"---\ntitle: Visible title {n}\nsection: news\nlink: {LONG}{n}\n"
        f"date: 2026-10-0{n}\n---\nA summary with a long link {LONG}{n} in it.\n"
        for n in range(1, 4)
    }
    items["pic.md"] = (
        "---\ntitle: Item with a picture\nsection: tools\nlink: https://example.org/p\n"
        "image: https://example.org/p.png\nimage_alt: A diagram\n---\nText.\n"
    )
    folder = make_issue(project, items=items)
    # --offline: the picture's host is not ours, and tests talk only to 127.0.0.1.
    result = cli(project, "build", "2026-Q4", "--screenshots", "--offline")
    assert result.exit_code == 0, result.output
    assert "375px: scroll width 375 of 375, 4/4 titles visible, screenshots/email-375.png" in (
        result.output
    )
    assert "800px: scroll width 800 of 800, 4/4 titles visible" in result.output
    shots = folder / "build" / "screenshots"
    assert png_size(shots / "email-375.png")[0] == 375
    assert png_size(shots / "email-800.png")[0] == 800


def test_layout_check_fails_on_a_page_wider_than_the_phone(project):
    folder = make_issue(project)
    path = project / "templates/_intro.mjml.j2"
    path.write_text(
        path.read_text().replace(
            "<h2>Editor's note</h2>", '<h2>Editor\'s note</h2><div style="width:900px">wide</div>'
        )
    )
    result = cli(project, "build", "2026-Q4", "--screenshots")
    assert result.exit_code == 1
    assert "layout check failed: " in result.output
    assert "px: the page scrolls sideways (" in result.output
    assert (folder / "build/screenshots/email-375.png").exists()


def test_mobile_layout_stacks_columns(project):
    folder = make_issue(
        project,
        items={
            "pic.md": (
                "---\ntitle: Picture item\nsection: tools\nlink: https://example.org/p\n"
                "image: https://example.org/p.png\nimage_alt: A diagram\n---\nText.\n"
            )
        },
    )
    assert cli(project, "build", "2026-Q4", "--offline").exit_code == 0
    url = (folder / "build" / "email.html").as_uri()
    js = (
        "[...document.querySelectorAll('.nl-item-image')].map(e => e.getBoundingClientRect().width)"
    )
    with Browser() as browser:
        browser.open(url, 375, mobile=True)
        phone = browser.evaluate(js)
        browser.open(url, 800)
        desktop = browser.evaluate(js)
    assert phone and phone[0] >= 370  # image column takes the full width below 480px
    assert desktop and desktop[0] < 300  # and a third of 600px on a desktop


def test_readable_at_320px(project):
    from newsletter.build.browser import check_layout
    from newsletter.build.pipeline import build
    from newsletter.config import load_settings

    result = build(load_settings(project), make_issue(project))
    lines = check_layout(result.out_dir / "email.html", result.issue, widths=(320,))
    assert lines == [
        "320px: scroll width 320 of 320, 4/4 titles visible, screenshots/email-320.png"
    ]


def test_wide_pictures_and_code_do_not_widen_the_email(project):
    from newsletter.build.browser import check_layout
    from newsletter.build.pipeline import build
    from newsletter.config import load_settings

    body = (
        '<img src="https://example.org/wide.png" alt="A wide chart" width="1400" height="300">\n\n'
        "    " + "x" * 300 + "\n"
    )
    items = {
        "wide.md": f"---\ntitle: Wide content\nsection: news\nlink: https://example.org/w\n---\n{body}"
    }
    result = build(load_settings(project), make_issue(project, items=items))
    lines = check_layout(result.out_dir / "email.html", result.issue, widths=(375,))
    assert lines[0].startswith("375px: scroll width 375 of 375, 1/1 titles visible")
