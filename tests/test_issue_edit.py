"""newsletter.issue.edit: an item file as the desk's form, and the form saved as the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers import ITEM, make_issue, read_only

from newsletter.config import load_settings
from newsletter.errors import NewsletterError
from newsletter.issue import (
    Changed,
    NoItem,
    Refused,
    form_fields,
    item_form,
    load_item,
    save_item,
)
from newsletter.issue.edit import KEPT
from newsletter.issue.items import TOO_LARGE, item_schema

FIRST = ITEM.format(title="Item number 1", section="tools", slug="item-1", day=1)
FORM = {"title": "Supplier code", "section": "tools", "date": "2026-11-03"}


@pytest.fixture
def folder(project: Path) -> Path:
    return make_issue(project, items={"item-1.md": FIRST})


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "items").iterdir())}


def test_the_form_is_the_item_schema_without_what_collect_records(project: Path):
    sections = load_settings(project).section_keys
    fields = form_fields(sections)
    schema = [f.name for f in item_schema(sections).fields if f.name not in KEPT]
    assert [f.name for f in fields] == schema
    assert [f.name for f in fields if f.required] == ["title", "section"]
    assert [f.options for f in fields if f.options] == [sections]
    hints = {f.name: f.hint for f in fields}
    assert (hints["title"], hints["section"], hints["date"]) == ("", "", "Write it as YYYY-MM-DD.")


def test_an_item_reads_into_its_form_with_the_digest_of_its_bytes(project: Path, folder: Path):
    draft = item_form(load_settings(project), folder, "item-1.md")
    assert {k: v for k, v in draft.values.items() if v} == {
        "title": "Item number 1",
        "section": "tools",
        "link": "https://example.org/item-1",
        "date": "2026-10-01",
        "source": "UN Global Compact",
    }
    assert draft.summary == "A short summary of Item number 1."
    assert draft.digest == hashlib.sha256(FIRST.encode()).hexdigest()
    assert (draft.problems, draft.readable) == ((), True)


def test_saving_a_form_unchanged_writes_the_same_bytes(project: Path, folder: Path):
    settings = load_settings(project)
    draft = item_form(settings, folder, "item-1.md")
    saved = save_item(settings, folder, draft.values, draft.summary, "item-1.md", draft.digest)
    assert (saved.name, saved.digest) == ("item-1.md", draft.digest)
    assert (folder / "items" / "item-1.md").read_text(encoding="utf-8") == FIRST


def test_a_new_item_is_the_file_a_contributor_would_write(project: Path, folder: Path):
    form = {
        **FORM,
        "title": "  Supplier   code ",
        "section": "events",
        "starts": "2026-11-03 14:00",
        "timezone": "Europe/Geneva",
        "location": "Geneva",
        "tags": "procurement, , training",
        "weight": "0",
        "image_alt": "",
    }
    saved = save_item(load_settings(project), folder, form, "A *short*\r\n\r\nsummary.\r\n")
    assert saved.name == "supplier-code.md"
    assert (folder / "items" / saved.name).read_text(encoding="utf-8") == (
        "---\ntitle: Supplier code\nsection: events\ndate: 2026-11-03\n"
        "starts: 2026-11-03 14:00\ntimezone: Europe/Geneva\nlocation: Geneva\n"
        "tags: [procurement, training]\n---\nA *short*\n\nsummary.\n"
    )
    assert [str(w) for w in saved.warnings] == [
        "issues/2026-Q4/items/supplier-code.md:1: warning: no link. "
        "Add 'link: https://...' so readers can find out more."
    ]
    item, problems = load_item(
        folder / "items" / saved.name, "x", load_settings(project).section_keys
    )
    assert item is not None and item.tags == ("procurement", "training")


def test_a_new_item_never_takes_the_name_of_an_item_or_a_candidate(project: Path, folder: Path):
    (folder / "inbox").mkdir()
    (folder / "inbox" / "supplier-code.md").write_text("a candidate", encoding="utf-8")
    settings = load_settings(project)
    names = [save_item(settings, folder, FORM, "").name for _ in range(2)]
    assert names == ["supplier-code-2.md", "supplier-code-3.md"]
    assert (folder / "inbox" / "supplier-code.md").read_text(encoding="utf-8") == "a candidate"


@pytest.mark.parametrize(
    ("form", "summary", "found"),
    [
        (
            {**FORM, "date": "2026-02-30"},
            "",
            [("date", 4, "date '2026-02-30' is not a date. Write it as YYYY-MM-DD.")],
        ),
        (
            {**FORM, "title": ""},
            "",
            [("title", 1, "'title' is missing or empty. Add 'title: ...' to the front matter.")],
        ),
        (
            {**FORM, "section": "gossip"},
            "",
            [
                (
                    "section",
                    3,
                    "unknown section 'gossip'. Use one of: news, tools, events, spotlight.",
                )
            ],
        ),
        (
            {**FORM, "weight": "heavy"},
            "",
            [
                (
                    "weight",
                    5,
                    "weight 'heavy' is not a whole number. Write a whole number, such as 10 or -5.",
                )
            ],
        ),
        (
            {**FORM, "image": "https://example.org/a.png"},
            "",
            [("image", 4, "image has no image_alt. Describe the picture in 'image_alt: ...'.")],
        ),
        (
            {**FORM, "link": "javascript:alert(1)"},
            "",
            [("link", 4, "link 'javascript:alert(1)' is not an http(s) URL. Use https://...")],
        ),
        (
            {**FORM, "timezone": "Europe/Geneva"},
            "",
            [
                (
                    "timezone",
                    5,
                    "'timezone' is for events and needs 'starts'. "
                    "Add 'starts: YYYY-MM-DD HH:MM' for the event, or remove it.",
                )
            ],
        ),
        ({**FORM}, "x" * (1024 * 1024), [("summary", None, TOO_LARGE)]),
        (
            {**FORM, "date": "2026-13-01\n---\ntitle: forged"},  # stays in its own field
            "",
            [
                (
                    "date",
                    4,
                    "date '2026-13-01 --- title: forged' is not a date. Write it as YYYY-MM-DD.",
                )
            ],
        ),
    ],
    ids=["impossible-date", "no-title", "section", "weight", "alt", "link", "zone", "1mb", "yaml"],
)
def test_a_form_check_refuses_is_written_nowhere(project, folder, form, summary, found):
    before = files(folder)
    with pytest.raises(Refused) as refused:
        save_item(load_settings(project), folder, form, summary, "item-1.md", _digest(folder))
    assert [(p.key, p.line, p.message) for p in refused.value.problems] == found
    assert refused.value.format_message() == (
        "issues/2026-Q4/items/item-1.md: 1 error; nothing was saved. "
        "Fix the fields marked and save again."
    )
    assert files(folder) == before


def _digest(folder: Path) -> str:
    return hashlib.sha256((folder / "items" / "item-1.md").read_bytes()).hexdigest()


def test_a_file_changed_since_the_form_was_opened_is_not_written_over(project, folder):
    settings = load_settings(project)
    draft = item_form(settings, folder, "item-1.md")
    (folder / "items" / "item-1.md").write_text(FIRST + "Another editor's line.\n", "utf-8")
    before = files(folder)
    with pytest.raises(Changed) as changed:
        save_item(settings, folder, draft.values, "Mine.", "item-1.md", draft.digest)
    assert changed.value.format_message() == (
        "issues/2026-Q4/items/item-1.md: the file changed on disk after this form was opened; "
        "nothing was saved. Reload the page to see the file as it is now, then edit again."
    )
    assert files(folder) == before


@pytest.mark.parametrize("name", ["nope.md", "../issue.toml", ".hidden.md", "item-1", "a/b.md"])
def test_only_a_file_of_items_can_be_opened_or_saved(project, folder, name):
    settings = load_settings(project)
    with pytest.raises(NoItem):
        item_form(settings, folder, name)
    with pytest.raises(NoItem):
        save_item(settings, folder, FORM, "", name, "")
    assert list(files(folder)) == ["item-1.md"]


def test_what_the_form_does_not_show_is_kept_as_the_file_had_it(project, folder):
    kept = (
        "---\ntitle: From a feed\nsection: news\nlink: https://example.org/f\n"
        "collected_at: '2026-11-01T08:00:00Z'\nfeed: https://example.org/feed.xml\n"
        "guid: tag:example.org,2026:1\nsources:\n- name: UN News\n  link: https://example.org/f\n"
        "undated: true\n---\nSummary.\n"
    )
    (folder / "items" / "feed.md").write_text(kept, encoding="utf-8")
    settings = load_settings(project)
    draft = item_form(settings, folder, "feed.md")
    values = {**draft.values, "title": "From a feed, edited"}
    save_item(settings, folder, values, draft.summary, "feed.md", draft.digest)
    assert (folder / "items" / "feed.md").read_text(encoding="utf-8") == kept.replace(
        "From a feed", "From a feed, edited"
    )


def test_a_hostile_title_and_summary_stay_text(project, folder):
    settings = load_settings(project)
    form = {**FORM, "title": "key: value\n---\n<script>alert(1)</script>"}
    saved = save_item(settings, folder, form, "<script>alert(1)</script>\n---\nlink: evil")
    text = (folder / "items" / saved.name).read_text(encoding="utf-8")
    assert text.startswith(
        "---\ntitle: 'key: value --- <script>alert(1)</script>'\nsection: tools\n"
    )
    item, _ = load_item(folder / "items" / saved.name, "x", settings.section_keys)
    assert item is not None
    assert (item.title, item.link) == ("key: value --- <script>alert(1)</script>", None)
    assert "<script" not in item.summary_html


def test_a_file_that_is_not_an_item_is_shown_but_not_as_a_form(project, folder):
    (folder / "items" / "broken.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    draft = item_form(load_settings(project), folder, "broken.md")
    assert (draft.readable, draft.values) == (False, {})
    assert [p.line for p in draft.problems] == [3]


def test_a_write_that_fails_is_one_line_and_leaves_the_file_as_it_was(project, folder):
    settings = load_settings(project)
    draft = item_form(settings, folder, "item-1.md")
    with read_only(folder / "items"), pytest.raises(NewsletterError) as failed:
        save_item(settings, folder, draft.values, "New text.", "item-1.md", draft.digest)
    assert failed.value.format_message().startswith(
        "issues/2026-Q4/items/item-1.md: cannot write it ("
    )
    assert failed.value.format_message().endswith(
        "Check that you may write there; nothing there was changed."
    )
    assert files(folder) == {"item-1.md": FIRST.encode()}


def test_a_field_the_schema_does_not_know_is_kept_and_named_until_fixed_in_the_file(
    project, folder
):
    text = FIRST.replace("source:", "odd key: [a, b]\nsource:")
    (folder / "items" / "item-1.md").write_text(text, encoding="utf-8")
    settings = load_settings(project)
    draft = item_form(settings, folder, "item-1.md")
    with pytest.raises(Refused) as refused:
        save_item(settings, folder, draft.values, draft.summary, "item-1.md", draft.digest)
    assert [(p.key, p.line, p.message) for p in refused.value.problems] == [
        (
            "odd key",
            7,  # kept after the schema's fields
            "unknown field 'odd key'. Use one of: " + ", ".join(item_schema(()).names) + ".",
        )
    ]
    assert (folder / "items" / "item-1.md").read_text(encoding="utf-8") == text
