"""newsletter.issue.edit, by property: whatever a form holds, save_item either writes a
file that load_item reads back to the same form, or refuses with each error beside a
field of the form and writes nothing.

A form post is user input: any text in any box, typed or forged.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers import PROPERTY, examples, make_issue, new_project
from hypothesis import event, given, settings
from hypothesis import strategies as st

from newsletter.config import load_settings
from newsletter.issue import Refused, form_fields, item_form, load_item, save_item

SECTIONS = ("news", "tools", "events", "spotlight")
NAMES = {f.name for f in form_fields(SECTIONS)} | {"summary"}


def box(*good: str) -> st.SearchStrategy[str]:
    """A text box left empty or filled in as the field asks."""
    return st.sampled_from(("", *good))


# What people type: any letters, no control characters (a slip below brings those).
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
DAYS = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)).map(dt.date.isoformat)
CLEAN = st.fixed_dictionaries(
    {
        "title": st.one_of(TEXT, st.just("key: value\n---"), st.just("<script>x</script>")),
        "section": st.sampled_from(SECTIONS),
        "link": box("https://example.org/a"),
        "image": st.just(""),
        "image_alt": TEXT,
        "date": st.one_of(DAYS, box("2026-10-05T10:00")),
        "embargo": st.one_of(DAYS, st.just("")),
        "starts": box("2026-11-03", "2026-11-03 14:00"),
        "ends": st.just(""),
        "timezone": st.just(""),
        "location": st.just(""),
        "location_url": st.just(""),
        "weight": st.one_of(st.integers(-1000, 1000).map(str), st.just("")),
        "tags": st.lists(TEXT, max_size=4).map(", ".join),
        "source": TEXT,
        "contributor": TEXT,
    }
)
# One box, or none, filled in with anything at all: a slip, or a forged post.
SLIP = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from(sorted(NAMES - {"summary"})),
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(
                [
                    "2026-02-30",
                    "javascript:alert(1)",
                    "https://example.org/a.png",
                    "Europe/Geneva",
                    "Mars/Olympus",
                    "2026-11-03T14:00+02:00",
                    "heavy",
                    "a: b\n---\nc: d",
                ]
            ),
        ),
    ),
)
FORMS = st.builds(lambda clean, slip: {**clean, **dict([slip] if slip else [])}, CLEAN, SLIP)
SUMMARIES = st.one_of(st.text(max_size=300), st.just("<script>x</script>\n---\ntitle: forged"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = new_project(tmp_path_factory.mktemp("edit") / "project")
    return make_issue(root, items={})


@settings(max_examples=examples(200), **PROPERTY)
@given(form=FORMS, summary=SUMMARIES)
def test_a_form_is_saved_whole_and_read_back_or_refused_beside_its_fields(
    folder: Path, form: dict[str, str], summary: str
):
    settings_ = load_settings(folder.parents[1])
    before = sorted(p.name for p in (folder / "items").iterdir())
    try:
        saved = save_item(settings_, folder, form, summary)
    except Refused as refused:
        event("refused: " + ", ".join(sorted({str(p.key) for p in refused.problems})))
        assert refused.problems
        assert all(p.key in NAMES for p in refused.problems), refused.problems
        assert sorted(p.name for p in (folder / "items").iterdir()) == before
        return
    event("saved")
    path = folder / "items" / saved.name
    try:
        item, problems = load_item(path, "x", settings_.section_keys)
        assert item is not None, problems
        draft = item_form(settings_, folder, saved.name)
        # Text boxes keep what was typed, with runs of whitespace made one space.
        for name in ("title", "image_alt", "location", "source", "contributor"):
            assert draft.values[name] == " ".join(form[name].split()), name
        assert draft.values["section"] == form["section"]
        # Saving what the form reads back changes nothing: the file is a fixed point.
        again = save_item(settings_, folder, draft.values, draft.summary, saved.name, draft.digest)
        assert again.digest == draft.digest
    finally:
        path.unlink()
