"""newsletter.feeds.triage, by property: `inbox`, `accept` and `reject` on any candidate.

A candidate is a file `collect` wrote or an editor dropped into the inbox, so it may
hold anything. Whatever it holds, listing, accepting and rejecting it end cleanly,
and one that fails changes neither contacts.db nor build/ (helpers.unharmed).
"""

from __future__ import annotations

import pytest
from helpers import PROPERTY, examples, unharmed
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from newsletter.issue.items import item_schema

VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "news",
            "gossip",
            "2026-10-05",
            "2026-10-05 14:00",
            "https://example.org/a",
            "javascript:alert(1)",
            "[a, b",
            "{x: 1}",
            "!!int abc",
            "&a x",
            "*a",
            "1" * 5000,
            "-5",
            "~",
        ]
    ),
)
KEYS = st.one_of(st.sampled_from(item_schema(("news",)).names), st.text(max_size=6))
FRONT = st.lists(st.builds(lambda k, v: f"{k}: {v}", KEYS, VALUES), max_size=6)
CANDIDATES = st.one_of(
    st.builds(
        lambda lines, body: ("---\n" + "\n".join(lines) + "\n---\n" + body).encode(
            "utf-8", "surrogatepass"
        ),
        FRONT,
        st.text(max_size=60),
    ),
    st.binary(max_size=120),
)


@settings(max_examples=examples(100), **PROPERTY)
@given(data=CANDIDATES, verb=st.sampled_from(["accept", "reject"]))
@example(data=b"---\ntitle: x\nsection: news\nlink: https://e.org/x\n---\nx\n", verb="accept")
def test_any_candidate_is_listed_and_accepted_or_rejected_cleanly(outbox_ready, data, verb):
    inbox = outbox_ready / "issues/2026-Q4/inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "generated.md").write_bytes(data)
    listed = unharmed(outbox_ready, "inbox", "2026-Q4")
    assert listed.exit_code in (0, 1), listed.output
    result = unharmed(outbox_ready, verb, "2026-Q4", "generated")
    assert result.exit_code in (0, 1), result.output
    if result.exit_code:
        assert (inbox / "generated.md").read_bytes() == data  # still there to fix or reject
    (inbox / "generated.md").unlink(missing_ok=True)
    (outbox_ready / "issues/2026-Q4/items/generated.md").unlink(missing_ok=True)
    event(f"{verb} exit {result.exit_code}")


@pytest.mark.parametrize("verb", ["accept", "reject"])
@pytest.mark.parametrize(
    "field",
    [
        "date: 2026-02-30",
        "date: 2026-13-45",
        "title: " + "1" * 5000,
        "title: !!int ;",
        "title: !!int",
    ],
    ids=["day", "month", "digits", "tag", "empty-tag"],
)
def test_a_candidate_yaml_cannot_read_can_be_rejected(outbox_ready, verb, field):
    inbox = outbox_ready / "issues/2026-Q4/inbox"
    inbox.mkdir()
    (inbox / "bad.md").write_text(f"---\nsection: news\n{field}\nlink: https://e.org/x\n---\nx\n")
    result = unharmed(outbox_ready, verb, "2026-Q4", "bad")
    assert result.exit_code in (0, 1), result.output
