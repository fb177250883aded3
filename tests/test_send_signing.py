"""newsletter.send.signing: DKIM signatures verify and cover the list headers; keys stay outside."""

from __future__ import annotations

import base64
import re
import threading

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from helpers import (
    HTML,
    LAYOUT,
    SECRET,
    TEXT,
    add_contacts,
    built,
    check_7bit_crlf,
    cli,
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


def ed25519_key() -> tuple[bytes, bytes, bytes]:
    """(PEM, the base64 seed dkimpy's dknewkey writes, the raw public key for DNS)."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return pem, base64.b64encode(raw), public


def dns_stub(
    public_der: bytes,
    selector: str = "nl",
    domain: str = "example.org",
    ed25519: tuple[str, bytes] | None = None,
):
    """The DKIM key records: the RSA key at ``selector``, an Ed25519 one (RFC 8463) if given."""
    records = {selector: b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)}
    if ed25519:
        records[ed25519[0]] = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(ed25519[1])

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        for label, record in records.items():
            if name == f"{label}._domainkey.{domain}.".encode():
                return record
        return None

    return lookup


def verified(data: bytes, dnsfunc) -> list[tuple[bytes, bool]]:
    """Each DKIM-Signature's algorithm and whether dkimpy verifies it, top to bottom."""
    checker = dkim.DKIM(data)
    found = []
    for n in range(sum(name.lower() == b"dkim-signature" for name, _ in checker.headers)):
        try:
            ok = checker.verify(idx=n, dnsfunc=dnsfunc)
        except dkim.DKIMException:  # as dkim.verify() takes it: a body hash mismatch
            ok = False
        found.append((checker.signature_fields[b"a"], ok))
    return found


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


@pytest.mark.parametrize("form", ["pem", "dknewkey seed"])
def test_an_ed25519_signature_beside_the_rsa_one_verifies_and_over_signs(form):
    """RFC 8463: both signatures cover and over-sign the same headers, and each verifies."""
    pem, der = rsa_key()
    ed_pem, ed_seed, ed_public = ed25519_key()
    ed_key = ed_pem if form == "pem" else ed_seed
    signer = Signer("example.org", "nl", pem, "test", ("ed", ed_key, "ed25519_key_env"))
    data = Composer(LAYOUT, TEXT, HTML, signer).compose(recipient("José  Núñez"))
    check_7bit_crlf(data, width=78)
    dns = dns_stub(der, ed25519=("ed", ed_public))
    assert verified(data, dns) == [(b"rsa-sha256", True), (b"ed25519-sha256", True)]
    first, second = re.findall(
        rb"(?m)^DKIM-Signature: v=1; a=[^;]+; c=[^;]+; d=[^;]+; s=[^;]+;", data
    )
    assert first.endswith(b"a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=nl;")
    assert second.endswith(b"a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=ed;")
    h = re.findall(rb" h=([^;]+);", data)
    assert len(h) == 2 and h[0] == h[1] and h[0].count(b"list-unsubscribe:") == 2
    # A forged List-Unsubscribe (or Subject) above ours breaks both; so does a changed body.
    for header in (b"List-Unsubscribe: <https://evil.example/u>", b"Subject: Win a prize"):
        forged = data.replace(b"\r\nFrom:", b"\r\n" + header + b"\r\nFrom:", 1)
        assert verified(forged, dns) == [(b"rsa-sha256", False), (b"ed25519-sha256", False)]
    changed = data.replace(b"You are", b"You were")
    assert verified(changed, dns) == [(b"rsa-sha256", False), (b"ed25519-sha256", False)]
    # The wrong public key in DNS fails the Ed25519 signature alone.
    other = dns_stub(der, ed25519=("ed", ed25519_key()[2]))
    assert verified(data, other) == [(b"rsa-sha256", True), (b"ed25519-sha256", False)]


WHERE = "pyproject.toml:9: [tool.newsletter.send.dkim]"
ED25519_FIX = (
    "the key is not an Ed25519 private key (unencrypted PEM, or the base64 seed dknewkey "
    "writes). Make one with: openssl genpkey -algorithm ed25519 -out dkim-ed25519.pem"
)


@pytest.mark.parametrize(
    "key,message",
    [
        (b"not a key", f"{WHERE} ed25519_key_env: {ED25519_FIX}"),
        (b"c2hvcnQ=", f"{WHERE} ed25519_key_env: {ED25519_FIX}"),  # base64, but 5 bytes
        ("rsa", f"{WHERE} ed25519_key_env: {ED25519_FIX}"),
        (
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            f"{WHERE} ed25519_key_env: {ED25519_FIX}",
        ),
    ],
    ids=["text", "short seed", "an RSA key", "broken PEM"],
)
def test_a_bad_ed25519_key_is_one_line_naming_the_setting(key, message):
    pem, _ = rsa_key()
    if key == "rsa":
        key = pem
    with pytest.raises(NewsletterError) as info:
        Signer("example.org", "nl", pem, WHERE, ("ed", key, "ed25519_key_env"))
    assert info.value.message == message


def test_an_ed25519_key_where_the_rsa_key_goes_says_where_it_belongs():
    ed_pem, _, _ = ed25519_key()
    with pytest.raises(NewsletterError) as info:
        Signer("example.org", "nl", ed_pem, WHERE)
    assert info.value.message == (
        f"{WHERE} the DKIM key must be an RSA key of 1024 bits or more (2048 advised); "
        "an Ed25519 key goes in ed25519_key_env or ed25519_key_file."
    )


def test_ed25519_keys_load_by_the_rsa_key_rules(project, tmp_path, monkeypatch):
    pem, _ = rsa_key()
    ed_pem, ed_seed, _ = ed25519_key()
    where = "pyproject.toml: [tool.newsletter.send.dkim]"
    monkeypatch.setenv("DKIM_KEY", pem.decode())
    (project / "ed.pem").write_bytes(ed_pem)
    inside = Dkim("nl", key_env="DKIM_KEY", ed25519_selector="ed", ed25519_key_file="ed.pem")
    with pytest.raises(NewsletterError) as info:
        load_signer(inside, project, "example.org", where)
    assert info.value.message == (
        f"{where} ed25519_key_file {project / 'ed.pem'} is inside the project folder. Keep keys "
        "out of the repository: move it (e.g. to ~/.config/newsletter/) or use ed25519_key_env."
    )
    outside = tmp_path / "keys" / "ed.key"
    outside.parent.mkdir()
    outside.write_bytes(ed_seed + b"\n")  # as dknewkey writes it
    dkim_table = Dkim(
        "nl", key_env="DKIM_KEY", ed25519_selector="ed", ed25519_key_file=str(outside)
    )
    signer = load_signer(dkim_table, project, "example.org", where)
    assert signer is not None and [k.algorithm for k in signer.keys] == [
        "rsa-sha256",
        "ed25519-sha256",
    ]
    monkeypatch.setenv("DKIM_ED25519", ed_pem.decode().replace("\n", "\\n"))  # as CI stores it
    by_env = Dkim("nl", key_env="DKIM_KEY", ed25519_selector="ed", ed25519_key_env="DKIM_ED25519")
    assert [k.selector for k in load_signer(by_env, project, "x.org", where).keys] == ["nl", "ed"]
    monkeypatch.setenv("DKIM_ED25519", "")
    with pytest.raises(NewsletterError) as info:
        load_signer(by_env, project, "x.org", where)
    assert info.value.message == (
        f"{where} ed25519_key_env DKIM_ED25519 is empty. "
        "Export the private key in that environment variable."
    )


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


def test_both_signatures_verify_as_received_and_dry_run_shows_each(
    project, monkeypatch, smtp, tmp_path
):
    pem, der = rsa_key(2048)
    ed_pem, _, ed_public = ed25519_key()
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    monkeypatch.setenv("DKIM_KEY", pem.decode())
    monkeypatch.setenv("DKIM_ED25519_KEY", ed_pem.decode())
    table = '[tool.newsletter.send.dkim]\nselector = "nl"\nkey_env = "DKIM_KEY"\n'
    table += 'ed25519_selector = "ed"\ned25519_key_env = "DKIM_ED25519_KEY"\n'
    built(project, settings=table)
    add_contacts(project, 2)
    dry = cli(project, "send", "2026-Q4", "--dry-run")
    assert dry.exit_code == 0, dry.output
    shown = re.findall(r"(?m)^DKIM-Signature: v=1; a=[^;]+; c=[^;]+; d=[^;]+; s=[^;]+;", dry.output)
    assert shown == [
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=nl;",
        "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=ed;",
    ]
    result = smtp_send(project, smtp.port)
    assert result.exit_code == 0, result.output
    dns = dns_stub(der, ed25519=("ed", ed_public))
    assert len(smtp.messages) == 2
    for received in smtp.messages:
        assert verified(received.data, dns) == [(b"rsa-sha256", True), (b"ed25519-sha256", True)]
    assert "PRIVATE KEY" not in dry.output + result.output
