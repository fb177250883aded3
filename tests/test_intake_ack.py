"""newsletter.intake.ack: the acknowledgement of a contribution, a one-off copy through the
house's sender (the outbox here, SMTP on 127.0.0.1 in test_intake_run and test_intake_web)."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from helpers import SECRET, make_issue

from newsletter.config import load_settings
from newsletter.intake.ack import acknowledge


@pytest.mark.parametrize(
    ("name", "dropped", "greeting", "attachments"),
    [
        ("Jane Doe", 0, "Dear Jane Doe,", False),
        ("", 2, "Hello,", True),
    ],
)
def test_the_acknowledgement_names_the_title_and_the_issue_and_enters_no_ledger(
    project, monkeypatch, name, dropped, greeting, attachments
):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    folder = make_issue(project)
    title = "Toolkit %%UNSUBSCRIBE_URL%% {{ x }}"
    assert (
        acknowledge(load_settings(project), folder, "jane@unicef.example", name, title, dropped)
        == ""
    )
    [path] = (project / "mailings" / "ack-2026-Q4").rglob("*.eml")
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["To"] == "jane@unicef.example"
    assert mail["Subject"] == "We received your contribution to The UN-Business Focal Point"
    text = " ".join(mail.get_body(("plain",)).get_content().split())
    assert greeting in text
    assert "for issue 2026-Q4 of The UN-Business Focal Point. The editors will review it" in text
    assert "%%UNSUBSCRIBE_URL%%" not in text and "{{ x }}" not in text  # neutralised
    assert ("2 attachment(s), which we do not keep" in text) is attachments
    assert (
        not (project / "contacts.db").exists()
        or b"ack-" not in (project / "contacts.db").read_bytes()
    )


def test_an_acknowledgement_that_cannot_go_is_one_line_not_an_exception(project):
    folder = make_issue(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + '\n[tool.newsletter.send]\nsender = "nosuch"\n',
        encoding="utf-8",
    )
    why = acknowledge(load_settings(project), folder, "jane@unicef.example", "Jane", "T")
    assert why.startswith("sender 'nosuch': not installed.")
    assert "\n" not in why
