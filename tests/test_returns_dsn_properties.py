"""newsletter.returns.dsn.classify, by property: any bytes in a mailbox get a sound verdict.

A bounce mailbox holds whatever servers and people sent back. classify never
raises, by construction (a broken message is "malformed"); what this checks is
that its verdicts hang together, and that "malformed" means a message without
mail headers, a report without recipients or one the email package refuses to
parse, not an error inside classify that the catch-all hid.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import json
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.models import FAILURE_CAUSES, cause, grade
from newsletter.returns.dsn import DEPARTURE_PHRASES, classify, fold, severity

SAMPLES = sorted((Path(__file__).parent / "data" / "bounces").glob("*.eml"))
# The email package's own refusals (a header line ended by a vertical tab...), which
# classify rightly reports as malformed; any other exception is a bug it caught.
EMAIL_ERRORS = {name for name in dir(email.errors) if name.endswith("Error")}
KINDS = {"hard", "soft", "delayed", "delivered", "complaint", "auto-reply", "unsubscribe", "other"}
KINDS |= {"malformed"}
STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")


@st.composite
def damaged(draw):
    """A sample bounce, cut short, with bytes changed, or inserted, or headers dropped."""
    data = draw(st.sampled_from(SAMPLES)).read_bytes()
    edit = draw(st.sampled_from(["cut", "flip", "insert", "drop-line", "as-is"]))
    at = draw(st.integers(min_value=0, max_value=len(data)))
    if edit == "cut":
        return data[:at]
    if edit == "flip":
        return data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at + 3 :]
    if edit == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=40)) + data[at:]
    if edit == "drop-line":
        lines = data.split(b"\n")
        del lines[draw(st.integers(min_value=0, max_value=len(lines) - 1))]
        return b"\n".join(lines)
    return data


MESSAGES = st.one_of(
    st.binary(max_size=300),
    damaged(),
    st.builds(
        lambda headers, body: (headers + "\n\n" + body).encode("utf-8", "surrogatepass"),
        st.lists(
            st.builds(
                lambda name, value: f"{name}: {value}",
                st.sampled_from(
                    [
                        "From",
                        "Subject",
                        "Content-Type",
                        "Auto-Submitted",
                        "Return-Path",
                        "X-Failed-Recipients",
                        "In-Reply-To",
                        "Content-Transfer-Encoding",
                    ]
                ),  # fmt: skip
                st.one_of(
                    st.text(max_size=40),
                    st.sampled_from(
                        [
                            "MAILER-DAEMON@x.example",
                            "multipart/report; boundary=b",
                            'multipart/report; report-type=delivery-status; boundary="b"',
                            "message/delivery-status",
                            "base64",
                            "<>",
                            "unsubscribe abc.def",
                            "Undeliverable: x",
                            "Out of Office",
                            "auto-replied",
                        ]
                    ),  # fmt: skip
                ),
            ),
            max_size=6,
        ).map("\n".join),
        st.one_of(
            st.text(max_size=200),
            st.sampled_from(
                [
                    "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\n"
                    "Action: failed\nStatus: 5.1.1\n\n--b--\n",
                    "--b\n--b--",
                    "Status: 9.9.9\n",
                ]
            ),  # fmt: skip
        ),
    ),
)


# The headers classify reads raw; the others go through its own decoding.
RAW_HEADERS = ("precedence", "auto-submitted", "x-failed-recipients", "content-transfer-encoding")


@given(data=MESSAGES)
@example(data=b"")
@example(data=b"\xff" * 50)
@example(data=b"Content-Type: multipart/report\n\n--")
def test_any_message_gets_a_verdict_that_hangs_together(data):
    bounce = classify(data)
    assert bounce.kind in KINDS, bounce
    if bounce.kind == "malformed":  # for a reason of its own or the email package's
        own = bounce.reason in ("no mail headers", "delivery report with no recipients")
        assert own or bounce.reason.split(":")[0] in EMAIL_ERRORS, bounce  # not a bug hidden
    if bounce.kind in ("hard", "soft"):
        assert STATUS.fullmatch(bounce.status), bounce
        # The kind follows from the cause (Sisimai's reason) and the code, nothing else.
        assert bounce.cause in FAILURE_CAUSES, bounce
        assert grade(bounce.cause, bounce.status) == bounce.kind, bounce
    elif bounce.kind == "delayed":
        assert bounce.status == "" or STATUS.fullmatch(bounce.status), bounce
    for address in bounce.recipients:
        assert "@" in address and not any(c.isspace() for c in address), bounce
    for message_id in bounce.message_ids:  # as the ledger is searched: "<" ... ">"
        assert message_id.startswith("<") and message_id.endswith(">"), bounce


@pytest.mark.parametrize(
    "sample,after,header",
    [
        ("references-only.eml", b"\nTo:", b"Precedence: junk \xe9"),
        ("references-only.eml", b"\nTo:", b"X-Failed-Recipients: gone.away@unicef.example \xe9"),
        ("hard-5.1.1.eml", b"message/delivery-status", b"Content-Transfer-Encoding: 7bit \xe9"),
    ],
    ids=["precedence", "x-failed-recipients", "content-transfer-encoding"],
)
def test_a_bounce_with_an_8bit_header_is_still_a_bounce(sample, after, header):
    data = (Path(__file__).parent / "data" / "bounces" / sample).read_bytes()
    at = data.index(b"\n", data.index(after) + 1)  # after that header line
    bounce = classify(data[:at] + b"\n" + header + data[at:])
    assert (bounce.kind, bounce.status) == ("hard", "5.1.1"), bounce


CODES = st.builds(
    "{}.{}.{}".format,
    st.sampled_from("2345"),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=0, max_value=12),
)
WORDING = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            ["user unknown", "mailbox full", "5.7.1", "policy", "spam", "no such user", "\n  ",
             "address rejected", "over quota", "has moved", "blocked using", "é", "relay denied"]
        ),
        max_size=6,
    ).map(" ".join),
)  # fmt: skip


@given(status=st.one_of(CODES, st.text(max_size=12)), text=WORDING)
def test_any_code_and_wording_get_a_cause_that_hangs_together(status, text):
    """cause and severity read anything a server may write, and never raise."""
    why = cause(status, text)
    hardness = severity(status, text)
    if status.partition(".")[0] == "2":
        assert why == "delivered"
    else:
        assert why in FAILURE_CAUSES
    assert hardness == grade(why, status)
    if not status.startswith("5"):
        assert hardness == "soft"  # a warning, or no code: the server will try again


SES = (Path(__file__).parent / "data" / "bounces" / "ses-notification-bounce.eml").read_text()
SES_HEAD = SES[: SES.index("{")]
SES_KEYS = [
    "notificationType", "bounce", "complaint", "delivery", "mail", "Message", "bounceType",
    "bounceSubType", "bouncedRecipients", "complainedRecipients", "emailAddress", "status",
    "diagnosticCode", "headers", "name", "value", "commonHeaders", "messageId", "recipients",
]  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.sampled_from(["Permanent", "Transient", "5.1.1", "Message-ID", "a@b.example", "smtp; 550"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(SES_KEYS) | st.text(max_size=6), inner, max_size=5),
    max_leaves=25,
)  # fmt: skip


@given(
    notice=st.dictionaries(st.sampled_from(SES_KEYS), JSON, max_size=6),
    kind=st.sampled_from(["Bounce", "Complaint", "Delivery", "Other", 3, None]),
)
def test_any_amazon_ses_notice_gets_a_verdict_that_hangs_together(notice, kind):
    """The SES reader takes JSON from the mail: whatever its shape, a Bounce comes out."""
    bounce = classify((SES_HEAD + json.dumps({**notice, "notificationType": kind})).encode())
    assert bounce.kind in KINDS - {"malformed"}, bounce  # not an exception caught
    if bounce.kind in ("hard", "soft"):
        assert STATUS.fullmatch(bounce.status) and grade(bounce.cause, bounce.status) == bounce.kind
    for address in bounce.recipients:
        assert "@" in address and not any(c.isspace() for c in address), bounce
    for message_id in bounce.message_ids:
        assert message_id.startswith("<") and message_id.endswith(">"), bounce


# Words from the departure phrases and their neighbours in other senses, so that random
# bodies often come near a phrase without being one ("left you", "no longer in the").
AUTO_WORDS = [
    "has", "have", "left", "you", "the office", "for the day", "no longer", "with", "in",
    "ne", "fait", "plus", "partie", "a", "quitté", "quitte", "n'est", "n’est", "en poste",
    "ya no", "trabaja", "forma", "parte", "ha", "dejado", "un mensaje", "retired", "works",
    "please contact", "veuillez contacter", "contacte a", "jane.doe@undp.example",
    "ann.lee@unfpa.example", "focalpoint@example.org", "\n", "  ", "\n> ", ".", ";", "É",
]  # fmt: skip
AUTO_BODIES = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(AUTO_WORDS), max_size=25).map(" ".join),
)
AUTO_REPLY = (
    "From: Ann Lee <ann.lee@unfpa.example>\nTo: focalpoint@example.org\n"
    "Subject: Automatic reply: The UN-Business Focal Point\nAuto-Submitted: auto-replied\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
)
ANY_PHRASE = re.compile(
    "|".join(rf"\b{p}" for ps in DEPARTURE_PHRASES.values() for p in ps).replace(" ", r"\s+")
)


@given(body=AUTO_BODIES)
@example(body="I have left the office for the day; if you have left me a message, later.")
@example(body="Ann has left UNFPA; please contact jane.doe@undp.example")
def test_a_departure_is_claimed_only_where_a_phrase_says_so(body):
    b = classify((AUTO_REPLY + body).encode("utf-8", "surrogatepass"))
    assert b.kind == "auto-reply", b
    words = fold(body.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    assert (b.cause == "departure") <= bool(ANY_PHRASE.search(words)), b
    assert b.cause in ("departure", "vacation"), b
    if b.successor:  # named in the body, after a cue; never the sender's own nor ours
        assert b.cause == "departure" and b.successor in body, b
        assert b.successor.lower() not in ("ann.lee@unfpa.example", "focalpoint@example.org")
    if b.cause == "departure":
        assert b.recipients == ("ann.lee@unfpa.example",), b
