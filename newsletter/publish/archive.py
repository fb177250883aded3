"""Publish the static archive: every published issue, the directory, a feed.

An issue is published when its send completed or the editor published it
(``publication.status``, the one rule); every other issue gets one line saying
why it was skipped and how to publish it.

Layout (all links relative, so the folder can be copied anywhere)::

    index.html              the issues, newest first
    ID/index.html           each issue's web page ({web_url}/ID/ in the emails)
    ID/events.ics           the issue's events; ID/event-SLUG.ics, one each
    directory.html          the focal-point directory, without addresses or phones
    feed.xml                an Atom feed of the issues

The bytes depend only on the inputs (built pages, issue.toml, templates,
contacts.db): dates come from issue.toml, never the clock. The site is built
in a temporary folder beside the target and swapped in, so a reader never
sees half an archive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from newsletter import store
from newsletter.build import render
from newsletter.build.pipeline import input_digest
from newsletter.build.report import BuildReport
from newsletter.config import Settings
from newsletter.contacts.directory import build_directory
from newsletter.errors import NewsletterError
from newsletter.files import new_folder
from newsletter.issue.load import load_issue
from newsletter.issue.meta import previous_issue_date, read_meta
from newsletter.models import Issue, Item, plural
from newsletter.publish import ics, sitecheck, webpage
from newsletter.publish.publication import status
from newsletter.store import Database

MARKER = ".newsletter-archive"  # marks a folder this command may replace
FAR = dt.date(9999, 12, 30)  # "until now", without reading the clock


@dataclass(frozen=True)
class Published:
    issue: Issue
    web: str  # the built web.html
    events: tuple[Item, ...]


@dataclass(frozen=True)
class ArchiveResult:
    out: Path
    issues: tuple[str, ...]  # IDs, newest first
    files: int
    notes: tuple[str, ...]  # one line each: skipped, unbuilt or stale issues, leaks


def published(settings: Settings, db: Database | None = None) -> tuple[list[Published], list[str]]:
    """The built, published issues, newest first, and a line on each one skipped."""
    found: list[Published] = []
    notes: list[str] = []
    records = store.publications.every(db) if db is not None else {}
    folders = sorted(p for p in (settings.root / "issues").glob("*") if p.is_dir())
    for folder in folders:
        rel, name = f"issues/{folder.name}", folder.name
        state = status(records.get(name), read_meta(folder, ()).draft)
        if not state.published:
            again = " again" if name in records else ""
            notes.append(
                f"skipped {name}: {state.why} (publish it{again} with: newsletter publish {name})"
            )
            continue
        web = folder / "build" / "web.html"
        if not web.is_file():
            notes.append(f"skipped {name}: not built (build it with: newsletter build {name})")
            continue
        # No item is held back here: the build's report says which ones were.
        issue, problems = load_issue(settings, folder, today=dt.date.max)
        if issue is None:
            errors = plural(sum(p.severity == "error" for p in problems), "error")
            notes.append(f"skipped {name}: {errors} now (see them with: newsletter check {name})")
            continue
        report = BuildReport.read(folder)
        held = {h.item for h in report.held} if report else set()
        if report is not None and report.inputs != input_digest(settings, folder):
            notes.append(f"{rel}: changed since it was built; the archive has the last build")
        items = tuple(i for i in ics.events(issue) if i.path not in held)
        try:
            page = web.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or "not UTF-8 text"
            notes.append(
                f"skipped {name}: {rel}/build/web.html cannot be read: {why} "
                f"(build it again with: newsletter build {name})"
            )
            continue
        found.append(Published(issue, page, items))
    found.sort(key=lambda p: (p.issue.date, p.issue.number, p.issue.id), reverse=True)
    return found, notes


def site_files(
    settings: Settings, db: Database | None, issues: list[Published]
) -> dict[str, bytes]:
    """Every file of the site, by relative path."""
    env = render.environment(settings, settings.root)
    files: dict[str, bytes] = {MARKER: b"Made by `newsletter archive`; replaced on every run.\n"}
    entries = []
    for pub in issues:
        issue = pub.issue
        links = {item.slug: render.event_file(item.slug) for item in pub.events}
        page = webpage.public_page(pub.web, settings, issue, pub.events, links)
        fixes = store.corrections.corrections(db, (issue.id,)) if db is not None else []
        notes = [(dt.date.fromisoformat(c.at[:10]), c.text) for c in fixes]
        page = webpage.with_corrections(page, notes)
        files[f"{issue.id}/index.html"] = page.encode("utf-8")
        if pub.events:
            files[f"{issue.id}/events.ics"] = ics.calendar(settings, issue, pub.events)
            for item in pub.events:
                files[f"{issue.id}/{links[item.slug]}"] = ics.calendar(settings, issue, (item,))
        entries.append(
            {
                "issue": issue,
                "href": f"{issue.id}/index.html",
                "ics": f"{issue.id}/events.ics" if pub.events else None,
                "count": sum(len(s.items) for s in issue.sections),
                "updated": f"{issue.date.isoformat()}T00:00:00Z",
            }
        )
    # The latest issue's window, run on to today: its changes plus any since, such as
    # bounces processed after it went out.
    latest = issues[0].issue if issues else None
    since = previous_issue_date(settings.root, latest.id, latest.date) if latest else None
    directory = build_directory(db, settings, since, FAR) if db is not None else None
    # The standing page lists every seat still to fill, however long ago its focal
    # point bounced or left: the window above is empty before a second issue exists.
    seats = build_directory(db, settings, dt.date.min, FAR).departures if db is not None else ()
    ctx = {
        "settings": settings,
        "issues": entries,
        "base": "",
        "directory": directory,
        "seats": seats,
    }
    for name, template in (
        ("index.html", "archive_index.html.j2"),
        ("directory.html", "archive_directory.html.j2"),
        ("feed.xml", "archive_feed.xml.j2"),
    ):
        files[name] = render.render_template(env, template, ctx, settings.root).encode("utf-8")
    return files


def build_archive(settings: Settings, db: Database | None, out: Path) -> ArchiveResult:
    """Write the archive to ``out``, replacing the previous one in a single swap."""
    out = out.resolve()
    if out == settings.root.resolve() or out in settings.root.resolve().parents:
        raise NewsletterError(f"{out}: is the project folder. Pass --out with a separate folder.")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise NewsletterError(
            f"{out}: exists and was not made by newsletter archive. "
            "Pass --out with a new or empty folder, or remove it first."
        )
    issues, notes = published(settings, db)
    files = site_files(settings, db, issues)
    try:
        with new_folder(out, replace=True) as tmp:
            for rel, data in sorted(files.items()):
                path = tmp / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            notes += [f"broken link: {p}" for p in sitecheck.broken_links(tmp)]
            if db is not None:
                known = store.contacts.all_addresses(db)
                notes += [
                    f"{hit}: a contact's address is in the page text (written by an editor?)"
                    for hit in sitecheck.addresses_found(tmp, known)
                ]
    except OSError as exc:
        raise NewsletterError(
            f"{out}: cannot write the site there ({exc.strerror or exc}). "
            "Pass --out with a folder you can write to."
        ) from None
    return ArchiveResult(out, tuple(p.issue.id for p in issues), len(files), tuple(notes))
