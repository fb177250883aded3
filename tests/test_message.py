"""Composed messages: splicing, encoding, structure, DKIM."""

from __future__ import annotations

import base64
import html
import json
import quopri
import re
from email.header import decode_header, make_header

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import parse

from newsletter.config import Dkim, load_settings
from newsletter.errors import NewsletterError
from newsletter.send.message import Composer, Layout, Recipient, qp, qp_value
from newsletter.send.signing import Signer, load_signer

LAYOUT = Layout(
    from_header="UN Global Compact Office <focalpoint@example.org>",
    subject="The UN-Business Focal Point: test issue",
    list_id="The UN-Business Focal Point <focal-point.example.org>",
    unsubscribe_url="https://focalpoint.example.org/unsubscribe/",
    unsubscribe_mailto="focalpoint@example.org",
    feedback_id="2026-Q4:newsletter:example.org",
    domain="example.org",
    reply_to="partnerships@example.org",
)
TEXT = "Dear %%NAME%%,\n\nYou are %%EMAIL%%.\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n"
HTML = '<p>Dear %%NAME%%,</p><p>%%EMAIL%%</p><a href="%%UNSUBSCRIBE_URL%%">Unsubscribe</a>\n'
NAMES = [
    "",
    "Jane Doe",
    "José Núñez-Ávila",
    '<b>Tom & "Jerry"</b>',
    "%%EMAIL%%",
    ".dot",
    "From here",
    "A" * 300,
    "李小龍 " * 30,
    "trailing space ",
    "tab\there",
    "= sign =3D",
]


def recipient(name: str = "Jane Doe", email: str = "jane@example.org") -> Recipient:
    return Recipient(email, name, "<2026-Q4.abc@example.org>", "MTo.token")


def decoded(body: bytes) -> str:
    return quopri.decodestring(body).decode("utf-8")


def check_7bit_crlf(data: bytes, width: int = 998) -> None:
    assert all(b < 128 for b in data)
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= width


def test_quoted_printable_round_trips_with_short_lines(corpus):
    strings = json.loads((corpus / "contacts" / "blns" / "blns.json").read_text("utf-8"))
    strings += [".leading dot", "From the top", "x" * 500, "a=b " * 40, "é" * 200, "end \t"]
    for s in strings:
        text = s.replace("\r\n", "\n").replace("\r", "\n") + "\n"
        encoded = qp(text)
        assert decoded(encoded).replace("\r\n", "\n") == text
        check_7bit_crlf(encoded, width=76)
        lines = encoded.split(b"\r\n")
        assert not any(line.startswith((b".", b"From ")) for line in lines)
        value = qp_value(s.replace("\r", " ").replace("\n", " "))
        assert value == b"" or value.endswith(b"=\r\n")
        check_7bit_crlf(value, width=76)


@pytest.mark.parametrize("name", NAMES)
def test_values_are_spliced_at_every_column(name):
    # A marker at every column of a 76-character line: a soft break never splits one.
    text = "".join("x" * k + "%%NAME%% %%EMAIL%%\n" for k in range(90))
    composer = Composer(LAYOUT, text, text.replace("\n", "<br>\n"), None)
    data = composer.compose(recipient(name))
    check_7bit_crlf(data, width=78)
    msg = parse(data)
    plain, rich = (p.get_content().replace("\r\n", "\n") for p in msg.iter_parts())
    shown = name or "colleague"
    assert plain == "".join("x" * k + f"{shown} jane@example.org\n" for k in range(90))
    assert rich == "".join(
        "x" * k + f"{html.escape(shown)} jane@example.org<br>\n" for k in range(90)
    )
    assert "%%" not in plain.replace(shown, "")


def test_structure_and_headers():
    data = Composer(LAYOUT, TEXT, HTML, None).compose(recipient("Zoë O'Brien"))
    check_7bit_crlf(data, width=78)
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":")[0] for line in head.split("\r\n") if not line.startswith(" ")]
    assert names == [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Id",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Feedback-ID",
        "Reply-To",
        "MIME-Version",
        "Content-Type",
    ]
    msg = parse(data)
    assert msg["To"].addresses[0].display_name == "Zoë O'Brien"
    assert msg["List-Unsubscribe"] == (
        "<https://focalpoint.example.org/unsubscribe/MTo.token>, "
        "<mailto:focalpoint@example.org?subject=unsubscribe%20MTo.token>"
    )
    text, rich = msg.iter_parts()
    assert text.get_content() == (
        "Dear Zoë O'Brien,\r\n\r\nYou are jane@example.org.\r\n"
        "Unsubscribe: https://focalpoint.example.org/unsubscribe/MTo.token\r\n"
    )
    assert "Dear Zoë O&#x27;Brien," in rich.get_content()
    assert re.search(r"^Date: \w{3}, \d+ \w{3} \d{4} [\d:]{8} [+-]\d{4}\r?$", head, re.M)


def test_non_ascii_subject_and_long_names_are_encoded_and_folded():
    layout = Layout(**{**LAYOUT.__dict__, "subject": "Les nouvelles du réseau — édition " * 3})
    composer = Composer(layout, TEXT, HTML, None)
    data = composer.compose(recipient("Ана-Мария " * 12), subject_prefix="[TEST] ")
    check_7bit_crlf(data, width=76)
    msg = parse(data)
    assert msg["Subject"] == "[TEST] " + layout.subject
    assert msg["To"].addresses[0].addr_spec == "jane@example.org"


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
    assert signed.count("from") == 2 and signed.count("subject") == 2  # over-signed
    # Any change breaks it: the body, a header, or an added Subject.
    assert not dkim.verify(data.replace(b"You are", b"You were"), dnsfunc=dns_stub(der))
    assert not dkim.verify(
        data.replace(b"Feedback-ID: 2026", b"Feedback-ID: 2027"), dnsfunc=dns_stub(der)
    )
    forged = data.replace(b"\r\nFrom:", b"\r\nSubject: Win a prize\r\nFrom:", 1)
    assert not dkim.verify(forged, dnsfunc=dns_stub(der))


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


DKIM_TABLES = {
    "no key": ('selector = "nl"', "needs exactly one of 'key_env'"),
    "both keys": ('selector = "nl"\nkey_env = "K"\nkey_file = "/k"', "needs exactly one of"),
    "typo": ('selector = "nl"\nkeyfile = "x"', "unknown key 'keyfile'"),
    "no selector": ('key_env = "K"', "'selector' is missing or empty"),
    # Both go into the DKIM-Signature header as they are: DNS names, in ASCII.
    "header in selector": (
        'selector = "nl\\r\\nBcc: x@y.org"\nkey_env = "K"',
        "selector 'nl\\u000d\\u000aBcc: x@y.org' is more than one line",
    ),
    "not a DNS name": (
        'selector = "nl"\ndomain = "x.org; s=evil"\nkey_env = "K"',
        "domain 'x.org; s=evil' is not a DNS name",
    ),
}


@pytest.mark.parametrize("table,message", DKIM_TABLES.values(), ids=DKIM_TABLES)
def test_the_dkim_table_is_checked_with_the_settings(project, table, message):
    path = project / "pyproject.toml"
    path.write_text(path.read_text() + "\n[tool.newsletter.send.dkim]\n" + table + "\n")
    with pytest.raises(NewsletterError) as info:
        load_settings(project)
    assert info.value.message.startswith(f"{path}:")
    assert "[tool.newsletter.send.dkim]" in info.value.message and message in info.value.message


def test_an_international_dkim_domain_is_signed_in_ascii(project):
    path = project / "pyproject.toml"
    table = '[tool.newsletter.send.dkim]\nselector = "nl"\ndomain = "exämple.org"\nkey_env = "K"\n'
    path.write_text(path.read_text() + "\n" + table)
    assert load_settings(project).send.dkim == Dkim("nl", "xn--exmple-cua.org", "K", "")


@pytest.mark.parametrize(
    "name",
    [
        "Maria Concepción Fernández de la Rodríguez y Villanueva-Santos",
        "Anne-Marie Dupont-Lefèvre (UNICEF, Geneva)",
        "Wolfeschlegelsteinhausenbergerdorff " * 6 + "Jr.",
        "Doe, Jane " * 8 + "(UNDP)",
        "van der Berg-Müller",
    ],
)
def test_long_display_names_fold_and_read_back_exactly(name):
    # Two encoded words side by side lose the space between them (RFC 2047), and
    # Python's address parser wrongly shows one: so atoms stay atoms, and only a
    # run of words that need encoding is encoded, spaces inside.
    data = Composer(LAYOUT, TEXT, HTML, None).compose(recipient(name))
    head = data.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 76
    assert parse(data)["To"].addresses[0].display_name == name
    to = re.search(rb"^To: (.*?)\r\n(?! )", head, re.M | re.S)[1].replace(b"\r\n", b"")
    phrase = str(make_header(decode_header(to.decode().rsplit(" <", 1)[0])))
    assert phrase.strip('"').replace('\\"', '"') == name  # as a standards reader sees it
