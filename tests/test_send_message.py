"""newsletter.send.message: composed messages: splicing, encoding, structure, Message-IDs."""

from __future__ import annotations

import html
import json
import quopri
import re
from email.header import decode_header, make_header

import pytest
from helpers import (
    HTML,
    LAYOUT,
    SECRET,
    TEXT,
    add_contacts,
    built,
    check_7bit_crlf,
    cli,
    ledger_rows,
    make_issue,
    parse,
    recipient,
    smtp_send,
)

from newsletter.build.pipeline import build
from newsletter.build.render import fit
from newsletter.config import load_settings
from newsletter.send.message import Composer, Layout, qp, qp_value

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


def decoded(body: bytes) -> str:
    return quopri.decodestring(body).decode("utf-8")


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
    # In the text part the line is laid out again with the values in (render.fit).
    text = "".join("x" * k + "%%NAME%% %%EMAIL%%\n" for k in range(90))
    composer = Composer(LAYOUT, text, text.replace("\n", "<br>\n"), None)
    data = composer.compose(recipient(name))
    check_7bit_crlf(data, width=78)
    msg = parse(data)
    plain, rich = (p.get_content().replace("\r\n", "\n") for p in msg.iter_parts())
    shown = name or "colleague"
    assert plain == "".join(fit("x" * k + f"{shown} jane@example.org") + "\n" for k in range(90))
    assert max(map(len, plain.splitlines())) <= 78
    assert rich == "".join(
        "x" * k + f"{html.escape(shown)} jane@example.org<br>\n" for k in range(90)
    )
    assert "%%" not in rich.replace(html.escape(shown), "")  # the exact plain part holds none


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


def test_an_issue_id_any_folder_name_makes_valid_message_ids(project):
    # The CLI only makes plain IDs, but a folder made by hand may hold anything.
    issue_id = "Q4 2026 <é>"
    folder = make_issue(project, issue_id)  # the ID is not YYYY-Qn: give a window
    toml = folder / "issue.toml"
    toml.write_text(toml.read_text() + "window = { from = 2026-10-01, to = 2026-12-31 }\n")
    assert build(load_settings(project), folder).ok
    add_contacts(project, [{"email": "a@example.org", "name": " "}])
    result = cli(project, "send", issue_id, "--yes")
    assert result.exit_code == 2
    assert "not a valid issue ID" in result.output
    result = cli(project, "send", "Special_Edition.2026", "--yes")
    assert "not a valid issue ID" not in result.output
    from newsletter.send.message import id_label, new_message_id

    assert id_label(issue_id) == "Q4-2026"
    assert re.fullmatch(
        r"<Q4-2026\.[0-9a-f]{16}@example\.org>", new_message_id(issue_id, "example.org")
    )


def test_a_blank_name_is_no_name(project):
    folder = make_issue(project, "2026-Q4")
    assert build(load_settings(project), folder).ok
    add_contacts(project, [{"email": "a@example.org", "name": " "}])
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0 and "Sent 1 via outbox" in result.output, result.output
    (file,) = (project / "issues" / "2026-Q4" / "outbox").glob("*.eml")
    msg = parse(file.read_bytes())
    assert re.fullmatch(r"<2026-Q4\.[0-9a-f]{16}@example\.org>", msg["Message-ID"])
    assert msg["Feedback-ID"] == "2026-Q4:newsletter:example.org"
    assert ledger_rows(project, "2026-Q4")[0]["message_id"] == msg["Message-ID"]
    # A blank name is no name: no empty phrase in To, "colleague" in the greeting.
    assert msg["To"] == "a@example.org"
    assert "Dear colleague," in msg.get_body(("plain",)).get_content()


def test_the_greeting_from_the_settings_greets_each_recipient_once(project):
    """The house greeting, written once; a contact without a name is "colleague"."""
    path = project / "pyproject.toml"
    path.write_text(
        path.read_text().replace(
            "[tool.newsletter]\n", '[tool.newsletter]\ngreeting = "Hello {name}!"\n'
        )
    )
    folder = make_issue(project, "2026-Q4")
    (folder / "intro.md").write_text("Welcome.\n")
    assert build(load_settings(project), folder).ok
    add_contacts(
        project, [{"email": "a@example.org", "name": ""}, {"email": "b@example.org", "name": "Bo"}]
    )
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0, result.output
    seen = {}
    for file in (project / "issues" / "2026-Q4" / "outbox").glob("*.eml"):
        msg = parse(file.read_bytes())
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        seen[msg["To"]] = [line for line in text.splitlines() if line.startswith("Hello")]
        assert html.count("Hello ") == 1 and "Dear" not in text + html
    assert seen == {"a@example.org": ["Hello colleague!"], "Bo <b@example.org>": ["Hello Bo!"]}


def test_internationalised_sending_domain_goes_out_in_ascii(project, monkeypatch, smtp):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    toml = project / "pyproject.toml"
    text = toml.read_text().replace("focalpoint@example.org", "focalpoint@exämple.org")
    toml.write_text(text.replace("partnerships@example.org", "partners@exämple.org"))
    built(project, settings='[tool.newsletter.send]\nreturn_path = "bounces@exämple.org"\n')
    add_contacts(project, 2)
    result = smtp_send(project, smtp.port)
    assert result.exit_code == 0 and "Sent 2 via smtp" in result.output, result.output
    for received in smtp.messages:
        assert received.mail_from == "bounces@xn--exmple-cua.org"
        msg = parse(received.data)
        assert msg["From"].addresses[0].addr_spec == "focalpoint@xn--exmple-cua.org"
        assert msg["Reply-To"] == "partners@xn--exmple-cua.org"
        assert msg["Message-ID"].endswith("@xn--exmple-cua.org>")
        assert msg["List-Id"].endswith("<the-un-business-focal-point.xn--exmple-cua.org>")
        assert msg["Feedback-ID"] == "2026-Q4:newsletter:xn--exmple-cua.org"


def test_the_text_part_keeps_78_columns_after_the_address_is_put_in(project):
    """Issue 11: the address went into a wrapped sentence, giving lines of up to 90."""
    folder = make_issue(project, "2026-Q4")
    assert build(load_settings(project), folder).ok
    long = "firstname.middlename.lastname@partnerships-office.unicef.example.org"
    add_contacts(project, [{"email": long, "name": "Jane Doe"}])
    assert cli(project, "send", "2026-Q4", "--yes").exit_code == 0
    (file,) = (project / "issues" / "2026-Q4" / "outbox").glob("*.eml")
    text = parse(file.read_bytes()).get_body(("plain",)).get_content()
    lines = text.splitlines()
    assert long in lines  # on a line of its own
    for line in lines:
        assert len(line) <= 78 or line == long or "https://" in line, line
    assert "-- " in lines  # the signature separator mail readers recognise
