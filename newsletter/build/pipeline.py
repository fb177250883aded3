"""Build: check the issue, render every output, audit it, write it atomically.

Reads top to bottom like mkdocs' ``build()``: load → Jinja → MJML → text →
web → audit (and a look at each picture) → write. Nothing is written unless
the check passes, and each file lands by rename, so ``build/`` never holds a
half-written file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter import tokens
from newsletter.build import readership, render, report
from newsletter.build.pictures import check_pictures
from newsletter.build.report import BuildReport
from newsletter.config import Settings
from newsletter.contacts.directory import Directory, directory_source
from newsletter.download import user_agent
from newsletter.errors import NewsletterError
from newsletter.files import cannot_write, check_folder, write_files
from newsletter.issue.load import CheckFailed, load_issue
from newsletter.models import Issue, Problem

# What gives the directory for a loaded issue (contacts.directory.directory_for,
# bound to a database): the issue's date decides which changes are new.
DirectorySource = Callable[[Issue], Directory]

# The largest email.html that keeps the full directory: Gmail clips above
# report.MAX_KB, and sending adds a few hundred bytes of per-recipient values.
EMAIL_BUDGET = (report.MAX_KB - 2) * 1024


@dataclass
class BuildResult:
    issue: Issue
    out_dir: Path
    report: BuildReport
    warnings: list[Problem]
    timings: dict[str, float] = field(default_factory=dict)
    directory: Directory | None = None  # what the email carries, and the period it counts

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def failure(self) -> str:
        """Why this build may not be sent (its report's errors), in one line; "" when ok."""
        if self.ok:
            return ""
        return (
            f"issues/{self.issue.id}/build/report.json: {len(self.report.errors)} accessibility "
            "or size errors. Fix the templates or content and build again."
        )


def input_digest(settings: Settings, folder: Path) -> str:
    """A fingerprint of everything a build reads, so `send` can spot a stale build.

    contacts.db is deliberately left out: unsubscribes arrive during a send, and
    they must not stop it from resuming. So are the send and sync settings
    (``config.NOT_BUILD_INPUTS``): editing them changes nothing that was built.
    """
    digest = hashlib.sha256()
    digest.update(settings.build_inputs.encode() + b"\0")
    paths = [folder / "issue.toml", folder / "intro.md"]
    paths += sorted((folder / "items").glob("*.md"))
    for tdir in render.template_dirs(settings, folder):
        paths += sorted(tdir.glob("*.j2")) if tdir.is_dir() else []
    for path in paths:
        if path.is_file():
            name = path.relative_to(settings.root).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(
    settings: Settings,
    folder: Path,
    today: dt.date | None = None,
    directory: DirectorySource | None = None,
    pictures: bool = True,
) -> BuildResult:
    """Build ``folder`` into ``folder/build``; raise CheckFailed before writing anything.

    ``directory`` gives the focal-point directory for the loaded issue (it needs
    the issue's date); without it, the email links to the web edition's.
    ``pictures``: request each item's picture, and warn of one that would not
    show (False: offline, nothing is requested).
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    issue, problems = load_issue(settings, folder, today)
    if issue is None:
        raise CheckFailed(folder.name, problems, "nothing was built")
    lap("load")
    listing = directory(issue) if directory is not None else None
    env = render.environment(settings, folder)
    ctx = render.context(settings, issue, listing)
    mjml_source = render.render_template(env, "email.mjml.j2", ctx, settings.root)
    lap("jinja")
    out_dir = folder / "build"
    shown = f"issues/{folder.name}/build"
    check_folder(out_dir, fix="Move it away; build writes its files in that folder.", display=shown)
    counted = _click_links(settings, issue)
    try:
        html = counted(render.compile_mjml(mjml_source, settings, issue))
        if listing is not None and len(html.encode()) > EMAIL_BUDGET:
            # Gmail would clip it: the email (HTML and text) keeps the directory's
            # summary and changes and links to web.html, which has it all.
            ctx["directory"] = listing.compact()
            mjml_source = render.render_template(env, "email.mjml.j2", ctx, settings.root)
            counted = _click_links(settings, issue)
            html = counted(render.compile_mjml(mjml_source, settings, issue))
    except NewsletterError:
        _write(out_dir, shown, {"email.mjml": mjml_source})
        raise
    lap("mjml")
    ctx["links"] = render.LinkList()
    text = render.render_template(env, "email.txt.j2", ctx, settings.root)
    text = counted.text(text)
    lap("text")
    web = render.render_template(env, "web.html.j2", {**ctx, "directory": listing}, settings.root)
    lap("web")
    kb, size = report.size_findings(html)
    findings = report.audit(html) + size
    lap("audit")
    if pictures:
        showing = [item for section in issue.sections for item in section.items]
        findings += check_pictures(showing, user_agent(settings))
        lap("pictures")
    files = {"email.mjml": mjml_source, "email.html": html, "email.txt": text, "web.html": web}
    built = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    digest = input_digest(settings, folder)
    rep = BuildReport.make(issue, problems, findings, kb, files, digest, built, listing)
    files["report.json"] = rep.to_json()
    _write(out_dir, shown, files)
    lap("write")
    warnings = [p for p in problems if p.severity == "warning"]
    return BuildResult(issue, out_dir, rep, warnings, timings, listing)


def build_issue(
    settings: Settings, folder: Path, db_path: Path, pictures: bool = True
) -> BuildResult:
    """The build ``newsletter build`` runs and the desk's **Build** button: ``folder`` with
    the focal-point directory from contacts.db at ``db_path`` (none without one)."""
    directory = directory_source(settings, db_path, report.built_at)
    return build(settings, folder, directory=directory, pictures=pictures)


class _Counted:
    """The email's links made click links (``readership = "aggregate"``), or left as they are."""

    def __init__(self, links: readership.Links | None) -> None:
        self.links = links

    def __call__(self, html: str) -> str:
        return readership.track_html(html, self.links) if self.links else html

    def text(self, text: str) -> str:
        return readership.track_text(text, self.links) if self.links else text


def _click_links(settings: Settings, issue: Issue) -> _Counted:
    """Signed here, before the size check: ``send`` copies the links as they are."""
    if settings.readership != "aggregate":
        return _Counted(None)
    return _Counted(readership.Links(tokens.secret_from_env(), issue.id, settings.web_url))


def _write(out_dir: Path, shown: str, files: dict[str, str]) -> None:
    """Every file lands, or none does: a full disk is one line, never a traceback."""
    try:
        write_files(out_dir, files)
    except OSError as exc:
        raise cannot_write(shown, exc) from None
