"""newsletter.send.senders.ses: Amazon SES's v2 API, against moto's server and a stand-in.

moto (its stand-alone server on 127.0.0.1) keeps every raw message it was given,
so the sample issue is sent through the real command line and read back over
HTTP. What moto does not simulate (the account's rate, throttling, a paused
account, an answer that never comes) is scripted on a small stand-in server.
"""

from __future__ import annotations

import base64
import re
import sys

import pytest
from helpers import (
    AWS_ENV,
    SECRET,
    cli,
    ledger_rows,
    outbox,
    parse,
    rows,
    ses_args,
    ses_env,
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


def _send(root, url, *extra):
    return cli(root, "send", "2026-Q4", "--yes", *ses_args(url, *extra))


def _error(result) -> str:
    """The one error line; there is exactly one, and no traceback."""
    assert result.stderr.count("Error:") == 1 and "Traceback" not in result.output, result.output
    return result.stderr.splitlines()[-1]


def test_the_request_carries_the_configuration_set_and_the_return_path(ses_ready, ses):
    settings = '[tool.newsletter.senders.ses]\nconfiguration_set = "newsletter-events"\n'
    with open(ses_ready / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write(settings)
    with open(ses_ready / "pyproject.toml", "r+", encoding="utf-8") as fh:
        text = fh.read().replace(
            "retry_delay = 0.01\n", 'retry_delay = 0.01\nreturn_path = "bounces@example.org"\n'
        )
        fh.seek(0)
        fh.write(text)
    cli(ses_ready, "build", "2026-Q4")
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 0, result.output
    sends = ses.sends()
    assert sorted(s["Destination"]["ToAddresses"][0] for s in sends) == PEOPLE
    for body in sends:
        assert body["FromEmailAddress"] == "focalpoint@example.org"
        assert body["FeedbackForwardingEmailAddress"] == "bounces@example.org"
        assert body["ConfigurationSetName"] == "newsletter-events"
        assert set(body) == {
            "FromEmailAddress",
            "Destination",
            "Content",
            "FeedbackForwardingEmailAddress",
            "ConfigurationSetName",
        }
        data = base64.b64decode(body["Content"]["Raw"]["Data"])
        assert parse(data)["To"].addresses[0].addr_spec == body["Destination"]["ToAddresses"][0]
    replies = sorted(r["reply"] for r in ledger_rows(ses_ready))
    assert replies == sorted(f"SES message 0100-{n}" for n in range(1, 7))


def test_without_a_return_path_no_feedback_address_is_named(ses_ready, ses):
    assert _send(ses_ready, ses.url).exit_code == 0
    assert all("FeedbackForwardingEmailAddress" not in s for s in ses.sends())
    assert all("ConfigurationSetName" not in s for s in ses.sends())


def test_throttling_and_a_busy_service_are_retried(ses_ready, ses):
    ses.script["person1@example.org"] = [
        (429, "TooManyRequestsException", "Maximum sending rate exceeded."),
        (429, "TooManyRequestsException", "Maximum sending rate exceeded."),
    ]
    ses.script["person2@example.org"] = [(503, "ServiceUnavailable", "Service unavailable")]
    ses.script["person3@example.org"] = [(400, "Throttling", "Rate exceeded")]
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 0, result.output
    assert "Sent 6 via ses" in result.output and "4 retries" in result.output
    attempts = {r["email"]: r["attempts"] for r in ledger_rows(ses_ready)}
    assert attempts == {p: {1: 3, 2: 2, 3: 2}.get(n, 1) for n, p in enumerate(PEOPLE)}
    assert {r["status"] for r in ledger_rows(ses_ready)} == {"sent"}


def test_a_rejected_message_fails_alone_and_retires_no_one(ses_ready, ses):
    # SES says nothing about an address while sending: a rejection is about this message
    # (in the sandbox: a recipient not verified), never "this mailbox does not exist".
    sandbox = (
        "Email address is not verified. The following identities failed the check in "
        "region EU-WEST-1: person4@example.org"
    )
    ses.script["person4@example.org"] = [(400, "MessageRejected", sandbox)]
    ses.script["person5@example.org"] = [(400, "BadRequestException", "Illegal address")]
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 0, result.output
    assert "Sent 4 via ses" in result.output and "2 failed" in result.output
    failed = {
        r["email"]: r["last_error"] for r in ledger_rows(ses_ready) if r["status"] == "failed"
    }
    assert failed == {
        "person4@example.org": f"SES MessageRejected: {sandbox}",
        "person5@example.org": "SES BadRequestException: Illegal address",
    }
    assert len(ses.sends()) == 6  # not retried
    assert {status for _, _, status in rows(ses_ready / "contacts.db")} == {"subscribed"}


@pytest.mark.parametrize(
    "status, code, message, expected",
    [
        (
            400,
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in "
            "region EU-WEST-1: focalpoint@example.org, person0@example.org",
            "ses (SES eu-west-1): focalpoint@example.org is not a verified identity of this "
            "account (SES MessageRejected: Email address is not verified. The following "
            "identities failed the check in region EU-WEST-1: focalpoint@example.org, "
            "person0@example.org). Verify the address or its domain in SES (or check "
            "from_address, return_path and 'region'), then run the same command to continue.",
        ),
        (
            400,
            "SendingPausedException",
            "Sending is paused for this account.",
            "ses (SES eu-west-1): sending is paused for the account or the configuration set "
            "(SES SendingPausedException: Sending is paused for this account.). Fix it in SES, "
            "then run the same command to continue.",
        ),
        (
            400,
            "MailFromDomainNotVerifiedException",
            "MAIL FROM domain mail.example.org is not verified.",
            "ses (SES eu-west-1): the custom MAIL FROM domain is not verified (SES "
            "MailFromDomainNotVerifiedException: MAIL FROM domain mail.example.org is not "
            "verified.). Fix it in SES, then run the same command to continue.",
        ),
        (
            429,
            "TooManyRequestsException",
            "Daily message quota exceeded.",
            "ses (SES eu-west-1): the account's 24-hour sending quota is used up (SES "
            "TooManyRequestsException: Daily message quota exceeded.). Run the same command "
            "to continue once it frees up, or ask AWS for a higher quota.",
        ),
        (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            "ses (SES eu-west-1): no AWS credentials it accepts (SES "
            "UnrecognizedClientException: The security token included in the request is "
            "invalid.). Give them the standard AWS way "
            "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the 'profile' "
            "option, or an instance role), never in the project's files.",
        ),
        (
            403,
            "AccessDeniedException",
            "User is not authorized to perform ses:SendEmail on resource identity/example.org",
            "ses (SES eu-west-1): these AWS credentials may not send (SES AccessDeniedException: "
            "User is not authorized to perform ses:SendEmail on resource identity/example.org). "
            "Allow them ses:SendEmail on the From identity (and the configuration set), then "
            "run the same command to continue.",
        ),
    ],
    ids=["unverified-from", "paused", "mail-from", "daily-quota", "credentials", "denied"],
)
def test_what_would_fail_every_message_stops_the_run_with_one_line(
    ses_ready, ses, status, code, message, expected
):
    ses.script["*"] = [(status, code, message)]
    result = _send(ses_ready, ses.url, "--concurrency", "1")
    assert result.exit_code == 1
    assert _error(result) == f"Error: issues/2026-Q4: send stopped: {expected} (6 still queued)"
    assert "test-only-secret-key" not in result.output
    assert len(ses.sends()) == 1
    statuses = [r["status"] for r in ledger_rows(ses_ready)]
    assert statuses == ["queued"] * 6  # the row in flight goes back: nothing was sent


def test_the_account_rate_paces_the_run(ses_ready, ses):
    ses.account = {
        "SendingEnabled": True,
        "SendQuota": {"Max24HourSend": 200, "MaxSendRate": 4, "SentLast24Hours": 3},
    }
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 0, result.output
    assert "Sending at most 4 messages a second, the ses limit." in result.output
    elapsed = float(re.search(r"in ([\d.]+) s", result.output).group(1))
    assert elapsed >= 5 / 4 - 0.05  # six messages, a quarter of a second apart


def test_max_send_rate_lowers_the_account_rate(ses_ready, ses):
    ses.account = {"SendingEnabled": True, "SendQuota": {"MaxSendRate": 14}}
    result = _send(ses_ready, ses.url, "-o", "max_send_rate=5")
    assert result.exit_code == 0, result.output
    # The option is a cap the sender declares (Limits), so the run starts at it: no
    # notice, and six messages a fifth of a second apart, not the account's 14 a second.
    assert "messages a second, the ses limit" not in result.output
    elapsed = float(re.search(r"in ([\d.]+) s", result.output).group(1))
    assert elapsed >= 5 / 5 - 0.05


@pytest.mark.parametrize(
    "account, expected",
    [
        (
            {"SendingEnabled": False},
            "sending is paused for this account. Resume it in the SES console, then run the "
            "same command to continue.",
        ),
        (
            {"SendQuota": {"Max24HourSend": 200, "MaxSendRate": 1, "SentLast24Hours": 200}},
            "the account's 24-hour sending quota is used up (200 of 200 sent in the last 24 "
            "hours). Run the same command to continue once it frees up, or ask AWS for a "
            "higher quota.",
        ),
    ],
    ids=["paused", "quota-used-up"],
)
def test_an_account_that_cannot_send_stops_before_anything_is_sent(
    ses_ready, ses, account, expected
):
    ses.account = account
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 1
    assert _error(result) == f"Error: ses (SES eu-west-1): {expected}"
    assert ses.sends() == [] and ledger_rows(ses_ready) == []


def test_no_answer_after_the_message_is_uncertain_not_retried(ses_ready, ses):
    ses.script["person2@example.org"] = [("hang", 3)]
    result = _send(ses_ready, ses.url, "-o", "timeout=1")
    assert result.exit_code == 0, result.output
    assert "Sent 5 via ses" in result.output and "1 uncertain" in result.output
    row = next(r for r in ledger_rows(ses_ready) if r["email"] == "person2@example.org")
    assert row["status"] == "uncertain" and row["attempts"] == 1
    assert row["last_error"].startswith("no answer from SES after the message: ")


def test_an_endpoint_nobody_answers_stops_with_one_line(ses_ready):
    from helpers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    result = _send(ses_ready, url)
    assert result.exit_code == 1
    assert _error(result).startswith(
        f"Error: ses (SES eu-west-1): cannot use SES (Could not connect to the endpoint URL: "
        f'"{url}/v2/email/account"). Check'
    )


def test_missing_credentials_stop_with_one_line(ses_ready, ses, monkeypatch, tmp_path):
    ses_env(monkeypatch, tmp_path, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 1
    assert _error(result) == (
        "Error: ses (SES eu-west-1): no AWS credentials it accepts (Unable to locate "
        "credentials). Give them the standard AWS way (AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the 'profile' option, or an instance role), "
        "never in the project's files."
    )


def test_a_profile_from_the_aws_files_is_used(ses_ready, ses, monkeypatch, tmp_path):
    ses_env(monkeypatch, tmp_path, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    (tmp_path / "aws-credentials").write_text(
        "[office]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n"
    )
    result = _send(ses_ready, ses.url, "-o", "profile=office")
    assert result.exit_code == 0, result.output
    unknown = _send(ses_ready, ses.url, "-o", "profile=nobody")
    assert unknown.exit_code == 2
    assert _error(unknown) == (
        "Error: -o profile=nobody (sender ses): 'profile' 'nobody' is not in the AWS config files."
    )


@pytest.mark.parametrize(
    "option, expected",
    [
        ("region=Europe", "'region' 'Europe' is not an AWS region such as eu-west-1."),
        (
            "endpoint_url=http://email.example.org",
            "'endpoint_url' 'http://email.example.org' must be an https:// URL without a user "
            "name (http:// only for this machine, for tests).",
        ),
        (
            "configuration_set=two words",
            "'configuration_set' 'two words' is not a configuration set name (letters, digits, "
            "- and _, at most 64).",
        ),
    ],
)
def test_a_wrong_option_is_a_usage_error(ses_ready, option, expected):
    result = cli(ses_ready, "send", "2026-Q4", "--yes", "--sender", "ses", "-o", option)
    assert result.exit_code == 2
    key, _, value = option.partition("=")
    assert _error(result) == f"Error: -o {option} (sender ses): {expected}"


def test_no_region_anywhere_is_named(ses_ready, ses, monkeypatch, tmp_path):
    ses_env(monkeypatch, tmp_path, AWS_DEFAULT_REGION=None)
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 1
    assert _error(result).endswith(
        '[tool.newsletter.senders.ses] no AWS region: add region = "eu-west-1", or set '
        "AWS_DEFAULT_REGION."
    )
    assert _send(ses_ready, ses.url, "-o", "region=eu-central-1").exit_code == 0


def test_our_own_dkim_signature_is_refused_with_ses(ses_ready, ses):
    with open(ses_ready / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[tool.newsletter.send.dkim]\nselector = "nl"\nkey_env = "DKIM_KEY"\n')
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: \S+pyproject.toml:\d+: \[tool.newsletter.send.dkim\] cannot be used with "
        r"sender ses: Amazon SES replaces the Date and Message-ID headers, which the signature "
        r"covers, so it would break. Remove the table and turn on Easy DKIM for your domain in "
        r"SES, which signs for it.",
        _error(result),
    )
    assert ses.sends() == []


def test_without_boto3_the_fix_is_named(ses_ready, monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    result = cli(ses_ready, "send", "2026-Q4", "--yes", "--sender", "ses")
    assert result.exit_code == 1
    assert _error(result) == (
        "Error: sender ses: Amazon SES needs boto3, which is not installed. "
        "Run: pip install 'newsletter[ses]'"
    )
    listed = cli(ses_ready, "senders")
    assert "ses (newsletter 0.1.0): Send through Amazon SES" in listed.output


def test_a_test_copy_goes_through_ses_and_a_dry_run_asks_nothing(ses_ready, moto, ses):
    moto.verify("focalpoint@example.org")
    result = cli(ses_ready, "send", "2026-Q4", "--to", "editor@example.org", *ses_args(moto.url))
    assert result.exit_code == 0, result.output
    [(source, data)] = moto.sent()
    assert source == "focalpoint@example.org"
    assert parse(data)["Subject"].startswith("[TEST] ")
    assert ledger_rows(ses_ready) == []
    dry = cli(ses_ready, "send", "2026-Q4", "--dry-run", *ses_args(ses.url))
    assert dry.exit_code == 0, dry.output
    assert ses.calls == []


def test_an_answer_echoing_the_secret_key_or_session_token_never_shows_them(
    ses_ready, ses, monkeypatch, tmp_path
):
    """An error (or a proxy's page) that quotes the request's credentials back: the
    secret key and the session token are hidden on screen and in the ledger."""
    secret, session = AWS_ENV["AWS_SECRET_ACCESS_KEY"], "session-token-never-shown"
    ses_env(monkeypatch, tmp_path, AWS_SESSION_TOKEN=session)
    ses.script["person4@example.org"] = [
        (400, "MessageRejected", f"Rejected: key {secret} token {session}")
    ]
    result = _send(ses_ready, ses.url)
    assert result.exit_code == 0, result.output
    failed = [r["last_error"] for r in ledger_rows(ses_ready) if r["status"] == "failed"]
    assert failed == ["SES MessageRejected: Rejected: key [hidden] token [hidden]"]


def test_a_stop_echoing_the_secret_key_or_session_token_never_shows_them(
    ses_ready, ses, monkeypatch, tmp_path
):
    secret, session = AWS_ENV["AWS_SECRET_ACCESS_KEY"], "session-token-never-shown"
    ses_env(monkeypatch, tmp_path, AWS_SESSION_TOKEN=session)
    ses.script["*"] = [(403, "UnrecognizedClientException", f"bad {secret} / {session}")]
    result = _send(ses_ready, ses.url, "--concurrency", "1")
    assert result.exit_code == 1
    assert "bad [hidden] / [hidden]" in _error(result)
    assert secret not in result.output and session not in result.output
    stored = (ses_ready / "contacts.db").read_bytes()
    assert secret.encode() not in stored and session.encode() not in stored
