"""The unsubscribe journal: one-click requests the web app could not write yet.

When contacts.db is locked for longer than the web app waits, or cannot be
written at all (a full disk, a read-only file), a genuine unsubscribe must not
be lost. The app appends one line to ``contacts.db.unsubscribe-journal`` beside
the database, fsyncs the file and its folder, and only then answers 202.
``open_db`` applies the journal on every open, before any command reads a
contact, so the next command (``send`` first of all) sees those people
unsubscribed.

Crash safety. Appending holds ``flock`` on the journal and checks that the
file it opened is still the journal; the applier renames the journal to
``….applying-<random>`` under that same lock, so no append can land in a file
already read. The applier reads the renamed file, applies it in one write
transaction, commits, and only then deletes it. A crash before the commit leaves it to be
applied again; a crash after the commit applies it twice, which is harmless (an
unsubscribed person is not unsubscribed again, and no history row is added).

The journal is read as untrusted input: only lines of the exact shape
``record`` writes are applied; a torn last line or garbage is skipped and
counted, never a crash.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from newsletter.errors import NewsletterError
from newsletter.files import fsync_folder
from newsletter.models import ISSUE_ID, MAX_ROW_ID, plural
from newsletter.store import contacts
from newsletter.store.base import Database, now, writing

SUFFIX = ".unsubscribe-journal"
CLAIMED = ".applying"
# One line is about 70 bytes, and a contact is written once while pending, so this
# holds every contact of a very large list; beyond it the app answers 503.
MAX_BYTES = 4 * 1024 * 1024
MAX_LINE = 400
_CONTACTS = range(1, MAX_ROW_ID + 1)


@dataclass(frozen=True)
class Request:
    """One unsubscribe waiting to be applied: who (from a signed token), which issue, when."""

    contact_id: int
    issue_id: str
    at: str


def journal_path(db_path: Path) -> Path:
    """Where the journal of the database at ``db_path`` lives: beside the real file.

    Resolved, so the app and the commands agree when one of them is given the
    database through a symlink or a relative path.
    """
    real = db_path.resolve()
    return real.with_name(real.name + SUFFIX)


def _claimed(db_path: Path) -> list[Path]:
    """The journals claimed by appliers and not yet deleted (a crash, or one running now)."""
    journal = journal_path(db_path)
    prefix = journal.name + CLAIMED
    try:
        names = sorted(n for n in os.listdir(journal.parent) if n.startswith(prefix))
    except OSError:
        return []  # gone, or not listable: the journal itself is still found by name
    return [journal.parent / name for name in names]


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def record(db_path: Path, contact_id: int, issue_id: str, at: str | None = None) -> None:
    """Append one request, durably (file and folder fsynced) before returning.

    A contact already waiting in the journal is not written twice, so replayed
    POSTs cannot grow it. Raises OSError when the request could not be recorded.
    """
    if contact_id not in _CONTACTS:
        return  # a rehearsal's token (contact 0): nobody to unsubscribe
    path = journal_path(db_path)
    # Only ever from a signed token, but checked again on reading: so it reads back.
    issue_id = issue_id if ISSUE_ID.fullmatch(issue_id) else "unknown"
    line = json.dumps({"contact": contact_id, "issue": issue_id, "at": at or now()}) + "\n"
    while True:
        fd = _open_for_append(db_path, path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                continue  # claimed by an applier while we waited: append to a new one
            if not os.path.samestat(current, os.fstat(fd)):
                continue
            _append(fd, path, contact_id, line.encode("ascii"))
        finally:
            os.close(fd)  # also releases the flock
        fsync_folder(path.parent, required=True)
        return


def _open_for_append(db_path: Path, path: Path) -> int:
    """The journal, opened to append; a new one gets the database's permissions.

    As SQLite does for its -wal file: the commands that apply the journal may
    run as another user than the web app, and must be able to read it.
    """
    flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return os.open(path, flags)
    try:
        os.fchmod(fd, db_path.stat().st_mode & 0o666)
    except OSError:
        pass  # the database gone or not ours to stat: 0o600 is the safe side
    return fd


def _append(fd: int, path: Path, contact_id: int, line: bytes) -> None:
    """Write ``line`` at the end of the locked journal ``fd``, unless it is already there."""
    size = os.fstat(fd).st_size
    if size and contact_id in {r.contact_id for r in read(path)[0]}:
        return
    if size + len(line) + 1 > MAX_BYTES:
        raise OSError(errno.ENOSPC, "the unsubscribe journal is full", str(path))
    with path.open("rb") as existing:
        existing.seek(max(size - 1, 0))
        torn = size > 0 and existing.read(1) != b"\n"
    # A line torn by a crash would swallow this one; end it first.
    _write_all(fd, (b"\n" if torn else b"") + line)
    os.fsync(fd)


def _lines(path: Path) -> Iterator[bytes | None]:
    """The journal's lines; None for one too long to be ours (it is skipped whole)."""
    with path.open("rb") as handle:
        while line := handle.readline(MAX_LINE + 1):
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while (rest := handle.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                yield None
            else:
                yield line


def _parse(line: bytes | None) -> Request | None:
    """The request on one line, or None for anything ``record`` would not have written."""
    if line is None or not line.endswith(b"\n"):
        return None  # too long, or torn by a crash mid-write
    try:
        value = json.loads(line)
    except ValueError:  # also UnicodeDecodeError
        return None
    if not isinstance(value, dict) or set(value) != {"contact", "issue", "at"}:
        return None
    contact, issue, at = value["contact"], value["issue"], value["at"]
    if type(contact) is not int or contact not in _CONTACTS:
        return None
    if not isinstance(issue, str) or not ISSUE_ID.fullmatch(issue) or not isinstance(at, str):
        return None
    try:
        when = dt.datetime.fromisoformat(at)
    except ValueError:
        return None
    if when.tzinfo is None or when.utcoffset() != dt.timedelta(0):
        return None
    return Request(contact, issue, when.replace(microsecond=0).isoformat())


def read(path: Path) -> tuple[list[Request], int]:
    """The requests in a journal file, and how many lines were skipped as unreadable."""
    requests: list[Request] = []
    skipped = 0
    if not path.is_file():
        return requests, skipped
    for line in _lines(path):
        request = _parse(line)
        if request is None:
            skipped += 1
        else:
            requests.append(request)
    return requests, skipped


def _read_all(paths: list[Path], unreadable_ok: bool = False) -> tuple[list[Request], int]:
    """The requests in every file of ``paths``, and how many lines were skipped.

    A file that cannot be read raises OSError naming it (``filename``), unless
    ``unreadable_ok``: then it counts as holding nothing.
    """
    requests: list[Request] = []
    skipped = 0
    for path in paths:
        try:
            found, bad = read(path)
        except OSError as exc:
            if unreadable_ok:
                continue
            exc.filename = exc.filename or str(path)  # a read error names no file itself
            raise
        requests += found
        skipped += bad
    return requests, skipped


def _all_journals(db_path: Path) -> list[Path]:
    """The claimed journals, then the journal itself."""
    return [*_claimed(db_path), journal_path(db_path)]


def pending(db_path: Path) -> set[int]:
    """The contacts whose unsubscribe is recorded and not yet applied."""
    # One gone meanwhile, or unreadable: the page then only lacks "recorded".
    requests, _ = _read_all(_all_journals(db_path), unreadable_ok=True)
    return {r.contact_id for r in requests}


def has_pending(db_path: Path) -> bool:
    """Whether there is a journal to apply (no lock, no read)."""
    return journal_path(db_path).exists() or bool(_claimed(db_path))


def apply(db: Database, db_path: Path) -> int:
    """Apply every recorded request to ``db``, then delete what was applied; how many changed.

    Raises NewsletterError when a journal cannot be read or renamed, and lets
    the database's own error through when it cannot be written: the caller must
    not go on as if those people were still subscribed.
    """
    if db.conn.in_transaction:
        raise RuntimeError("journal.apply needs its own transaction: it deletes after COMMIT")
    journal = journal_path(db_path)
    try:
        # Under the write lock, so two commands never claim at once. Each claim
        # gets its own name: a file is deleted only by a command that applied it
        # and committed, so nothing is lost; two commands may both apply one
        # file, which changes nothing the second time.
        with writing(db):
            if journal.exists():
                _claim(journal, journal.with_name(f"{journal.name}{CLAIMED}-{uuid.uuid4().hex}"))
            claimed = _claimed(db_path)
            requests, skipped = _read_all(claimed)
            changed = _unsubscribe(db, requests)
        for path in claimed:
            path.unlink(missing_ok=True)
        fsync_folder(journal.parent, required=True)
    except OSError as exc:
        raise NewsletterError(
            f"{journal}: cannot apply the recorded unsubscribes ({exc.strerror or exc}). "
            "Make the file and its folder readable and writable, then run the command again."
        ) from None
    _warn(journal, skipped)
    return changed


def catch_up(db: Database) -> int:
    """Apply what the web app recorded since ``db`` was opened; 0 at once when nothing is.

    For a command that keeps the database open for long (``send``): ``open_db``
    applied the journal as it was then, and someone who unsubscribes while the
    send holds the database must not be mailed later in the same run.
    """
    # The main database's file; "" for an in-memory copy (a dry run), which has no journal.
    path = next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")
    if not path or not has_pending(Path(path)):
        return 0
    return apply(db, Path(path))


def apply_unsaved(db: Database, db_path: Path) -> int:
    """Apply the recorded requests to ``db`` (a dry run's copy), leaving the journal as it is."""
    try:
        requests, skipped = _read_all(_all_journals(db_path))
    except OSError as exc:
        raise NewsletterError(
            f"{exc.filename}: cannot read the recorded unsubscribes ({exc.strerror or exc}). "
            "Make it readable, then run the command again."
        ) from None
    with writing(db):
        changed = _unsubscribe(db, requests)
    _warn(journal_path(db_path), skipped)
    return changed


def _warn(journal: Path, skipped: int) -> None:
    if skipped:
        click.echo(
            f"warning: {journal}: skipped {plural(skipped, 'unreadable line')} (cut short by "
            "a crash, or not written by newsletter); the other requests were applied.",
            err=True,
        )


def _unsubscribe(db: Database, requests: list[Request]) -> int:
    changed = 0
    for request in requests:
        changed += contacts.unsubscribe(
            db,
            request.contact_id,
            source=f"unsubscribe-link:{request.issue_id}",
            actor="recipient",
            at=request.at,
        )
    return changed


def _claim(journal: Path, claimed: Path) -> None:
    """Rename the journal to ``claimed``, under the lock every append takes."""
    try:
        fd = os.open(journal, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(journal, claimed)
    finally:
        os.close(fd)
    fsync_folder(journal.parent, required=True)


def check_folder(db_path: Path) -> None:
    """Raise OSError unless a journal could be written beside the database now."""
    journal = journal_path(db_path)
    fd, probe = tempfile.mkstemp(prefix=f".{journal.name}.", dir=journal.parent)
    os.close(fd)
    os.unlink(probe)
    if journal.exists():
        os.close(os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC))
