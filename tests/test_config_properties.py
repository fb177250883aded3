"""newsletter.config, by property: any [tool.newsletter] ends `check` and `send --dry-run`
cleanly.

The house settings are edited by hand. Whatever pyproject.toml holds, a command that
reads it either works or names the problem in one line (exit 1), without a traceback,
and changes neither contacts.db nor build/ (helpers.unharmed).
"""

from __future__ import annotations

from helpers import PROPERTY, examples, settings_toml, unharmed
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from newsletter.config import HOUSE, SEND, SOURCE

BASE = settings_toml()
# TOML values of every type, right and wrong for each key.
VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats().map(lambda f: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(f), repr(f))),
    st.text(max_size=40).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(
        [
            "true",
            "0",
            "64",
            "65",
            "100000",
            "1e400",
            "9" * 5000,
            "2026-02-30",
            "10:00:00",
            '"a\\r\\nBcc: x@example.org"',
            '"x@example.org"',
            '"https://example.org"',
            '"outbox"',
            '"smtp"',
            "[]",
            "{}",
            '{ selector = "nl", key_env = "K" }',
            '[{ key = "news", title = "News" }]',
            '[{ organisation = "UNDP", path = "/etc/passwd" }]',
            "[" * 50 + "]" * 50,
            '"\\u0000"',
            "",
        ]
    ),
)


def _line(keys: list[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda k, v: f"{k} = {v}", st.one_of(st.sampled_from(keys), st.text(max_size=6)), VALUES
    )


TOP = _line(list(HOUSE.names))
SEND_LINES = _line([*SEND.names, "dkim"])
SENDER_LINES = _line(["host", "port", "security", "timeout", "folder", "plugin", "helo"])
SOURCE_LINES = _line(list(SOURCE.names))


@st.composite
def pyprojects(draw) -> str:
    """The house settings with a key changed, added or dropped, and subtables appended."""
    lines = BASE.splitlines()
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(1, len(lines) - 1))
        edit = draw(st.sampled_from(["replace", "insert", "drop"]))
        if edit == "drop":
            del lines[at]
        else:
            lines[at : at + (edit == "replace")] = [draw(TOP)]
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text += "[tool.newsletter.send]\n" + "\n".join(draw(st.lists(SEND_LINES, max_size=4)))
    if draw(st.booleans()):
        name = draw(st.sampled_from(["outbox", "smtp", "relay", "x y"]))
        body = "\n".join(draw(st.lists(SENDER_LINES, max_size=3)))
        text += f'\n[tool.newsletter.senders."{name}"]\n{body}'
    if draw(st.integers(0, 9)) == 0:  # now and then, break the file around the table
        text += "\n" + draw(st.sampled_from(["[tool]", 'tool = "oops"', "[[tool.x]]", "\x00"]))
    return text


@settings(max_examples=examples(200), **PROPERTY)
@given(text=st.one_of(pyprojects(), st.text(max_size=100)))
@example(text=BASE + "[tool.newsletter.send]\nconcurrency = 100000\n")
@example(text=BASE + "[tool.newsletter.send]\nrate = 1e400\n")
@example(text=BASE.replace("name = ", "name = 1 #", 1))
def test_check_and_a_dry_run_on_any_settings_end_cleanly(outbox_ready, text):
    (outbox_ready / "pyproject.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    check = unharmed(outbox_ready, "check", "2026-Q4")
    assert check.exit_code in (0, 1), check.output
    dry = unharmed(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert dry.exit_code in (0, 1), dry.output
    event(f"check {check.exit_code}, send --dry-run {dry.exit_code}")


def test_check_on_deeply_nested_settings_ends_cleanly(outbox_ready):
    (outbox_ready / "pyproject.toml").write_text(BASE + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    result = unharmed(outbox_ready, "check", "2026-Q4")
    assert result.exit_code == 1, result.output
