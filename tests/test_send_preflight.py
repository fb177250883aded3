"""newsletter.send.preflight: what refuses a send before anything is written or sent."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import SECRET, add_contacts, built, cli, ledger_rows, outbox, smtp_args

from newsletter.build.pipeline import input_digest
from newsletter.config import load_settings
from newsletter.errors import NewsletterError
from newsletter.send.headers import check_address
from newsletter.send.preflight import check_alignment, organisational_domain


def test_refuses_a_missing_failing_or_stale_build(project):
    folder = built(project)
    add_contacts(project, 2)
    report = folder / "build" / "report.json"
    saved = report.read_text()
    report.write_text(saved.replace('"ok": true', '"ok": false'))
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "the build has accessibility or size errors" in result.output
    report.write_text(saved)
    (folder / "items" / "item-1.md").write_text("---\ntitle: Changed\n---\nNew text.\n")
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1
    assert "older than its inputs" in result.output and "newsletter build 2026-Q4" in result.output
    # Fresh by digest but failing the check (the item now lacks a section): still refused.
    data = json.loads(saved)
    data["inputs"] = input_digest(load_settings(project), folder)
    report.write_text(json.dumps(data))
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "nothing was sent" in result.output
    report.unlink()
    result = cli(project, "send", "2026-Q4", "--yes")
    assert result.exit_code == 1 and "no complete build to send" in result.output
    assert "Traceback" not in result.output and not outbox(project)


def test_a_real_sender_needs_the_secret(outbox_ready):
    result = cli(
        outbox_ready, "send", "2026-Q4", "--yes", "--sender", "smtp", "-o", "host=127.0.0.1"
    )
    assert result.exit_code == 1
    assert "sender smtp delivers real mail, so: NEWSLETTER_SECRET: not set" in result.output
    assert ledger_rows(outbox_ready) == []


@pytest.mark.parametrize(
    "web_url,sender,message",
    [
        ("https://focalpoint.example.org/a b", "outbox", "cannot go in the List-Unsubscribe"),
        ("https://focalpoint.example.org/a>,<x", "outbox", "cannot go in the List-Unsubscribe"),
        ("https://exämple.org", "outbox", "cannot go in the List-Unsubscribe header"),
        ("http://focalpoint.example.org", "smtp", "must start with https:// for a sender"),
    ],
)
def test_web_url_is_checked_before_it_goes_in_a_header(
    project, monkeypatch, web_url, sender, message
):
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret-0123456789abcdef")
    toml = project / "pyproject.toml"
    toml.write_text(toml.read_text().replace('"https://focalpoint.example.org"', f'"{web_url}"', 1))
    built(project)
    add_contacts(project, 1)
    options = ["-o", "host=127.0.0.1"] if sender == "smtp" else []
    result = cli(project, "send", "2026-Q4", "--yes", "--sender", sender, *options)
    assert result.exit_code == 1 and "[tool.newsletter] 'web_url'" in result.output
    assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(project) == [] and not outbox(project)


# -- DMARC alignment (issue 11, checklist item 20) -------------------------------------


@pytest.mark.parametrize(
    "domain,organisational",
    [
        ("example.org", "example.org"),
        ("Mail.Example.ORG.", "example.org"),  # case and a trailing dot
        ("mail.example.co.uk", "example.co.uk"),  # a suffix of two labels
        ("a.b.mail.example.co.uk", "example.co.uk"),
        ("co.uk", "co.uk"),  # a public suffix has none: it stands for itself
        ("a.b.kawasaki.jp", "a.b.kawasaki.jp"),  # *.kawasaki.jp: b.kawasaki.jp is a suffix
        ("x.city.kawasaki.jp", "city.kawasaki.jp"),  # !city.kawasaki.jp: the exception
        ("news.alice.github.io", "alice.github.io"),  # the list's private section counts
        ("mail.exämple.org", "xn--exmple-cua.org"),  # internationalised: compared in ASCII
        ("a.b.xn--55qx5d.cn", "b.xn--55qx5d.cn"),  # 公司.cn, written in ASCII
        ("192.0.2.1", "192.0.2.1"),  # an address stands only for itself, not "2.1"
        ("[192.0.2.1]", "192.0.2.1"),
    ],
)
def test_the_organisational_domain_comes_from_the_public_suffix_list(domain, organisational):
    assert organisational_domain(domain) == organisational


ALIGN_FIX = 'or set dmarc_alignment = "off" in [tool.newsletter.send] if your provider aligns the mail for you.'
FAILS = "every message would fail DMARC (and be refused under p=reject)"

# (from_address, [send.dkim] domain, return_path, dmarc_alignment) -> the one line, or None.
# {dkim} and {rp} stand for "pyproject.toml:LINE: [tool.newsletter.send...] 'key'".
ALIGNMENT = {
    "defaults": ("news@example.org", "", "", "relaxed", None),
    "subdomains align": ("news@example.org", "mail.example.org", "b@lists.example.org", "", None),
    "two-label suffix": ("news@mail.example.co.uk", "example.co.uk", "b@x.example.co.uk", "", None),
    "case, trailing dot": ("news@Example.ORG", "", "bounces@example.org.", "strict", None),
    "idna": ("news@exämple.org", "mail.exämple.org", "b@EXÄMPLE.org", "", None),
    "verp placeholder": ("news@example.org", "", "bounces+{token}@example.org", "", None),
    "off": ("news@example.org", "esp-example.net", "b@esp-example.net", "off", None),
    "provider dkim domain": (
        "news@example.org",
        "esp-example.net",
        "",
        "",
        "{dkim} 'esp-example.net' is not aligned with the From domain example.org: DMARC would "
        "rest on SPF alone, which fails once a message is forwarded. Sign with a domain under "
        f"example.org, {ALIGN_FIX}",
    ),
    "another domain under the same suffix": (
        "news@example.co.uk",
        "other.co.uk",
        "",
        "",
        "{dkim} 'other.co.uk' is not aligned with the From domain example.co.uk: DMARC would rest "
        "on SPF alone, which fails once a message is forwarded. Sign with a domain under "
        f"example.co.uk, {ALIGN_FIX}",
    ),
    "provider for both": (
        "news@example.org",
        "esp-example.net",
        "bounces@esp-example.net",
        "relaxed",
        f"{{dkim}} 'esp-example.net' is not aligned with the From domain example.org: {FAILS}. "
        f"Sign with a domain under example.org, {ALIGN_FIX}",
    ),
    "provider return path, no dkim": (
        "news@example.org",
        "",
        "bounces+{token}@esp-example.net",
        "",
        "{rp} 'bounces+{token}@esp-example.net' is at esp-example.net, which is not aligned with "
        f"the From domain example.org: {FAILS}. Use a return path at a domain under example.org, "
        f"{ALIGN_FIX}",
    ),
    "provider return path, our dkim": (
        "news@example.org",
        "example.org",
        "bounces@esp-example.net",
        "",
        "{rp} 'bounces@esp-example.net' is at esp-example.net, which is not aligned with the From "
        "domain example.org: DMARC would rest on DKIM alone, which fails once a mailing list "
        f"edits a message. Use a return path at a domain under example.org, {ALIGN_FIX}",
    ),
    "private suffix": (
        "news@alice.github.io",
        "",
        "b@bob.github.io",
        "",
        "{rp} 'b@bob.github.io' is at bob.github.io, which is not aligned with the From domain "
        f"alice.github.io: {FAILS}. Use a return path at a domain under alice.github.io, "
        f"{ALIGN_FIX}",
    ),
    "idna, not aligned": (
        "news@exämple.org",
        "",
        "b@example.org",
        "",
        "{rp} 'b@example.org' is at example.org, which is not aligned with the From domain "
        f"xn--exmple-cua.org: {FAILS}. Use a return path at a domain under xn--exmple-cua.org, "
        f"{ALIGN_FIX}",
    ),
    "two IP addresses": (
        "news@192.0.2.1",
        "",
        "b@10.9.2.1",
        "",
        "{rp} 'b@10.9.2.1' is at 10.9.2.1, which is not aligned with the From domain "
        f"192.0.2.1: {FAILS}. Use a return path at a domain under 192.0.2.1, {ALIGN_FIX}",
    ),
    "strict: a subdomain": (
        "news@example.org",
        "mail.example.org",
        "",
        "strict",
        "{dkim} 'mail.example.org' is not the From domain example.org (dmarc_alignment is "
        "strict): DMARC would rest on SPF alone, which fails once a message is forwarded. Sign "
        'with example.org, or set dmarc_alignment = "relaxed" in [tool.newsletter.send].',
    ),
    "strict: another domain": (
        "news@mail.example.org",
        "",
        "b@esp-example.net",
        "strict",
        "{rp} 'b@esp-example.net' is at esp-example.net, which is not the From domain "
        f"mail.example.org (dmarc_alignment is strict): {FAILS}. Use a return path at "
        f"mail.example.org, {ALIGN_FIX}",
    ),
}


@pytest.mark.parametrize(
    "from_address,dkim_domain,return_path,mode,message", ALIGNMENT.values(), ids=ALIGNMENT
)
def test_dmarc_alignment(project, from_address, dkim_domain, return_path, mode, message):
    path = project / "pyproject.toml"
    text = path.read_text().replace("focalpoint@example.org", from_address)
    text += "\n[tool.newsletter.send]\n"
    text += f'return_path = "{return_path}"\n' if return_path else ""
    text += f'dmarc_alignment = "{mode}"\n' if mode else ""
    if dkim_domain:
        text += f'[tool.newsletter.send.dkim]\nselector = "nl"\ndomain = "{dkim_domain}"\n'
        text += 'key_env = "DKIM_KEY"\n'
    path.write_text(text)
    lines = path.read_text().splitlines()
    settings = load_settings(project)
    from_domain = check_address(from_address, "test").rpartition("@")[2]
    checked_rp = check_address(return_path, "test") if return_path else from_address
    try:
        check_alignment(settings, settings.send, from_domain, checked_rp)
    except NewsletterError as exc:
        found = exc.message
    else:
        found = None
    if message is not None:
        line = {
            k: lines.index(f'{k} = "{v}"') + 1
            for k, v in (("domain", dkim_domain), ("return_path", return_path))
            if v
        }
        message = message.format(
            dkim=f"{path}:{line.get('domain')}: [tool.newsletter.send.dkim] 'domain'",
            rp=f"{path}:{line.get('return_path')}: [tool.newsletter.send] 'return_path'",
            token="{token}",
        )
    assert found == message


def test_send_refuses_a_provider_domain_until_alignment_is_off(outbox_ready, monkeypatch):
    """Issue 11: `send --dry-run` printed d=esp-example.net without a word."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    monkeypatch.setenv("DKIM_KEY", pem.decode())
    path = outbox_ready / "pyproject.toml"
    table = '\n[tool.newsletter.send]\nreturn_path = "bounces@esp-example.net"\n'
    table += '[tool.newsletter.send.dkim]\nselector = "nl"\ndomain = "esp-example.net"\n'
    path.write_text(path.read_text() + table + 'key_env = "DKIM_KEY"\n')
    line = len(path.read_text().splitlines()) - 1
    expected = (
        f"Error: {path}:{line}: [tool.newsletter.send.dkim] 'domain' 'esp-example.net' is not "
        f"aligned with the From domain example.org: {FAILS}. Sign with a domain under "
        f"example.org, {ALIGN_FIX}\n"
    )
    for args in (["--dry-run"], ["--yes"]):
        result = cli(outbox_ready, "send", "2026-Q4", *args)
        assert (result.exit_code, result.output) == (1, expected)
    assert ledger_rows(outbox_ready) == [] and not outbox(outbox_ready)
    # The explicit way out, for a provider that aligns the mail itself.
    rp = 'return_path = "bounces@esp-example.net"\n'
    path.write_text(path.read_text().replace(rp, rp + 'dmarc_alignment = "off"\n'))
    result = cli(outbox_ready, "send", "2026-Q4", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=esp-example.net; s=nl;" in (
        result.output
    )
    result = cli(outbox_ready, "send", "2026-Q4", "--yes")
    assert result.exit_code == 0 and len(outbox(outbox_ready)) == 5, result.output


PLACEHOLDER_LINES = [
    "issues/2027-Q1/issue.toml:7: warning: the preheader is still the example newsletter new "
    "wrote. Write this issue's own; a real send refuses until then.",
    "issues/2027-Q1/intro.md:2: warning: the editor's note is still the example newsletter "
    "new wrote. Write your own; a real send refuses until then.",
    "issues/2027-Q1/items/example.md:2: warning: the item's title is still the example "
    "newsletter new wrote. Write a real item, or delete this file; a real send refuses "
    "until then.",
    "issues/2027-Q1/items/example.md:9: warning: the item's summary is still the example "
    "newsletter new wrote. Write a real item, or delete this file; a real send refuses "
    "until then.",
]


@pytest.fixture
def fresh(project, smtp, monkeypatch):
    """An issue as `newsletter new` made it, built, 2 contacts, the secret set."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    assert cli(project, "new", "2027-Q1").exit_code == 0
    assert cli(project, "build", "2027-Q1").exit_code == 0
    add_contacts(project, 2)
    return project


def test_a_real_send_refuses_while_a_placeholder_remains(fresh, smtp):
    result = cli(fresh, "send", "2027-Q1", "--yes", *smtp_args(smtp.port))
    assert (result.exit_code, result.output) == (
        1,
        "Error: issues/2027-Q1/issue.toml:7: the preheader is still the example newsletter new "
        "wrote. Write this issue's own; a real send refuses until then. See all 4: newsletter "
        "check 2027-Q1.\n",
    )
    assert not smtp.messages and ledger_rows(fresh, "2027-Q1") == []


@pytest.mark.parametrize(
    "args",
    [("--to", "editor@example.org"), ("--dry-run",)],
    ids=["test-send", "dry-run"],
)
def test_a_test_send_or_dry_run_goes_ahead_and_names_each_placeholder(fresh, smtp, args):
    result = cli(fresh, "send", "2027-Q1", *smtp_args(smtp.port), *args)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == PLACEHOLDER_LINES


def test_the_outbox_rehearses_with_placeholders_named(fresh):
    result = cli(fresh, "send", "2027-Q1", "--yes")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "newsletter new" in line] == (
        PLACEHOLDER_LINES
    )
    assert len(outbox(fresh, "2027-Q1")) == 2
