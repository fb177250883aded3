"""Sync contact lists that agencies publish, each authoritative for one organisation.

Sources are declared in pyproject.toml::

    [tool.newsletter]
    sources = [
        { organisation = "UNICEF", url = "https://unicef.example.org/focal-points.csv" },
        { name = "unhcr", organisation = "UNHCR", path = "sources/unhcr.json", format = "json" },
    ]

A url whose host resolves to a loopback or private address is refused unless
its table says ``allow_private = true`` (an agency list on the office's own
network); that allows the url's own host only, not one a redirect leads to.

Each source is applied like an import. Its organisation's contacts that are
missing from it are marked left (never deleted). When an organisation has
several sources, that means missing from all of them, and it is decided only
when all of them loaded. A source that cannot be loaded, or has no valid row,
changes nothing and yields one warning; the others still apply, all in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from newsletter import download
from newsletter.config import SOURCE_EXAMPLE, Settings, Source
from newsletter.contacts.imports import Plan, Write, owner, plan_import
from newsletter.contacts.tabular import ReadError, read_records
from newsletter.errors import NewsletterError
from newsletter.files import NotRegular, TooLarge, read_regular
from newsletter.sanitize import one_line
from newsletter.store import Database, now, reading, writing
from newsletter.store.contacts import default_actor

MAX_BYTES = 20 * 1024 * 1024  # a source, url or path
ACCEPT = "text/csv, application/json;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class SyncResult:
    plans: tuple[Plan, ...]
    warnings: tuple[str, ...]


def fetch(source: Source, root: Path, agent: str) -> tuple[bytes, str | None]:
    """The source's bytes and format; ReadError with a one-line reason when it fails.

    URLs go through download.fetch, the one HTTP client: ``timeout`` bounds the
    whole download, and a failure has the same reason as for a feed.
    """
    fmt = source.format or ("json" if source.location.lower().endswith(".json") else None)
    if not source.is_url:
        # Read as a url is, within MAX_BYTES, and only a regular file: a FIFO
        # waited for a writer forever, and /dev/zero never ended.
        try:
            return read_regular(root / source.location, MAX_BYTES), fmt
        except (NotRegular, TooLarge) as exc:
            raise ReadError(f"{source.location}: {exc.strerror}.") from None
        except OSError as exc:
            raise ReadError(f"{source.location}: cannot read it ({exc.strerror}).") from None
    host = download.host_of(source.location)
    got = download.fetch(
        source.location,
        agent=agent,
        timeout=source.timeout,
        max_bytes=MAX_BYTES,
        accept=ACCEPT,
        private_host=host if source.allow_private else None,
    )
    if got.private:
        # Only the url's own host can be allowed: a redirect elsewhere needs the new url.
        allow = (
            "set allow_private = true in this source"
            if download.host_of(got.url) == host
            else f'set url = "{one_line(got.url, 150)}" and allow_private = true in this source'
        )
        raise ReadError(f"{source.location}: {got.error}; if that host is yours, {allow}.")
    if got.error is not None:
        raise ReadError(f"{source.location}: {got.error}.")
    if fmt is None and "json" in (got.header("Content-Type") or ""):
        fmt = "json"
    return got.body or b"", fmt


def sync(
    db: Database,
    settings: Settings,
    only: str | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    at: str | None = None,
) -> SyncResult:
    """Fetch every source, then apply them in one transaction (none for a dry run)."""
    sources = everything = settings.sources
    if not sources:
        raise NewsletterError(
            f"{settings.where()} has no 'sources'. Add e.g. sources = [{SOURCE_EXAMPLE}]."
        )
    if only is not None:
        sources = tuple(s for s in sources if s.name == only)
        if not sources:
            raise NewsletterError(f"no source named '{only}'. See 'sources' in {settings.path}.")
    warnings: list[str] = []
    agent = download.user_agent(settings)
    loaded = []
    # Sources whose people are unknown this run: the others for the same
    # organisation must not mark them left.
    unsure = [(s, "was not part of this sync") for s in everything if s not in sources]
    for source in sources:  # network first, outside the transaction
        try:
            data, fmt = fetch(source, settings.root, agent)
            loaded.append((source, read_records(data, source.location, fmt)))
        except ReadError as exc:
            warnings.append(f"warning: source '{source.name}': {exc} Nothing changed for it.")
            unsure.append((source, "could not be loaded"))
    plans = []
    write = None if dry_run else Write(actor or default_actor(), at or now())
    with reading(db) if dry_run else writing(db):
        # An organisation may publish several lists (headquarters, regions):
        # a person is missing only when missing from all of them.
        keys = {s.name: owner(db, s.organisation).casefold() for s in everything}
        present: dict[str, set[str]] = {}
        usable = []
        for source, records in loaded:
            found = plan_import(db, records, "", source.organisation).present
            if not found:
                # Applying it would mark every contact of the organisation left.
                warnings.append(
                    f"warning: source '{source.name}': {source.location}: no row has "
                    "a valid email address. Nothing changed for it."
                )
                unsure.append((source, "has no valid row"))
                continue
            present.setdefault(keys[source.name], set()).update(found)
            usable.append((source, records))
        doubt = {keys[s.name]: (s.name, why) for s, why in unsure}
        for source, records in usable:
            key = keys[source.name]
            keep = None if key in doubt else frozenset(present[key])
            plan = plan_import(db, records, f"sync:{source.name}", source.organisation, keep, write)
            if key in doubt:
                note = (
                    f"{source.location}: note: nobody was marked left, as source "
                    f"'{doubt[key][0]}' for the same organisation {doubt[key][1]}."
                )
                plan = replace(plan, notes=(*plan.notes, note))
            plans.append(plan)
    return SyncResult(tuple(plans), tuple(warnings))
