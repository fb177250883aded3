"""newsletter.send.senders, by property: any -o KEY=VALUE ends `send` cleanly.

Sender options are typed on the command line. Whatever they hold, `send` either
works or says which -o is wrong (a usage error, exit 2) or what else is (exit 1),
without a traceback, and a failed send changes neither contacts.db nor build/
(helpers.unharmed).
"""

from __future__ import annotations

import pytest
from helpers import PROPERTY, SECRET, examples, unharmed
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from newsletter.send.senders.smtp_connect import OPTIONS

VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "25",
            "65536",
            "-1",
            "1e400",
            "nan",
            "9" * 5000,
            "true",
            "maybe",
            "none",
            "tls",
            "starttls",
            "127.0.0.1",
            "[::1]",
            "a b",
            "a\r\nRCPT TO:<x@example.org>",
            "/etc/passwd",
            "/no/such/file.pem",
            "PATH",
        ]
    ),
)
KEYS = st.one_of(st.sampled_from([*OPTIONS.names, "folder", "concurrency"]), st.text(max_size=8))
PAIRS = st.one_of(st.builds(lambda k, v: f"{k}={v}", KEYS, VALUES), st.text(max_size=20))


@settings(max_examples=examples(200), **PROPERTY)
@given(pairs=st.lists(PAIRS, max_size=4))
@example(pairs=["concurrency=100000"])
@example(pairs=["port=70000"])
@example(pairs=["=x"])
@example(pairs=["helo=a\nb", "timeout=inf"])
@example(pairs=["security="])  # an empty value is the default, not a KeyError
def test_a_dry_run_with_any_smtp_options_ends_cleanly(outbox_ready, monkeypatch, pairs):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    args = ["send", "2026-Q4", "--dry-run", "--sender", "smtp", "-o", "host=127.0.0.1"]
    for pair in pairs:
        args += ["-o", pair]
    result = unharmed(outbox_ready, *args)
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        assert result.output.splitlines()[-1].startswith("Error: -o "), result.output
    event(f"exit {result.exit_code}")


# Where the outbox may be asked to write: only places under the test's own folder. The
# tests may run as root, and a generated absolute path would be made anywhere (a deep run
# once shrank "/etc/passwd" into a hundred new folders), so the other options drawn below
# never include "folder".
FOLDERS = st.sampled_from(
    [
        "",
        "out",
        "a/b/c",
        "~",
        ".",
        "items",
        "x\x00y",
        "../../templates",
    ]
)


NOT_FOLDER = PAIRS.filter(lambda pair: pair.partition("=")[0].strip() != "folder")


@settings(max_examples=examples(60), **PROPERTY)
@given(folder=FOLDERS, pairs=st.lists(NOT_FOLDER, max_size=2))
@example(folder="out", pairs=[])
def test_a_test_send_through_the_outbox_with_any_folder_ends_cleanly(
    outbox_ready, monkeypatch, folder, pairs
):
    monkeypatch.setenv("HOME", str(outbox_ready / "home"))
    args = ["send", "2026-Q4", "--to", "me@example.org", "-o", f"folder={folder}"]
    for pair in pairs:
        args += ["-o", pair]
    result = unharmed(outbox_ready, *args)
    assert result.exit_code in (0, 1, 2), result.output
    event(f"exit {result.exit_code}")


# Found by the property above (a traceback then): such folders are refused in one line.
@pytest.mark.parametrize(
    "folder",
    [
        "/dev/null",
        "../../contacts.db",
        "../../pyproject.toml",
        "build/email.html",
        "intro.md",
        "a" * 300,
    ],
)
def test_an_outbox_folder_that_is_a_file_is_refused(outbox_ready, folder):
    result = unharmed(
        outbox_ready, "send", "2026-Q4", "--to", "me@example.org", "-o", f"folder={folder}"
    )
    assert result.exit_code in (1, 2), result.output
