"""newsletter.models: the shared rules (what a bounce's code and wording mean)."""

from __future__ import annotations

import pytest

from newsletter.models import ENHANCED_STATUS, FAILURE_CAUSES, cause, grade, severity


@pytest.mark.parametrize(
    "status,text,expected,kind",
    [
        # The code alone, as RFC 3463 and Sisimai read it.
        ("5.1.1", "", "userunknown", "hard"),
        ("5.1.2", "", "hostunknown", "hard"),
        ("5.1.6", "", "hasmoved", "hard"),
        ("5.1.10", "", "notaccept", "hard"),  # null MX
        ("5.0.0", "", "undefined", "soft"),  # "failed", nothing more: not known gone
        ("5.2.1", "", "suspend", "soft"),
        ("5.2.2", "", "mailboxfull", "soft"),
        ("5.3.4", "", "mesgtoobig", "soft"),
        ("5.4.7", "", "expired", "soft"),
        ("5.5.3", "", "toomanyconn", "soft"),
        ("5.5.0", "", "undefined", "soft"),
        ("5.6.0", "", "contenterror", "soft"),
        ("5.7.1", "", "blocked", "soft"),
        ("5.7.26", "", "securityerror", "soft"),
        ("4.4.4", "", "hostunknown", "soft"),  # a 4.x.x code is never hard
        ("4.0.0", "", "undefined", "soft"),
        ("2.0.0", "", "delivered", "soft"),
        # The wording, across line breaks, where the code says nothing.
        ("5.0.0", "Mail quota\n    exceeded", "mailboxfull", "soft"),
        ("5.0.0", "550 No such user here", "userunknown", "hard"),
        ("5.0.0", "550 <a@b.example>... User not exist", "userunknown", "hard"),
        ("5.5.0", "550 The recipient account is blocked", "suspend", "soft"),
        ("5.0.0", "550 Connection frequency limited", "toomanyconn", "soft"),
        ("5.0.0", "554 mx.example ESMTP not accepting connections", "blocked", "soft"),
        ("5.0.0", "Host or domain name not found", "hostunknown", "hard"),
        ("5.0.0", "The account has been suspended", "suspend", "soft"),
        ("5.0.0", "Too many connections from your host", "toomanyconn", "soft"),
        ("5.0.0", "message expired after sitting in queue for 5 days", "expired", "soft"),
        ("5.0.0", "Relay access denied", "norelaying", "soft"),
        ("5.0.0", "blocked using zen.spamhaus.org", "blocked", "soft"),
        ("5.0.0", "likely unsolicited mail", "spamdetected", "soft"),
        ("5.0.0", "550 5.7.1 Message rejected due to local policy", "policyviolation", "soft"),
        # Specific wording outranks the code ...
        ("5.1.1", "552 5.1.1 Mailbox full", "mailboxfull", "soft"),
        ("5.7.1", "550 5.7.1 <a@b.example>: No such user", "userunknown", "hard"),
        ("5.2.0", "550 User unknown", "userunknown", "hard"),
        # ... but broad wording does not overrule a policy code, nor policy words a 5.1.1.
        ("5.7.1", "Recipient address rejected: Access denied", "blocked", "soft"),
        ("5.7.1", "550 5.7.1 mailbox unavailable", "blocked", "soft"),
        ("5.1.1", "550 5.1.1 rejected by policy", "userunknown", "hard"),
        ("5.7.1", "Recipient address\n  rejected: Access denied", "blocked", "soft"),  # folded
        # A code about our sender, not the reader: never retires the recipient.
        ("5.1.7", "", "rejected", "soft"),
        ("5.0.0", "Sender address rejected: Domain not found", "rejected", "soft"),
        ("5.1.7", "550 5.1.7 No such domain sender.example", "rejected", "soft"),
        (
            "5.1.0",
            "550 5.1.0 not allowed to send from <example.org> per its SPF",
            "authfailure",
            "soft",
        ),
        ("5.1.1", "550 5.1.1 <a@b.example> has sent to too many recipients", "toomanyconn", "soft"),
        # Postfix: a domain with no mail server is gone; a DNS lookup that failed is not.
        (
            "5.4.4",
            "Host or domain name not found. Name service error for name=b.example type=A: Host not found",
            "hostunknown",
            "hard",
        ),
        (
            "5.4.4",
            "Name service error for name=b.example type=MX: Host not found, try again",
            "networkerror",
            "soft",
        ),
        # A broad phrase first, a specific one after it: the specific one decides.
        (
            "5.2.1",
            "550 5.2.1 <a@b.example>: Recipient address rejected: User unknown",
            "userunknown",
            "hard",
        ),
        # Exchange Online's directory-based edge blocking: the address is not there.
        (
            "5.4.1",
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
            "userunknown",
            "hard",
        ),
        ("5.1.1", "<bounces@example.org>: Sender address rejected", "rejected", "soft"),
        ("5.0.0", "this address has been replaced by new@ilo.example", "hasmoved", "hard"),
        # Postfix's "Recipient address rejected: " heads any check's refusal: with no
        # code saying the address is gone, a greylist or a hold is no dead address
        # (Sisimai's lhost-dragonfly-17: "onhold"); bare, it is one (lhost-postfix-46).
        (
            "5.0.0",
            "550 5.0.0 <a@b.example>: Recipient address rejected: On hold. See https://x",
            "undefined",
            "soft",
        ),
        ("5.0.0", "450 <a@b.example>: Recipient address rejected: Greylisted", "undefined", "soft"),
        ("5.0.0", "550 <a@b.example>: Recipient address rejected.", "userunknown", "hard"),
        ("5.0.0", "550 Requested action not taken: mailbox unavailable", "userunknown", "hard"),
        # A server's own disk full, in the words of a 550 (Sisimai: systemfull): soft.
        (
            "5.0.0",
            "550 Requested action not taken: mailbox unavailable (not enough free space)",
            "mailboxfull",
            "soft",
        ),
    ],
)
def test_cause_follows_the_code_and_the_specific_wording(status, text, expected, kind):
    assert cause(status, text) == expected
    assert severity(status, text) == kind
    assert expected == "delivered" or expected in FAILURE_CAUSES


@pytest.mark.parametrize(
    "reason,status,kind",
    [
        ("userunknown", "5.1.1", "hard"),
        ("userunknown", "4.1.1", "soft"),
        ("onhold", "5.0.0", "soft"),  # failed, and nothing says why: soft, to be safe
        ("undefined", "5.0.0", "soft"),
        ("mailboxfull", "5.2.2", "soft"),
        ("filtered", "5.1.1", "soft"),
    ],
)
def test_grade_makes_only_a_gone_address_hard(reason, status, kind):
    assert grade(reason, status) == kind


@pytest.mark.parametrize(
    "text,code",
    [
        ("550-5.1.1 The email account that you tried to reach does not exist", "5.1.1"),
        ("#550 5.1.1 RESOLVER.ADR.RecipNotFound", "5.1.1"),
        ("smtp;550 5.2.2 full", "5.2.2"),
        # A program's version is no status code (Sisimai's lhost-notes-03, mxlogic-03).
        ("smtp-gw6.example.com (Lotus SMTP MTA v4.6.1  June 22, 1998)", None),
        ("by mx.example.net (mxl_mta-5.5.0-3) with ESMTP id", None),
        ("1.5.1.1 and 5.1.1.2", None),
    ],
)
def test_enhanced_status_is_not_read_from_a_version_number(text, code):
    found = ENHANCED_STATUS.search(text)
    assert (".".join(found.groups()) if found else None) == code
