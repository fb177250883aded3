"""Before a send: a fresh, clean build; a passing check; a sender; a secret; a composer.

Everything that can refuse a send refuses here, before a row is written or
a connection opened. ``[tool.newsletter.send]`` was validated with the settings.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publicsuffixlist import PublicSuffixList

from newsletter import tokens
from newsletter.build.pipeline import input_digest
from newsletter.build.report import BuildReport
from newsletter.config import SendSettings, Settings, with_overrides
from newsletter.errors import NewsletterError
from newsletter.issue.load import CheckFailed, load_issue, placeholders
from newsletter.models import Problem
from newsletter.schema import shown
from newsletter.send import headers
from newsletter.send.message import Composer, Layout, id_label
from newsletter.send.senders import SenderSpec, load_sender
from newsletter.send.signing import load_signer
from newsletter.store import Database, reviews

# The outbox never reaches anyone, so a fresh clone can rehearse a send
# without a secret. Links signed with it are useless to a real server.
DEV_SECRET = b"newsletter development secret: outbox rehearsals only"


@dataclass(frozen=True)
class Prepared:
    """A send that passed every check: what the run and the test sends need."""

    settings: Settings
    issue_id: str
    folder: Path
    config: SendSettings
    spec: SenderSpec
    composer: Composer
    secret: bytes
    dev_secret: bool  # the outbox rehearsal secret is in use
    mail_from: str  # the envelope sender, or its template with {token} (a signed return path)
    # Example texts of `newsletter new` still in the issue: a warning for a test send,
    # a dry run or the outbox; a real send has refused.
    placeholders: tuple[Problem, ...] = ()
    # A mailing that is not an issue (a directory round, a welcome): who it is for
    # (None: every subscribed contact), whether completing it publishes anything,
    # and the values of the other markers, per contact (models.PLACEHOLDERS).
    audience: tuple[int, ...] | None = None
    publishes: bool = True
    fields: Mapping[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def envelope_sender(self, contact_id: int) -> str:
        """MAIL FROM for ``contact_id``'s message: with ``{token}`` in the return path,
        signed for this contact and issue, so a bounce names its delivery (VERP)."""
        return tokens.return_address(self.mail_from, self.secret, contact_id, self.issue_id)


def check_build(settings: Settings, folder: Path) -> BuildReport:
    """The build report, or a NewsletterError when the build is missing, failing or stale."""
    rel, build = f"issues/{folder.name}", folder / "build"
    report = BuildReport.read(folder)
    if report is None or not all((build / n).is_file() for n in ("email.html", "email.txt")):
        raise NewsletterError(
            f"{rel}/build: no complete build to send. Run: newsletter build {folder.name}"
        )
    if not report.ok:
        raise NewsletterError(
            f"{rel}/build/report.json: the build has accessibility or size errors. "
            f"Fix them, then run: newsletter build {folder.name}"
        )
    if report.inputs != input_digest(settings, folder):
        raise NewsletterError(
            f"{rel}/build: older than its inputs (files changed since the last build). "
            f"Run: newsletter build {folder.name}"
        )
    return report


def check_approval(settings: Settings, db: Database, folder: Path) -> None:
    """Under ``approval = "required"``: a NewsletterError unless a reviewer approved the
    current build (its input digest); a rebuild that changed anything voids an approval."""
    if settings.approval != "required":
        return
    report = check_build(settings, folder)
    issue_id, rel = folder.name, f"issues/{folder.name}/build"
    rows = reviews.entries(db, issue_id)
    if any(r.kind == reviews.APPROVAL and r.digest == report.inputs for r in rows):
        return
    asked = list(dict.fromkeys(r.reviewer for r in rows if r.kind == reviews.LINK))
    who = f"{', '.join(asked)} must approve" if asked else "Ask a reviewer to approve"
    fix = f"newsletter review {issue_id} --to {asked[0] if asked else 'name@example.org'}"
    old = [r for r in rows if r.kind == reviews.APPROVAL]
    if old:
        raise NewsletterError(
            f"{rel}: changed since {old[-1].reviewer} approved it on {old[-1].at[:10]}, so that "
            f'approval is void (approval = "required"). {who} this build: {fix}'
        )
    raise NewsletterError(f'{rel}: not approved, and approval = "required". {who} it first: {fix}')


def secret_for(spec: SenderSpec) -> tuple[bytes, bool]:
    """NEWSLETTER_SECRET; the development secret only for a sender that delivers nothing."""
    try:
        return tokens.secret_from_env(), False
    except NewsletterError as exc:
        if spec.delivers:
            raise NewsletterError(
                f"sender {spec.name} delivers real mail, so: {exc.message}"
            ) from None
        return DEV_SECRET, True


def list_id(settings: Settings, domain: str) -> str:
    """List-Id: the configured one, or the newsletter's name and a label under its domain."""
    where = settings.where("list_id")
    value = headers.check(settings.list_id, where, "list_id")
    if not value:
        label = re.sub(r"[^a-z0-9]+", "-", settings.name.lower()).strip("-") or "newsletter"
        value = f"{settings.name} <{label}.{domain}>"
    phrase, _, ident = value.rpartition("<")
    ident = ident.rstrip(">").strip()
    if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", ident):
        raise NewsletterError(f'{where} must look like "Name <label.example.org>".')
    return headers.mailbox(phrase.strip(), ident)


# What may appear in a URL inside List-Unsubscribe's angle brackets: printable
# ASCII less space, quotes, "<", ">" and the comma that separates the entries.
_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+;=%-]+")


def unsubscribe_base(settings: Settings, delivers: bool) -> str:
    """``web_url`` + "/unsubscribe/", once it is safe to put in a header.

    web_url goes into List-Unsubscribe verbatim, so a line break or ">" in it
    would add a header to every message. Mailbox providers honour one-click
    unsubscribe only over HTTPS, so real mail needs an https:// URL.
    """
    where = settings.where("web_url")
    url = settings.web_url
    if not _URL.fullmatch(url):
        raise NewsletterError(
            f"{where} {shown(url)} cannot go in the List-Unsubscribe header: use a plain ASCII URL "
            "without spaces, quotes, commas, < > or line breaks (percent-encode the rest)."
        )
    if delivers and not url.startswith("https://"):
        raise NewsletterError(
            f"{where} must start with https:// for a sender that delivers real mail: "
            "mailbox providers only honour one-click unsubscribe links over HTTPS."
        )
    return f"{url}/unsubscribe/"


@functools.cache
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List that ships inside ``publicsuffixlist``: read once, never fetched."""
    return PublicSuffixList()


def _plain(domain: str) -> str:
    """A domain as DNS compares it: ASCII (IDNA), lower case, no trailing dot."""
    return domain.rstrip(".").encode("idna").decode("ascii").lower()


def organisational_domain(domain: str) -> str:
    """DMARC's organisational domain (RFC 7489 3.2): the public suffix and one label more.

    ``mail.example.co.uk`` gives ``example.co.uk``. A name that is itself a
    public suffix (``co.uk``) has none, and stands for itself.
    """
    name = _plain(domain)
    try:  # an IP address has no suffix: "192.0.2.1" must not share "2.1" with 10.9.2.1
        return str(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return _suffixes().privatesuffix(name) or name


def aligned(from_domain: str, other: str, mode: str) -> bool:
    """Whether ``other`` is aligned with ``from_domain`` for DMARC (RFC 7489 3.1).

    "strict": the same domain; "relaxed": the same organisational domain; "off": always.
    """
    if mode == "off":
        return True
    if mode == "strict":
        return _plain(from_domain) == _plain(other)
    return organisational_domain(from_domain) == organisational_domain(other)


def check_alignment(
    settings: Settings, config: SendSettings, from_domain: str, return_path: str
) -> None:
    """Refuse a DKIM domain or a return path whose domain is not aligned with From's.

    DMARC passes when either one aligns, but each alone breaks somewhere: SPF
    when a message is forwarded, DKIM when a list server changes it. So each
    configured domain must align, unless ``dmarc_alignment = "off"`` says the
    provider aligns the mail itself. Both default to from_address's domain.
    """
    mode = config.dmarc_alignment
    dkim_domain = config.dkim.domain if config.dkim and config.dkim.domain else ""
    rp_domain = return_path.rpartition("@")[2]  # the local part may hold a VERP {token}
    dkim_ok = not dkim_domain or aligned(from_domain, dkim_domain, mode)
    spf_ok = aligned(from_domain, rp_domain, mode)
    if dkim_ok and spf_ok:
        return
    if not dkim_ok:
        where, value, domain = settings.where("domain", "send.dkim"), dkim_domain, dkim_domain
        fix, rests = "Sign with", "SPF alone, which fails once a message is forwarded"
        subject = f"{where} {shown(value)} is"
    else:
        where, value, domain = settings.where("return_path", "send"), return_path, rp_domain
        fix, rests = (
            "Use a return path at",
            "DKIM alone, which fails once a mailing list edits a message",
        )
        subject = f"{where} {shown(value)} is at {domain}, which is"
    if not spf_ok and not (config.dkim and dkim_ok):  # nothing we send aligns
        consequence = "every message would fail DMARC (and be refused under p=reject)"
    else:
        consequence = f"DMARC would rest on {rests}"
    if mode == "strict":
        what = f"not the From domain {from_domain} (dmarc_alignment is strict)"
        target = from_domain
    else:
        what = f"not aligned with the From domain {from_domain}"
        target = f"a domain under {organisational_domain(from_domain)}"
    if aligned(from_domain, domain, "relaxed"):  # strict, and only strict, refused it
        way_out = 'dmarc_alignment = "relaxed" in [tool.newsletter.send]'
    else:
        way_out = (
            'dmarc_alignment = "off" in [tool.newsletter.send] if your provider aligns the '
            "mail for you"
        )
    raise NewsletterError(f"{subject} {what}: {consequence}. {fix} {target}, or set {way_out}.")


def check_placeholders(folder: Path, spec: SenderSpec, rehearsal: bool) -> tuple[Problem, ...]:
    """The example texts left in the issue; a NewsletterError naming the first when the
    send is real (a sender that delivers, not a test send or a dry run)."""
    left = tuple(placeholders(folder))
    if left and spec.delivers and not rehearsal:
        first = left[0]
        more = f" See all {len(left)}: newsletter check {folder.name}." if len(left) > 1 else ""
        raise NewsletterError(f"{first.path}:{first.line}: {first.message}{more}")
    return left


@dataclass(frozen=True)
class Mailing:
    """A mailing that is not an issue, made by a stage (a directory round, a welcome):
    its ledger key, its folder (the outbox writes under it), its subject and bodies
    with the markers in, and who it is for, with their own markers' values."""

    id: str  # the ledger key: models.ISSUE_ID
    folder: Path
    subject: str
    text: str
    html: str
    audience: tuple[int, ...]
    fields: Mapping[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def prepare(
    settings: Settings,
    folder: Path,
    sender: str | None = None,
    options: dict[str, str] | None = None,
    rehearsal: bool = False,
    **overrides: Any,
) -> Prepared:
    """Check everything a send needs; raise NewsletterError naming the first problem.

    ``rehearsal``: a test send or a dry run, which may go ahead with placeholders left.
    """
    issue_id = folder.name
    check_build(settings, folder)
    issue, problems = load_issue(settings, folder)
    if issue is None:
        raise CheckFailed(issue_id, problems, "nothing was sent")
    config = with_overrides(settings.send, **overrides)
    spec = load_sender(sender or config.sender, options or {}, settings, issue_id, folder)
    left = check_placeholders(folder, spec, rehearsal)
    headers.check(issue.subject, f"issues/{issue_id}/issue.toml", "subject")
    build = folder / "build"
    text = (build / "email.txt").read_text(encoding="utf-8")
    html_body = (build / "email.html").read_text(encoding="utf-8")
    made = _assemble(settings, issue_id, folder, config, spec, issue.subject, text, html_body)
    return dataclasses.replace(made, placeholders=left)


def prepare_mailing(
    settings: Settings,
    mailing: Mailing,
    sender: str | None = None,
    options: dict[str, str] | None = None,
    **overrides: Any,
) -> Prepared:
    """``prepare`` for a mailing a stage made: the same checks of the sender, the
    addresses and the secret, the same composer; completing it publishes nothing."""
    config = with_overrides(settings.send, **overrides)
    spec = load_sender(sender or config.sender, options or {}, settings, mailing.id, mailing.folder)
    headers.check(mailing.subject, mailing.id, "subject")
    made = _assemble(
        settings,
        mailing.id,
        mailing.folder,
        config,
        spec,
        mailing.subject,
        mailing.text,
        mailing.html,
    )
    return dataclasses.replace(
        made,
        audience=mailing.audience,
        publishes=False,
        fields=mailing.fields,
    )


def _assemble(
    settings: Settings,
    issue_id: str,
    folder: Path,
    config: SendSettings,
    spec: SenderSpec,
    subject: str,
    text: str,
    html_body: str,
) -> Prepared:
    """The checks and the composer every mailing shares, once its bodies are made."""
    secret, dev = secret_for(spec)
    headers.check(settings.from_name, settings.where(), "from_name")
    # Addresses as check_address returns them: an internationalised domain in
    # ASCII (IDNA), since headers and the SMTP envelope are 7-bit. A signed
    # return path passes as it is written: "{" and "}" are address characters,
    # and the settings checked where {token} stands and how long it can get.
    from_address = headers.check_address(settings.from_address, settings.where("from_address"))
    domain = from_address.rpartition("@")[2]
    return_path, unsubscribe = (
        headers.check_address(value, settings.where(key, "send")) if value else from_address
        for key, value in (
            ("return_path", config.return_path),
            ("unsubscribe_address", config.unsubscribe_address),
        )
    )
    check_alignment(settings, config, domain, return_path)
    reply_to = settings.reply_to and headers.check_address(
        settings.reply_to, settings.where("reply_to")
    )
    base = unsubscribe_base(settings, spec.delivers)
    web_url = base.removesuffix("unsubscribe/")
    layout = Layout(
        from_header=headers.mailbox(settings.from_name, from_address),
        subject=subject,
        list_id=list_id(settings, domain),
        unsubscribe_url=base,
        unsubscribe_mailto=unsubscribe,
        feedback_id=f"{id_label(issue_id)}:newsletter:{domain}",
        domain=domain,
        reply_to=reply_to,
        entry_url=f"{web_url}entry/",
        members_url=f"{web_url}members/",
        submit_url=f"{web_url}submit/",
    )
    signer = load_signer(config.dkim, settings.root, domain, settings.where(table="send.dkim"))
    composer = Composer(layout, text, html_body, signer)
    return Prepared(settings, issue_id, folder, config, spec, composer, secret, dev, return_path)
