"""Build: check the issue, render every output, audit it, write it atomically.

Reads top to bottom like mkdocs' ``build()``: load → Jinja → MJML → text →
web → audit → write. Nothing is written unless the check passes, and each
file lands by rename, so ``build/`` never holds a half-written file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.build import render, report
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.issue.load import CheckFailed, load_issue
from newsletter.models import Issue, Problem

# The largest email.html that keeps the full directory: Gmail clips above
# report.MAX_KB, and sending adds a few hundred bytes of per-recipient values.
EMAIL_BUDGET = (report.MAX_KB - 2) * 1024


@dataclass
class BuildResult:
    issue: Issue
    out_dir: Path
    report: dict[str, Any]
    warnings: list[Problem]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report["ok"]


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
    directory: Any = None,
) -> BuildResult:
    """Build ``folder`` into ``folder/build``; raise CheckFailed before writing anything."""
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
    if callable(directory):  # directory.directory_for needs the issue's date
        directory = directory(issue)
    env = render.environment(settings, folder)
    ctx = render.context(settings, issue, directory)
    mjml_source = render.render_template(env, "email.mjml.j2", ctx, settings.root)
    lap("jinja")
    out_dir = folder / "build"
    try:
        html = render.compile_mjml(mjml_source, settings, issue)
        if directory is not None and len(html.encode()) > EMAIL_BUDGET:
            # Gmail would clip it: the email (HTML and text) keeps the directory's
            # summary and changes and links to web.html, which has it all.
            ctx["directory"] = directory.compact()
            mjml_source = render.render_template(env, "email.mjml.j2", ctx, settings.root)
            html = render.compile_mjml(mjml_source, settings, issue)
    except NewsletterError:
        write_files(out_dir, {"email.mjml": mjml_source})
        raise
    lap("mjml")
    ctx["links"] = render.LinkList()
    text = render.render_template(env, "email.txt.j2", ctx, settings.root)
    lap("text")
    web = render.render_template(env, "web.html.j2", {**ctx, "directory": directory}, settings.root)
    lap("web")
    kb, size = report.size_findings(html)
    findings = report.audit(html) + size
    files = {"email.mjml": mjml_source, "email.html": html, "email.txt": text, "web.html": web}
    rep = make_report(issue, problems, findings, kb, files, input_digest(settings, folder))
    files["report.json"] = json.dumps(rep, indent=2, ensure_ascii=False) + "\n"
    lap("audit")
    write_files(out_dir, files)
    lap("write")
    warnings = [p for p in problems if p.severity == "warning"]
    return BuildResult(issue, out_dir, rep, warnings, timings)


def make_report(
    issue: Issue,
    problems: list[Problem],
    findings: list[report.Finding],
    kb: float,
    files: dict[str, str],
    digest: str,
) -> dict[str, Any]:
    errors = [f"{f.rule}: {f.message}" for f in findings if f.severity == "error"]
    return {
        "issue": issue.id,
        "ok": not errors,
        "items": sum(len(s.items) for s in issue.sections),
        "sections": {s.key: len(s.items) for s in issue.sections},
        "held": [{"item": i.path, "until": i.embargo.isoformat()} for i in issue.held if i.embargo],
        "size_kb": round(kb, 1),
        "errors": errors,
        "warnings": [str(p) for p in problems if p.severity == "warning"]
        + [f"{f.rule}: {f.message}" for f in findings if f.severity == "warning"],
        "inputs": digest,
        "outputs": {n: hashlib.sha256(t.encode()).hexdigest() for n, t in sorted(files.items())},
    }


def write_files(out_dir: Path, files: dict[str, str]) -> None:
    """Write every file to a temp name first, then rename them all into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            staged.append((tmp, out_dir / name))
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
