"""Amazon SES through its v2 API (boto3): raw messages, a configuration set, the AWS chain.

Each message goes out as the exact bytes the other senders send
(``send_email`` with ``Content.Raw``), to its one recipient. Credentials
come from the standard AWS chain (environment variables, a profile, an
instance or task role), never from the project's files, and are never
shown. boto3 is an optional dependency: ``pip install 'newsletter[ses]'``.

How SES's answers map onto the run: ``MessageRejected`` is permanent for
that message; throttling, a busy service and a connection that could not
be made are temporary (retried with the run's backoff; boto3's own retries
are off, so one policy decides); no answer after the request went out is
uncertain (SES may have queued it). What would fail every message the
same way (refused credentials, an unverified From address, a paused or
suspended account, a used-up daily quota, a missing configuration set)
stops the run with one line, the row still queued.

SES never says "this address does not exist" while a message is sent: it
accepts the message and reports a bounce later, by email to the return path
(``FeedbackForwardingEmailAddress``) or through the configuration set's
event destinations. So a rejection here never retires a contact.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from newsletter.schema import Field, Schema, line, number, shown
from newsletter.send.headers import check_address
from newsletter.send.senders import (
    PERMANENT,
    SENT,
    TEMPORARY,
    UNCERTAIN,
    Limits,
    Message,
    Result,
    SenderContext,
    SenderError,
)
from newsletter.send.senders.smtp_connect import LOCAL_HOSTS, text
from newsletter.send.throttle import strictest

INSTALL = "pip install 'newsletter[ses]'"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_CONFIGURATION_SET = re.compile(r"[A-Za-z0-9_-]{1,64}")  # SES's own rule for the name
_ADDRESS = re.compile(r"[^\s,:;<>]+@[^\s,:;<>]+")

OPTIONS = Schema(
    fields=(
        Field("region", line(), fix='Write region = "eu-west-1".'),
        Field("profile", line()),
        Field("configuration_set", line()),
        Field("endpoint_url", line()),
        Field("max_send_rate", number(above=0, unit="messages a second")),
        Field("timeout", number(above=0, unit="seconds")),
    ),
    unknown_word="option",
)

# SES's error codes, by what they mean for the run.
CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "MissingAuthenticationTokenException",
        "ExpiredToken",
        "ExpiredTokenException",
        "AccessDenied",
        "AccessDeniedException",
    }
)
STOPS = {
    "AccountSuspendedException": "the account may no longer send (suspended)",
    "SendingPausedException": "sending is paused for the account or the configuration set",
    "MailFromDomainNotVerifiedException": "the custom MAIL FROM domain is not verified",
    "NotFoundException": "the configuration set or the identity does not exist in this region",
}
RETRIED = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "LimitExceededException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_DAILY = re.compile(r"daily|24[- ]?hour", re.IGNORECASE)


def _options(options: dict[str, Any], context: SenderContext) -> dict[str, Any]:
    """The options after the checks a schema kind cannot make; each mistake blamed where set."""
    mistake = context.mistake
    region = options.get("region", "")
    if region and not _REGION.fullmatch(region):
        raise mistake(f"'region' {shown(region)} is not an AWS region such as eu-west-1.", "region")
    name = options.get("configuration_set", "")
    if name and not _CONFIGURATION_SET.fullmatch(name):
        raise mistake(
            f"'configuration_set' {shown(name)} is not a configuration set name "
            "(letters, digits, - and _, at most 64).",
            "configuration_set",
        )
    url = options.get("endpoint_url", "")
    if url:
        parts = urlsplit(url)
        local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
        if not (parts.scheme == "https" or local) or not parts.hostname or "@" in parts.netloc:
            raise mistake(
                f"'endpoint_url' {shown(url)} must be an https:// URL without a user name "
                "(http:// only for this machine, for tests).",
                "endpoint_url",
            )
    return options


class SESSender:
    description = (
        "Send through Amazon SES (API v2, raw messages); credentials from the AWS chain. "
        f"Needs: {INSTALL}"
    )
    options = OPTIONS
    delivers = True

    def __init__(self, options: dict[str, Any], context: SenderContext) -> None:
        try:
            import boto3
            import botocore.exceptions
        except ImportError:
            raise SenderError(
                f"sender {context.name}: Amazon SES needs boto3, which is not installed. "
                f"Run: {INSTALL}"
            ) from None
        settings = context.settings
        if settings.send.dkim is not None:
            # SES's documented rule for signing your own mail (manual DKIM signing).
            raise SenderError(
                f"{settings.where(table='send.dkim')} cannot be used with sender "
                f"{context.name}: Amazon SES replaces the Date and Message-ID headers, which "
                "the signature covers, so it would break. Remove the table and turn on Easy "
                "DKIM for your domain in SES, which signs for it."
            )
        options = _options(options, context)
        self.name = context.name
        self.from_address = check_address(settings.from_address, settings.where("from_address"))
        self.configuration_set = options.get("configuration_set", "")
        self.endpoint_url = options.get("endpoint_url") or None
        self.timeout = options.get("timeout", 60.0)
        self.wanted_rate = options.get("max_send_rate", 0.0)
        self.limits = Limits(per_second=self.wanted_rate)  # the run keeps under it
        try:
            self.session = boto3.Session(profile_name=options.get("profile") or None)
        except botocore.exceptions.ProfileNotFound:
            raise context.mistake(
                f"'profile' {shown(options['profile'])} is not in the AWS config files.",
                "profile",
            ) from None
        self.region = options.get("region") or self.session.region_name or ""
        if not self.region:
            raise context.mistake(
                'no AWS region: add region = "eu-west-1", or set AWS_DEFAULT_REGION.', "region"
            )
        self.label = f"{self.name} (SES {self.region})"
        self.client: Any = None

    # -- once per connection ------------------------------------------------------
    def open(self) -> None:
        from botocore.config import Config

        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            user_agent_extra="newsletter",
        )
        self.client = self.session.client(
            "sesv2", region_name=self.region, endpoint_url=self.endpoint_url, config=config
        )
        self._read_account()
        self._check_identity()

    def _probe(self, call: str, **params: Any) -> dict[str, Any] | None:
        """A look that is a courtesy: None when SES cannot or may not answer it.

        Sending needs only ses:SendEmail, so a policy that refuses the look is
        fine; refused credentials and an unreachable service stop here, before
        the ledger is touched.
        """
        import botocore.exceptions

        try:
            answer: dict[str, Any] = getattr(self.client, call)(**params)
            return answer
        except botocore.exceptions.ClientError as exc:
            code = _code(exc)
            if code in CREDENTIALS and not code.startswith("AccessDenied"):
                raise self._credentials(_reply(exc)) from None
            if code == "NotFoundException":
                return {}
            return None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._stopping(exc) from None

    def _read_account(self) -> None:
        account = self._probe("get_account")
        if not account:
            return
        if account.get("SendingEnabled") is False:
            raise SenderError(
                f"{self.label}: sending is paused for this account. "
                "Resume it in the SES console, then run the same command to continue."
            )
        quota = account.get("SendQuota") or {}
        most, sent = quota.get("Max24HourSend", 0), quota.get("SentLast24Hours", 0)
        if most > 0 and sent >= most:
            raise self._daily(f"{sent:g} of {most:g} sent in the last 24 hours")
        # The account's rate, known only now, for all connections together.
        self.limits = Limits(per_second=strictest(self.wanted_rate, quota.get("MaxSendRate", 0)))

    def _check_identity(self) -> None:
        """From must be a verified identity, itself or its domain (SES's rule)."""
        domain = self.from_address.rpartition("@")[2]
        for identity in (self.from_address, domain):
            found = self._probe("get_email_identity", EmailIdentity=identity)
            if found is None:
                return  # not allowed to look: the first message will tell
            if found.get("VerifiedForSendingStatus") or found.get("VerificationStatus") == (
                "SUCCESS"
            ):
                return
        raise self._unverified(self.from_address)

    # -- one message ---------------------------------------------------------------
    def send(self, message: Message, data: bytes) -> Result:
        request: dict[str, Any] = {
            "FromEmailAddress": self.from_address,
            "Destination": {"ToAddresses": [message.recipient]},
            "Content": {"Raw": {"Data": data}},
        }
        if message.mail_from != self.from_address:
            # SES sends from its own envelope and forwards bounces and complaints:
            # to the return path, so they come back where the other senders' do.
            request["FeedbackForwardingEmailAddress"] = message.mail_from
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            answer = self.client.send_email(**request)
        except Exception as exc:
            return self._failure(exc, message)
        # SES puts its own Message-ID on the message; keep it to match its reports.
        return Result(SENT, f"SES message {text(str(answer.get('MessageId', '?')))}")

    def _failure(self, exc: Exception, message: Message) -> Result:
        from botocore import exceptions as aws

        if isinstance(exc, aws.ClientError):
            return self._refused(exc, message)
        if isinstance(exc, aws.ConnectionError):  # refused, timed out, TLS: nothing went out
            return Result(TEMPORARY, f"cannot reach SES: {self._hidden(_one_line(exc))}")
        if isinstance(exc, aws.HTTPClientError):
            # The request went out whole; SES may have queued it before the answer was lost.
            said = self._hidden(_one_line(exc))
            return Result(UNCERTAIN, f"no answer from SES after the message: {said}")
        if isinstance(exc, aws.BotoCoreError):
            raise self._stopping(exc) from None
        raise exc

    def _refused(self, exc: Any, message: Message) -> Result:
        said = self._hidden(text(str(exc.response.get("Error", {}).get("Message", ""))))
        code, reply = _code(exc), self._hidden(_reply(exc))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code.startswith("AccessDenied"):
            raise SenderError(
                f"{self.label}: these AWS credentials may not send ({reply}). Allow them "
                "ses:SendEmail on the From identity (and the configuration set), then run "
                "the same command to continue."
            )
        if code in CREDENTIALS:
            raise self._credentials(reply) from None
        if code in STOPS:
            raise SenderError(
                f"{self.label}: {STOPS[code]} ({reply}). Fix it in SES, then run the same "
                "command to continue."
            )
        if code in RETRIED or status == 429:
            if _DAILY.search(said):
                raise self._daily(reply)
            return Result(TEMPORARY, reply)
        if code == "MessageRejected":
            ours = {self.from_address.lower(), message.mail_from.lower()}
            named = {a.lower().rstrip(".") for a in _ADDRESS.findall(said)}
            if ours & named and re.search(r"not verified|not authori[sz]ed|authority", said, re.I):
                raise self._unverified(sorted(ours & named)[0], reply)
            return Result(PERMANENT, reply)
        if status in (500, 503):
            return Result(TEMPORARY, reply)
        return Result(PERMANENT if 400 <= status < 500 else UNCERTAIN, reply)

    # -- the one-line errors that stop the run --------------------------------------
    def _credentials(self, why: str) -> SenderError:
        return SenderError(
            f"{self.label}: no AWS credentials it accepts ({why}). Give them "
            "the standard AWS way (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE "
            "or the 'profile' option, or an instance role), never in the project's files."
        )

    def _unverified(self, address: str, reply: str = "") -> SenderError:
        what = "" if not reply else f" ({reply})"
        return SenderError(
            f"{self.label}: {address} is not a verified identity of this account{what}. Verify the "
            "address or its domain in SES (or check from_address, return_path and 'region'), "
            "then run the same command to continue."
        )

    def _daily(self, why: str) -> SenderError:
        return SenderError(
            f"{self.label}: the account's 24-hour sending quota is used up ({why}). Run the "
            "same command to continue once it frees up, or ask AWS for a higher quota."
        )

    def _stopping(self, exc: Exception) -> SenderError:
        """No credentials at all, or SES cannot be used from here (an endpoint, TLS)."""
        from botocore import exceptions as aws

        missing = (aws.NoCredentialsError, aws.PartialCredentialsError)
        if isinstance(exc, missing + (aws.CredentialRetrievalError,)):
            return self._credentials(self._hidden(_one_line(exc)))
        return SenderError(
            f"{self.label}: cannot use SES ({self._hidden(_one_line(exc))}). Check 'region', "
            "'endpoint_url' and the network."
        )

    def _hidden(self, said: str) -> str:
        """SES's words with the secret key and session token hidden, should an answer
        (or a proxy's error page) echo them: they are shown and kept in the ledger."""
        try:
            found = self.session.get_credentials()
            frozen = found.get_frozen_credentials() if found is not None else None
        except Exception:  # no credentials to be had: none to hide either
            return said
        for secret in (frozen.secret_key, frozen.token) if frozen is not None else ():
            if secret:
                said = said.replace(secret, "[hidden]")
        return said

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


def _one_line(exc: Exception) -> str:
    return shown(text(str(exc)), 200, quote=False)


def _code(exc: Any) -> str:
    """A botocore ClientError's error code: "MessageRejected", "Throttling"..."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reply(exc: Any) -> str:
    """SES's answer on one line, as the ledger keeps it: "SES MessageRejected: ..."."""
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    said = shown(text(str(error.get("Message", ""))), 300, quote=False)
    return f"SES {error.get('Code') or status}: {said}".strip().rstrip(":")
