"""``newsletter collect``: every feed fetched, the quarter's new entries into the inbox.

Fetching runs in threads (at most ``feeds.WORKERS`` at once); parsing a large
batch runs in worker processes, since feedparser is pure Python. Inbox files
are written first, then every database change in one transaction, so a crash
leaves at worst files that the next run recognises by their link and guid.

A Ctrl-C stops the run at once: the fetch threads are daemons holding only
bytes in memory, so the process leaves them behind instead of waiting out each
feed's timeout, and the parse workers ignore SIGINT (their parent stops them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import queue
import shlex
import signal
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from newsletter import download, store
from newsletter.config import Settings
from newsletter.download import Fetched
from newsletter.errors import NewsletterError
from newsletter.feeds import registry
from newsletter.feeds.dedupe import Pending, group
from newsletter.feeds.entries import Parsed, parse_feed
from newsletter.feeds.markdown import to_markdown
from newsletter.issue.inbox import Candidate, known_keys, write_candidates
from newsletter.issue.keys import FeedGuid, canonical_url, has_guid, title_key
from newsletter.issue.meta import issue_window
from newsletter.sanitize import one_line
from newsletter.store import Database
from newsletter.store.feeds import Feed, Seen

POOL_MIN_BYTES = 512 * 1024  # below this, parsing in-process beats starting workers
MARKDOWN_POOL_MIN = 200  # summaries; below this, writing them in-process beats workers
# A rejected title blocks a new URL only when it is specific enough not to recur
# ("Weekly update" from a feed must not be suppressed forever by one rejection).
REJECTED_TITLE_WORDS = 5
# New entries one feed may add to the inbox in one collect. A quarter's real feed
# brings tens; a broken or hostile one can list 30,000 tiny entries within its
# 5 MB, each a file to triage. The rest wait for the next collect, not lost.
MAX_NEW_PER_FEED = 200


@dataclass(frozen=True)
class FeedHealth:
    """How one feed did in this collect."""

    name: str
    url: str
    status: str  # "ok", "warning" (usable but flawed), "not modified" or "failed"
    new: int = 0
    duplicate: int = 0
    old: int = 0  # outside the collection window
    errors: int = 0  # counted in the registry, all time
    reason: str | None = None  # the warning, when there was one
    moved_to: str | None = None
    quiet: bool = False  # nothing new for this issue in any collect so far


@dataclass(frozen=True)
class Collected:
    issue_id: str
    window: tuple[dt.date, dt.date]
    written: tuple[str, ...]
    feeds: tuple[FeedHealth, ...]
    merged: int = 0  # entries from other feeds merged into a candidate as one story

    @property
    def ok(self) -> bool:
        return any(f.status != "failed" for f in self.feeds)


def collect(
    db: Database,
    settings: Settings,
    folder: Path,
    *,
    when: dt.datetime | None = None,
    timeout: float = download.TIMEOUT,
    max_bytes: int = download.MAX_BYTES,
    progress: Callable[[], None] | None = None,
) -> Collected:
    """Fetch every feed, keep the window's new entries, write them to inbox/."""
    when = when or dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp, today = when.isoformat(), when.date()
    window = issue_window(folder, settings.section_keys)
    feeds = store.feeds.list_feeds(db)
    if not feeds:
        raise NewsletterError(
            "feeds: none registered. Add one with: newsletter feeds add URL "
            f"--section {settings.section_keys[0]}"
        )
    cache_key = f"{folder.name} {window[0]} {window[1]}"
    fetched = _fetch_all(feeds, settings, cache_key, timeout, max_bytes, progress)
    parsed = _parse_all(fetched, window)
    counts, new_seen, pending = _sift(db, settings, feeds, parsed, window, stamp)
    groups = [_lead_first(members) for members in group(pending)]
    merged = _merge_counts(groups, counts)
    summaries = _markdown_all([members[0].entry.summary for members in groups])
    candidates = [_candidate(m, summary) for m, summary in zip(groups, summaries, strict=True)]
    candidates.sort(key=lambda c: (c.date or today, c.title))
    written = write_candidates(folder, candidates, stamp)
    health = _record(db, feeds, fetched, parsed, counts, new_seen, folder.name, stamp, cache_key)
    return Collected(folder.name, window, tuple(written), health, merged)


@dataclass
class _Counts:
    """One feed's entries in this collect (a running tally, so not frozen)."""

    new: int = 0
    duplicate: int = 0
    old: int = 0  # outside the collection window
    held: int = 0  # new, but over MAX_NEW_PER_FEED: left for the next collect


def _sift(
    db: Database,
    settings: Settings,
    feeds: list[Feed],
    parsed: dict[int, Parsed],
    window: tuple[dt.date, dt.date],
    stamp: str,
) -> tuple[dict[int, _Counts], list[Seen], list[Pending]]:
    """Count each feed's entries as new, duplicate or old; keep the new ones."""
    seen = store.feeds.seen_keys(db)
    bad_urls, bad_guids, bad_titles = store.feeds.rejections(db)
    known: tuple[set[str], set[FeedGuid]] | None = None  # scanned only if some entry needs it
    counts: dict[int, _Counts] = defaultdict(_Counts)
    new_seen: list[Seen] = []
    pending: list[Pending] = []
    for order, feed in enumerate(feeds):
        feed_urls = {u for u in (feed.url, feed.moved_from) if u}
        for entry in parsed[feed.id].entries if feed.id in parsed else ():
            count = counts[feed.id]
            if entry.date and not window[0] <= entry.date <= window[1]:
                count.old += 1
                continue
            if count.new >= MAX_NEW_PER_FEED:
                count.held += 1  # not marked seen, so the next collect offers it again
                continue
            canon = canonical_url(entry.link) if entry.link else None
            key = (
                entry.guid
                or canon
                or "sha1:" + hashlib.sha1(f"{entry.title}\n{entry.summary}".encode()).hexdigest()
            )
            if (feed.id, key) in seen:
                count.duplicate += 1
                continue
            seen.add((feed.id, key))
            new_seen.append(Seen(feed.id, key, canon, stamp))
            if known is None:
                urls, guids = known_keys(settings.root)
                known = (urls | store.feeds.used_urls(db), guids)
            tkey = title_key(entry.title)
            if (
                (canon and (canon in known[0] or canon in bad_urls))
                or (tkey in bad_titles and len(tkey.split()) >= REJECTED_TITLE_WORDS)
                or has_guid(known[1], feed_urls, entry.guid)
                or has_guid(bad_guids, feed_urls, entry.guid)
            ):
                count.duplicate += 1
                continue
            count.new += 1
            pending.append(Pending(order, feed, entry, canon, tkey))
    return counts, new_seen, pending


def _fetch_all(
    feeds: list[Feed],
    settings: Settings,
    cache_key: str,
    timeout: float,
    max_bytes: int,
    progress: Callable[[], None] | None,
) -> dict[int, Fetched]:
    agent = download.user_agent(settings)
    results: dict[int, Fetched] = {}
    todo = []
    for feed in feeds:
        if feed.section not in settings.section_keys:
            results[feed.id] = Fetched(
                feed.url,
                error=f"section '{feed.section}' is no longer "
                "configured; remove the feed and add it again",
            )
            if progress:
                progress()
        else:
            todo.append(feed)
    done: queue.Queue[tuple[Feed, Fetched]] = queue.Queue()
    waiting: queue.Queue[Feed] = queue.Queue()
    for feed in todo:
        waiting.put(feed)

    def work() -> None:
        while True:
            try:
                feed = waiting.get_nowait()
            except queue.Empty:
                return
            try:
                got = _how_to_allow(
                    download.fetch(
                        feed.url,
                        agent=agent,
                        timeout=timeout,
                        max_bytes=max_bytes,
                        etag=feed.etag if feed.cache_key == cache_key else None,
                        last_modified=feed.last_modified if feed.cache_key == cache_key else None,
                        private_host=feed.private_host,
                    ),
                    feed,
                )
            except Exception as exc:  # a fetch bug on one feed must not stop the others
                got = Fetched(feed.url, error=f"fetch failed ({type(exc).__name__})")
            done.put((feed, got))

    # Daemons, not a ThreadPoolExecutor: its threads are joined at exit, so a
    # Ctrl-C would wait out the slowest feed's timeout before the process ended.
    for _ in range(min(registry.WORKERS, len(todo))):
        threading.Thread(target=work, name="newsletter-feed", daemon=True).start()
    for _ in todo:
        feed, got = done.get()  # a lock wait, which a Ctrl-C interrupts
        results[feed.id] = got
        if progress:
            progress()
    return results


def _how_to_allow(got: Fetched, feed: Feed) -> Fetched:
    """A refused private address, with the commands that allow it on purpose.

    Only the feed's own host can be allowed (``feeds add --allow-private`` on the
    registered URL turns it on); a redirect to another host needs that address
    registered instead. Addresses are quoted for the shell: a server chose them.
    """
    if not got.private:
        return got
    section = shlex.quote(feed.section)
    if download.host_of(got.url) == download.host_of(feed.url):
        url = shlex.quote(one_line(feed.url, 150))
        fix = f"allow it with: newsletter feeds add {url} --section {section} --allow-private"
    else:
        url = shlex.quote(one_line(got.url, 150))
        fix = (
            f"register the address it redirects to instead: newsletter feeds remove "
            f"{shlex.quote(feed.name)}, then newsletter feeds add {url} --section {section} "
            "--allow-private"
        )
    return replace(got, error=f"{got.error}; if that host is yours, {fix}")


def _safe_parse(
    body: bytes, headers: tuple[tuple[str, str], ...], url: str, window: tuple[dt.date, dt.date]
) -> Parsed:
    try:
        return parse_feed(body, headers, url, window)
    except Exception as exc:  # a parser crash on one feed must not stop the others
        return Parsed(error=f"could not be parsed ({type(exc).__name__}: {exc})"[:200])


def _parse_all(fetched: dict[int, Fetched], window: tuple[dt.date, dt.date]) -> dict[int, Parsed]:
    """Parse every body; a big batch in worker processes, as feedparser is pure Python."""
    jobs = {i: f for i, f in fetched.items() if f.body is not None}
    size = sum(len(f.body or b"") for f in jobs.values())
    count = min(os.cpu_count() or 1, 4, len(jobs))
    if count > 1 and size >= POOL_MIN_BYTES and "fork" in multiprocessing.get_all_start_methods():
        # Imported once here, so each forked worker inherits it instead of importing it.
        import feedparser  # noqa: F401

        try:
            # fork: the fetch threads have all ended, and workers start in milliseconds.
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(count, context, initializer=_ignore_sigint) as pool:
                futures = {
                    i: pool.submit(_safe_parse, f.body or b"", f.headers, f.url, window)
                    for i, f in jobs.items()
                }
                try:
                    return {i: future.result() for i, future in futures.items()}
                except KeyboardInterrupt:
                    pool.shutdown(wait=False, cancel_futures=True)  # only those running finish
                    raise
        except (BrokenProcessPool, OSError):
            pass  # no workers to be had, or one died: parse here instead
    return {i: _safe_parse(f.body or b"", f.headers, f.url, window) for i, f in jobs.items()}


def _ignore_sigint() -> None:
    """In a parse worker: a Ctrl-C at the terminal reaches the whole process group, and
    the parent, which stops the pool, is the one to answer it (no worker tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warning(result: Parsed | None, count: _Counts) -> str | None:
    """The feed's warning: the parser's, and the entries held back by MAX_NEW_PER_FEED."""
    parts = [result.warning] if result and result.warning else []
    if count.held:
        parts.append(
            f"{count.held:,} more new entries were left for the next collect "
            f"(at most {MAX_NEW_PER_FEED} a feed at a time); triage these, then collect again"
        )
    return "; ".join(parts) or None


def _printable(text: str | None) -> str | None:
    """One line for the terminal: servers choose some of this text (status, Location)."""
    return one_line(text) if text else None


def _lead_first(members: list[Pending]) -> list[Pending]:
    """A story's entries, the one that names it first: with a link, from the first feed."""
    return sorted(members, key=lambda p: (p.entry.link is None, p.order))


def _merge_counts(groups: list[list[Pending]], counts: dict[int, _Counts]) -> int:
    """Count every entry merged into another's candidate as a duplicate of its feed.

    So the NEW column adds up to the candidates written: a story told by two
    feeds is new for the feed that names it and a duplicate for the other.
    Returns how many entries came from a feed other than the one that names it.
    """
    merged = 0
    for lead, *others in groups:
        for p in others:
            counts[p.feed.id].new -= 1
            counts[p.feed.id].duplicate += 1
            merged += p.feed.id != lead.feed.id
    return merged


def _markdown_all(summaries: list[str]) -> list[str]:
    """Each summary as Markdown (``feeds.markdown``); a big batch in worker processes.

    Writing and checking one takes about half a millisecond of pure Python: a
    first collect of thousands of entries shares it between the CPUs.
    """
    count = min(os.cpu_count() or 1, 4)
    if (
        count > 1
        and len(summaries) >= MARKDOWN_POOL_MIN
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        try:
            with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork")) as pool:
                return list(pool.map(to_markdown, summaries, chunksize=64))
        except (BrokenProcessPool, OSError):
            pass  # no workers to be had, or one died: write them here instead
    return [to_markdown(s) for s in summaries]


def _candidate(group: list[Pending], summary: str) -> Candidate:
    first = group[0]
    feed, entry = first.feed, first.entry
    date = entry.date or next((p.entry.date for p in group if p.entry.date), None)
    # One line per feed and story: a feed listing one link twice is still one source.
    distinct: dict[tuple[int, str | None], tuple[str, str | None]] = {}
    for p in group:
        distinct.setdefault((p.feed.id, p.canonical or p.entry.link), (p.feed.name, p.entry.link))
    sources = tuple(distinct.values()) if len({p.feed.id for p in group}) > 1 else ()
    return Candidate(
        title=entry.title,
        section=feed.section,
        link=entry.link,
        date=date,
        source=feed.name,
        feed=feed.url,
        guid=entry.guid,
        summary=summary,  # Markdown, as a contributor writes it
        undated=date is None,
        sources=sources,
    )


def _record(
    db: Database,
    feeds: list[Feed],
    fetched: dict[int, Fetched],
    parsed: dict[int, Parsed],
    counts: dict[int, _Counts],
    new_seen: list[Seen],
    issue_id: str,
    stamp: str,
    cache_key: str,
) -> tuple[FeedHealth, ...]:
    """Write the run to the registry in one transaction; return each feed's health."""
    health = []
    urls = {f.url for f in feeds}
    with store.writing(db):
        store.feeds.add_seen(db, new_seen)
        for feed in feeds:
            got = fetched[feed.id]
            result = parsed.get(feed.id)
            error = got.error or (result.error if result else None)
            count = counts[feed.id]
            reason = _printable(error or _warning(result, count))
            status = (
                "failed"
                if error
                else "warning"
                if reason
                else "not modified"
                if got.not_modified
                else "ok"
            )
            moved = got.moved_to if got.moved_to and got.moved_to not in urls else None
            if moved:  # two feeds moving to one URL: only the first takes it (URLs are unique)
                urls.add(moved)
            total_new = store.feeds.add_stats(
                db, feed.id, issue_id, count.new, count.duplicate, count.old, stamp
            )
            errors = feed.errors + bool(reason)
            values: dict[str, object] = {
                "last_status": status,
                "last_error": reason,
                "last_checked": stamp,
                "last_new": count.new,
                "last_duplicate": count.duplicate,
                "last_old": count.old,
                "errors": errors,
            }
            if not error:
                # With entries held back, no validators: a 304 next time would hide them.
                held = bool(count.held)
                values.update(
                    last_success=stamp,
                    cache_key=cache_key,
                    etag=None if held else got.etag,
                    last_modified=None if held else got.last_modified,
                )
            if moved:
                values.update(url=moved, moved_from=feed.url)
            store.feeds.update_feed(db, feed.id, values)
            health.append(
                FeedHealth(
                    name=feed.name,
                    url=moved or feed.url,
                    status=status,
                    new=count.new,
                    duplicate=count.duplicate,
                    old=count.old,
                    errors=errors,
                    reason=reason,
                    moved_to=moved,
                    quiet=not error and total_new == 0,
                )
            )
    return tuple(health)
