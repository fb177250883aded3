"""newsletter intake from an IMAP folder: the same messages as from a Maildir, read-only."""

from __future__ import annotations

import socket

import pytest
from helpers import IMAPServer, cli, self_signed
from intake_mail import EXPECTED, MESSAGES, WARNING, plain


@pytest.fixture
def imap(monkeypatch):
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", "pw")
    with IMAPServer([make() for _, make in MESSAGES]) as server:
        yield server


def test_an_imap_folder_gives_exactly_the_candidates_and_skip_lines_a_maildir_does(
    contributors, imap
):
    result = cli(contributors, "intake", "2026-Q4", f"imap://news@127.0.0.1:{imap.port}/INBOX")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == EXPECTED
    assert result.stderr == WARNING


def test_the_folder_is_only_read_and_a_second_run_takes_nothing(contributors, imap):
    url = f"imap://news@127.0.0.1:{imap.port}/INBOX"
    cli(contributors, "intake", "2026-Q4", url)
    again = cli(contributors, "intake", "2026-Q4", url, "-q")
    assert again.stdout == "0 taken into issues/2026-Q4/inbox, 9 skipped.\n"
    verbs = {c.split()[0].upper() for c in imap.commands}
    assert verbs == {"CAPABILITY", "LOGIN", "EXAMINE", "UID", "LOGOUT"}
    assert all("BODY[]" not in c.upper() for c in imap.commands)  # BODY.PEEK[] only


def test_a_message_the_server_says_is_too_large_is_not_fetched(contributors, imap, monkeypatch):
    monkeypatch.setattr("newsletter.intake.imap.MAX_MESSAGE", 1000)
    result = cli(contributors, "intake", "2026-Q4", f"imap://news@127.0.0.1:{imap.port}/INBOX")
    assert "uid 2: skipped, larger than 0 MB; not fetched" in result.stdout.splitlines()
    body = [c for c in imap.commands if "BODY.PEEK[]" in c.upper()]
    assert body == ["UID FETCH 1,3,4,5,6,7,8,9 (BODY.PEEK[])"]


@pytest.mark.parametrize(
    "url,env,message",
    [
        (
            "imap://news@127.0.0.1:{port}/INBOX",
            {"NEWSLETTER_IMAP_PASSWORD": "wrong"},
            "imap://127.0.0.1/INBOX: the IMAP server refused or failed ([AUTHENTICATIONFAILED] wrong password). Check "
            "the address, the folder and the password; nothing was taken in.",
        ),
        (
            "imap://news@127.0.0.1:{port}/INBOX",
            {"NEWSLETTER_IMAP_PASSWORD": None},
            "imap://127.0.0.1/INBOX: no password. Set NEWSLETTER_IMAP_PASSWORD "
            "(or NEWSLETTER_IMAP_TOKEN), then run again.",
        ),
        (
            "imaps://news@mail.example.org:99x/INBOX",
            {},
            "imaps://mail.example.org/INBOX: write the folder as imaps://USER@HOST[:PORT]/FOLDER, the "
            "password in NEWSLETTER_IMAP_PASSWORD (or an OAuth token in NEWSLETTER_IMAP_TOKEN), "
            "never in the address.",
        ),
        (
            "imap://news@mail.example.org/INBOX",
            {},
            "imap://mail.example.org/INBOX: imap:// would send the password unencrypted. "
            "Use imaps://mail.example.org/INBOX.",
        ),
        (
            "imaps://news:secret@mail.example.org/INBOX",
            {},
            "imaps://mail.example.org/INBOX: write the folder as "
            "imaps://USER@HOST[:PORT]/FOLDER, the password in NEWSLETTER_IMAP_PASSWORD (or an "
            "OAuth token in NEWSLETTER_IMAP_TOKEN), never in the address.",
        ),
    ],
)
def test_an_imap_folder_that_cannot_be_read_is_one_line(contributors, imap, url, env, message):
    result = cli(contributors, "intake", "2026-Q4", url.format(port=imap.port), env=env)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"


def test_the_default_folder_is_the_inbox(contributors, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", "pw")
    with IMAPServer([plain()]) as server:
        result = cli(contributors, "intake", "2026-Q4", f"imap://news@localhost:{server.port}")
    assert result.stdout.splitlines()[-1] == "1 taken into issues/2026-Q4/inbox, 0 skipped."
    assert 'EXAMINE "INBOX"' in server.commands


@pytest.mark.parametrize(
    "token,last",
    [
        ("tok", "1 taken into issues/2026-Q4/inbox, 0 skipped."),
        ("stale", None),
    ],
)
def test_an_oauth_token_logs_in_with_xoauth2(contributors, monkeypatch, token, last):
    monkeypatch.setenv("NEWSLETTER_IMAP_TOKEN", token)
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", "wrong")  # the token comes first
    with IMAPServer([plain()]) as server:
        result = cli(
            contributors, "intake", "2026-Q4", f"imap://news@127.0.0.1:{server.port}/INBOX"
        )
    assert "AUTHENTICATE XOAUTH2" in server.commands
    assert not any(c.upper().startswith("LOGIN") for c in server.commands)
    if last:
        assert result.stdout.splitlines()[-1] == last
    else:
        assert result.exit_code == 1
        assert "[AUTHENTICATIONFAILED] bad token" in result.stderr


@pytest.fixture
def imaps(tmp_path, monkeypatch):
    """The same folder over real TLS, with a certificate for localhost only."""
    monkeypatch.setenv("NEWSLETTER_IMAP_PASSWORD", "pw")
    cert = self_signed(tmp_path, ("localhost",))
    with IMAPServer([make() for _, make in MESSAGES], tls=cert) as server:
        server.cert = cert[0]
        yield server


def test_imaps_over_real_tls_reads_the_same_messages(contributors, imaps, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", imaps.cert)  # the organisation's own authority
    result = cli(contributors, "intake", "2026-Q4", f"imaps://news@localhost:{imaps.port}/INBOX")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == EXPECTED
    assert "LOGIN" in {c.split()[0].upper() for c in imaps.commands}


@pytest.mark.parametrize(
    "host,trusted,why",
    [
        ("localhost", False, "self-signed certificate"),
        # Trusted, but not for this name: the certificate names localhost only.
        ("127.0.0.1", True, "IP address mismatch, certificate is not valid for '127.0.0.1'."),
    ],
)
def test_an_untrusted_certificate_is_one_line_and_no_password_is_sent(
    contributors, imaps, monkeypatch, host, trusted, why
):
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", imaps.cert)
    else:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    result = cli(contributors, "intake", "2026-Q4", f"imaps://news@{host}:{imaps.port}/INBOX")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: imaps://{host}/INBOX: the server's certificate is not trusted ({why}). If it "
        "is signed by your organisation's own authority, set SSL_CERT_FILE to that "
        "authority's PEM file; nothing was taken in.\n"
    )
    assert imaps.commands == []  # not a word, let alone the password, before the check


@pytest.mark.parametrize(
    "user,why",
    [
        ("news%0D%0AA999%20DELETE%20INBOX", "contains a line break"),
        ("news%0Ax", "contains a line break"),
        ("news%C2%85", "contains a line break"),  # NEL
        ("news%00", "contains a control character"),
        ("news%7F", "contains a control character"),
    ],
)
def test_a_user_name_with_a_line_break_or_control_is_refused_before_connecting(
    contributors, imap, user, why
):
    """imaplib writes the user name into the LOGIN line as it is: a CR LF in it would
    send a command of its own (a DELETE) to a folder this command only reads."""
    result = cli(contributors, "intake", "2026-Q4", f"imap://{user}@127.0.0.1:{imap.port}/INBOX")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: imap://127.0.0.1/INBOX: the user name {why}. Write it as the server knows it.\n",
    )
    assert imap.commands == []


def test_a_server_that_is_not_there_is_named_in_words_not_an_error_number(contributors):
    with socket.socket() as probe:  # a port just freed: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = cli(contributors, "intake", "2026-Q4", f"imap://news@127.0.0.1:{port}/INBOX")
    assert result.stderr == (
        "Error: imap://127.0.0.1/INBOX: the IMAP server refused or failed (Connection refused). "
        "Check the address, the folder and the password; nothing was taken in.\n"
    )
