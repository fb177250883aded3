"""newsletter.send.signing: DKIM signatures verify and cover the list headers; keys stay outside."""

from __future__ import annotations

import base64
import re
import threading

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import (
    HTML,
    LAYOUT,
    SECRET,
    TEXT,
    add_contacts,
    built,
    check_7bit_crlf,
    parse,
    recipient,
    smtp_send,
    special_file,
)

from newsletter.config import Dkim
from newsletter.errors import NewsletterError
from newsletter.send.message import Composer
from newsletter.send.signing import Signer, load_signer


def rsa_key(bits: int = 1024) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, der


def dns_stub(public_der: bytes, selector: str = "nl", domain: str = "example.org"):
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        if name == f"{selector}._domainkey.{domain}.".encode():
            return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)
        return None

    return lookup


def test_dkim_signature_verifies_and_covers_the_list_headers():
    pem, der = rsa_key()
    composer = Composer(LAYOUT, TEXT, HTML, Signer("example.org", "nl", pem, "test"))
    data = composer.compose(recipient("José  Núñez"))
    check_7bit_crlf(data, width=78)
    assert data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert dkim.verify(data, dnsfunc=dns_stub(der))
    sig = parse(data)["DKIM-Signature"]
    signed = re.search(r"h=([^;]+);", sig)[1].replace(" ", "").split(":")
    for name in (
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "feedback-id",
    ):
        assert name in signed
    oversigned = ("from", "to", "subject", "date", "message-id", "mime-version")
    oversigned += ("content-type", "list-id", "list-unsubscribe", "list-unsubscribe-post")
    assert {name: signed.count(name) for name in oversigned} == dict.fromkeys(oversigned, 2)
    # Any change breaks it: the body, a header, or an added Subject.
    assert not dkim.verify(data.replace(b"You are", b"You were"), dnsfunc=dns_stub(der))
    assert not dkim.verify(
        data.replace(b"Feedback-ID: 2026", b"Feedback-ID: 2027"), dnsfunc=dns_stub(der)
    )
    forged = data.replace(b"\r\nFrom:", b"\r\nSubject: Win a prize\r\nFrom:", 1)
    assert not dkim.verify(forged, dnsfunc=dns_stub(der))
    # Issue 11: a forged List-Unsubscribe above ours kept the signature valid.
    for header in (b"List-Unsubscribe: <https://evil.example/u>", b"List-Id: <evil.example>"):
        forged = data.replace(b"\r\nFrom:", b"\r\n" + header + b"\r\nFrom:", 1)
        assert not dkim.verify(forged, dnsfunc=dns_stub(der)), header


@pytest.mark.parametrize("name", ["Maria " * 30, "长" * 200, "A" * 70])
def test_a_line_laid_out_again_around_a_long_name_still_verifies(name):
    # The text part rewraps a line once the name is in: the signed body hash has to
    # be of the bytes that go out, rewrapped line included.
    pem, der = rsa_key()
    data = Composer(LAYOUT, TEXT, HTML, Signer("example.org", "nl", pem, "test")).compose(
        recipient(name)
    )
    assert dkim.verify(data, dnsfunc=dns_stub(der))


@pytest.mark.parametrize(
    ("kind", "what"), [("fifo", "a FIFO (named pipe)"), ("device", "a device"), ("dir", "a folder")]
)
def test_a_key_file_that_is_not_a_regular_file_is_one_line_not_a_hang(
    project, tmp_path, kind, what
):
    # Reading a FIFO waits for a writer forever: send hung before its first message.
    key = special_file(tmp_path / "dkim.pem", kind)
    where = "pyproject.toml: [tool.newsletter.send.dkim]"
    result: list[str] = []

    def load() -> None:
        try:
            load_signer(Dkim("nl", key_file=str(key)), project, "example.org", where)
        except NewsletterError as exc:
            result.append(exc.message)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(20)
    assert result == [
        f"{where} key_file {key} is {what}, not a file. Give the PEM file of the key."
    ]


def test_dkim_keys_stay_out_of_the_repository(project, tmp_path, monkeypatch):
    pem, _ = rsa_key()
    where = "pyproject.toml: [tool.newsletter.send.dkim]"
    (project / "dkim.pem").write_bytes(pem)
    with pytest.raises(NewsletterError, match="inside the project folder"):
        load_signer(Dkim("nl", key_file="dkim.pem"), project, "example.org", where)
    outside = tmp_path / "keys" / "dkim.pem"
    outside.parent.mkdir()
    outside.write_bytes(pem)
    signer = load_signer(Dkim("nl", key_file=str(outside)), project, "ex.org", where)
    assert signer is not None and signer.domain == "ex.org"
    monkeypatch.setenv("DKIM_KEY", pem.decode().replace("\n", "\\n"))  # as CI stores it
    assert load_signer(Dkim("nl", key_env="DKIM_KEY"), project, "x.org", where)
    monkeypatch.setenv("DKIM_KEY", "not a key")
    with pytest.raises(NewsletterError, match="not an unencrypted PEM private key") as info:
        load_signer(Dkim("nl", key_env="DKIM_KEY"), project, "x.org", where)
    assert "not a key" not in info.value.message
    assert load_signer(None, project, "x.org", where) is None


def test_dkim_signed_mail_verifies_as_received(project, monkeypatch, smtp, tmp_path):
    import dkim

    pem, der = rsa_key(2048)
    key_file = tmp_path / "keys" / "dkim.pem"
    key_file.parent.mkdir()
    key_file.write_bytes(pem)
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(
        project, settings=f'[tool.newsletter.send.dkim]\nselector = "nl"\nkey_file = "{key_file}"\n'
    )
    add_contacts(
        project,
        [
            {"email": "jose@example.org", "name": "José Núñez"},
            {"email": "ann@example.org", "name": 'Ann "The" Editor'},
        ],
    )
    result = smtp_send(project, smtp.port)
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 2
    for received in smtp.messages:
        assert received.data.startswith(b"DKIM-Signature: ")
        assert dkim.verify(received.data, dnsfunc=dns_stub(der))
    assert str(key_file) not in result.output and "PRIVATE KEY" not in result.output
