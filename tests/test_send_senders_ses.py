"""newsletter.send.senders.ses: Amazon SES's v2 API, against moto's server and a stand-in.

moto (its stand-alone server on 127.0.0.1) keeps every raw message it was given,
so the sample issue is sent through the real command line and read back over
HTTP. What moto does not simulate (the account's rate, throttling, a paused
account, an answer that never comes) is scripted on a small stand-in server.
"""

from __future__ import annotations

import re

from helpers import (
    SECRET,
    cli,
    ledger_rows,
    outbox,
    parse,
    ses_args,
)

from newsletter.tokens import read_token

PEOPLE = [f"person{n}@example.org" for n in range(6)]


def _same_message(data: bytes) -> bytes:
    """The bytes with what differs between two runs of one issue made constant: the
    Date, the Message-ID (one per ledger row, so per sender) and the MIME boundary."""
    data = re.sub(rb"(?m)^Date: .*\r\n", b"Date: -\r\n", data)
    data = re.sub(rb"(?m)^Message-ID: .*\r\n", b"Message-ID: -\r\n", data)
    return re.sub(rb"=_nl_[0-9a-f]{24}", b"=_nl_-", data)


def test_the_issue_arrives_through_ses_byte_for_byte(ses_ready, moto):
    moto.verify("example.org")
    rehearsal = cli(ses_ready, "send", "2026-Q4", "--yes")  # the outbox: the reference
    assert rehearsal.exit_code == 0, rehearsal.output
    result = cli(ses_ready, "send", "2026-Q4", "--yes", *ses_args(moto.url))
    assert result.exit_code == 0, result.output
    assert "Sent 6 via ses" in result.output
    sent = moto.sent()
    assert sorted(parse(data)["To"].addresses[0].addr_spec for _, data in sent) == PEOPLE
    assert {source for source, _ in sent} == {"focalpoint@example.org"}
    written = {f.name.removesuffix(".eml"): f.read_bytes() for f in outbox(ses_ready)}
    ledger = {r["email"]: r for r in ledger_rows(ses_ready) if r["sender"] == "ses"}
    for _, data in sent:
        msg = parse(data)
        to = msg["To"].addresses[0].addr_spec
        # The very bytes the outbox wrote, but for the run's own Date and Message-ID.
        assert _same_message(data) == _same_message(written[to])
        assert msg["Message-ID"] == ledger[to]["message_id"]
        https, mailto = (u.strip(" <>") for u in msg["List-Unsubscribe"].split(","))
        assert read_token(SECRET.encode(), https.rsplit("/", 1)[1])[1] == "2026-Q4"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {r["status"] for r in ledger.values()} == {"sent"}
    assert all(re.fullmatch(r"SES message \S+", r["reply"]) for r in ledger.values())
    again = cli(ses_ready, "send", "2026-Q4", "--yes", *ses_args(moto.url))
    assert again.exit_code == 0 and "Nothing to send" in again.output, again.output
    assert len(moto.sent()) == 6


def test_an_unverified_from_address_stops_the_run_with_one_line(ses_ready, moto):
    moto.verify("other.example")
    result = cli(ses_ready, "send", "2026-Q4", "--yes", *ses_args(moto.url))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: ses (SES eu-west-1): focalpoint@example.org is not a verified identity of this "
        "account. Verify the address or its domain in SES (or check from_address, return_path "
        "and 'region'), then run the same command to continue."
    )
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.output
    assert moto.sent() == []
    assert ledger_rows(ses_ready) == []
