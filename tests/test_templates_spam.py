"""templates/: SpamAssassin's local rules score the sample issue's real messages 0 or below.

The shipped sample issue is built and sent through the outbox, plain and
DKIM-signed, exactly as `send` writes them, and each message is scored by
Debian's `spamassassin` with local tests only (`-L`: no DNS blocklists, no
DKIM key lookup, no Razor or Pyzor) and Bayes off, since a learned database
would make the score depend on the machine. Found: MJML's <mj-preview> hides
the preheader in white text on our light page, which fires
HTML_FONT_LOW_CONTRAST (0.7).
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import REPO, SECRET, add_contacts, cli, new_project

SPAMASSASSIN = shutil.which("spamassassin")

pytestmark = pytest.mark.skipif(
    SPAMASSASSIN is None,
    reason="SpamAssassin not found (Debian: apt-get install spamassassin; .ci/run installs it)",
)

PEOPLE = [
    {"email": "jose.nunez@unicef.example.org", "name": "José Núñez"},
    {"email": "focal.point@ilo.example.org", "name": ""},  # greeted as "colleague"
]


def dkim_settings(folder: Path) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "dkim.pem").write_bytes(pem)
    return f'\n[tool.newsletter.send.dkim]\nselector = "nl"\nkey_file = "{folder / "dkim.pem"}"\n'


def sample_messages(root: Path, signed: bool) -> list[Path]:
    """The sample issue, built and sent to PEOPLE through the outbox: its .eml files."""
    project = new_project(root / "project")
    shutil.copytree(
        REPO / "issues" / "2026-Q4",
        project / "issues" / "2026-Q4",
        ignore=shutil.ignore_patterns("build", "outbox"),
    )
    if signed:
        keys = root / "keys"
        keys.mkdir()
        with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
            fh.write(dkim_settings(keys))
    result = cli(project, "build", "2026-Q4")
    assert result.exit_code == 0, result.output
    add_contacts(project, PEOPLE)
    result = cli(project, "send", "2026-Q4", "--yes", env={"NEWSLETTER_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    files = sorted((project / "issues" / "2026-Q4" / "outbox").glob("*.eml"))
    assert len(files) == len(PEOPLE)
    assert all(f.read_bytes().startswith(b"DKIM-Signature: ") == signed for f in files)
    return files


def score(message: Path, home: Path) -> tuple[float, list[str], str]:
    """SpamAssassin's score, the rules that fired, and its report, for one message."""
    run = subprocess.run(
        [SPAMASSASSIN or "spamassassin", "-L", "-t", "--cf=use_bayes 0"],
        input=message.read_bytes(),
        capture_output=True,
        check=True,
        timeout=120,
        # Its own HOME: no user preferences, Bayes or address lists of this machine.
        env={**os.environ, "HOME": str(home)},
    )
    out = run.stdout.decode("utf-8", "replace")
    status = email.message_from_string(out)["X-Spam-Status"] or ""
    found = re.search(r"score=(-?[\d.]+).*?tests=([\w,\s]*?)\s+autolearn", status, re.S)
    assert found, out[:2000]
    rules = [r for r in re.split(r"[,\s]+", found[2]) if r]
    report = out[out.find("Content analysis details") :]
    return float(found[1]), rules, report


@pytest.mark.parametrize("signed", [False, True], ids=["plain", "dkim"])
def test_the_sample_issue_scores_zero_or_below(tmp_path, signed):
    home = tmp_path / "home"
    home.mkdir()
    for message in sample_messages(tmp_path, signed):
        points, rules, report = score(message, home)
        assert points <= 0, f"{message.name} scored {points}:\n{report}"
        assert "HTML_FONT_LOW_CONTRAST" not in rules and "HTML_MESSAGE" in rules, rules
