"""newsletter.send.senders.ses, by property: any -o KEY=VALUE for ses ends `send` cleanly.

A dry run builds the sender (every option checked, the AWS profile and region
looked up) but opens nothing, so it runs without a server: whatever the options
hold, `send` works, or names the wrong -o (exit 2) or what else is wrong (exit
1), without a traceback, and changes neither contacts.db nor build/.
"""

from __future__ import annotations

from helpers import AWS_ENV, PROPERTY, examples, unharmed
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from newsletter.send.senders.ses import OPTIONS

VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1e400",
            "nan",
            "inf",
            "eu-west-1",
            "us-gov-west-1",
            "EU-WEST-1",
            "default",
            "nobody",
            "https://email.eu-west-1.amazonaws.com",
            "http://127.0.0.1:1",
            "http://example.org",
            "https://user:secret@example.org",
            "https://",
            "ftp://example.org",
            "newsletter-events",
            "a\r\nb",
            "x" * 65,
        ]
    ),
)
KEYS = st.one_of(st.sampled_from([*OPTIONS.names, "aws_secret_access_key"]), st.text(max_size=8))
PAIRS = st.one_of(st.builds(lambda k, v: f"{k}={v}", KEYS, VALUES), st.text(max_size=20))


@settings(max_examples=examples(100), **PROPERTY)
@given(pairs=st.lists(PAIRS, max_size=4))
@example(pairs=["region=eu-west-1", "configuration_set=newsletter"])
@example(pairs=["endpoint_url=https://user:secret@example.org"])
@example(pairs=["profile=nobody"])
@example(pairs=["max_send_rate=0"])
@example(pairs=["region="])  # an empty value is the default: the environment's region
def test_a_dry_run_with_any_ses_options_ends_cleanly(ses_ready, pairs):
    args = ["send", "2026-Q4", "--dry-run", "--sender", "ses"]
    for pair in pairs:
        args += ["-o", pair]
    result = unharmed(ses_ready, *args)
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:
        assert result.output.splitlines()[-1].startswith("Error: -o "), result.output
    assert AWS_ENV["AWS_SECRET_ACCESS_KEY"] not in result.output  # the chain's, never shown
    event(f"exit {result.exit_code}")
