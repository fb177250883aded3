"""Files in and out: one UTF-8 check with one message, one way to write atomically.

Every file the tool writes lands whole or not at all: it is written to a
temporary name in the same folder (so the rename never crosses file systems),
flushed to disk, then renamed over the target. A crash or a full disk leaves
the old file, never half a new one.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from newsletter.errors import NewsletterError

# Files no output option may ever replace, --force or not: the house settings by
# name, and any SQLite database (contacts.db under whatever name it is given).
NEVER_REPLACED = ("pyproject.toml",)
_SQLITE = b"SQLite format 3\x00"
_DB_COMPANIONS = ("-wal", "-shm", "-journal")
# An item, issue.toml or intro.md is a few KB of text a person wrote. A file over
# this is not one, and reading it whole would only cost memory and time.
MAX_TEXT_BYTES = 1024 * 1024


class NotRegular(OSError):
    """A path that is not a regular file (a FIFO, a device, a socket, a folder)."""


class TooLarge(OSError):
    """A file over the size its reader accepts."""


class NotUTF8(ValueError):
    """Text that is not UTF-8: ``line`` is where the first bad byte is."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def decode(data: bytes) -> str:
    """UTF-8 text with any byte-order mark dropped; NotUTF8 naming the byte and its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = "; it looks like Latin-1 or Windows-1252" if _looks_8bit(data) else ""
        raise NotUTF8(
            line, f"not UTF-8 (byte 0x{data[exc.start]:02x}{guess}). Save the file as UTF-8."
        ) from None


def _looks_8bit(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def fsync_folder(folder: Path, required: bool = False) -> None:
    """Make a new or renamed file in ``folder`` durable too (it survives a power cut).

    A no-op where a folder cannot be opened or fsynced, unless ``required``: the
    unsubscribe journal answers "recorded" only once it is durable, so there a
    failure is the OSError.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        if required:
            raise
        return
    try:
        os.fsync(fd)
    except OSError:
        if required:
            raise
    finally:
        os.close(fd)


def _stage(folder: Path, name: str, data: str | bytes, encoding: str) -> Path:
    """Write ``data`` to a new temporary file in ``folder``, flushed to disk; its path."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data if isinstance(data, bytes) else data.encode(encoding))
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomic(
    path: Path, data: str | bytes, encoding: str = "utf-8", *, replace: bool = True
) -> None:
    """Write one file so that readers see the old one or the whole new one, never half.

    ``replace=False``: a new file only; FileExistsError if ``path`` exists, even
    one another program made a moment ago (a hard link is made, never a rename
    over it).
    """
    tmp = _stage(path.parent, path.name, data, encoding)
    try:
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_folder(path.parent)


def write_files(folder: Path, files: Mapping[str, str | bytes], encoding: str = "utf-8") -> None:
    """Write several files into ``folder``: all are staged before any is renamed in.

    A failure while staging (a full disk) leaves every old file in place.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            staged.append((_stage(folder, name, data, encoding), folder / name))
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    fsync_folder(folder)


@contextmanager
def new_folder(final: Path, replace: bool = False) -> Iterator[Path]:
    """A folder to fill, renamed to ``final`` when the block ends without error.

    For ``new`` and ``archive``: a reader never sees a half-made folder, and an
    interrupted run leaves nothing behind. With ``replace``, an existing
    ``final`` is swapped out with two renames, so it is never half written
    either; without, FileExistsError if ``final`` appeared in the meantime.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.new-", dir=final.parent))
    try:
        yield staging
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a web server must read it
        old = None
        if final.exists() and not replace:
            raise FileExistsError(final)
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
            os.replace(final, old / final.name)
        os.replace(staging, final)
        fsync_folder(final.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def what_is(mode: int) -> str:
    """A file's kind as a message names it: "a folder", "a FIFO", "a device"..."""
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"  # a door or a whiteout: no reader wants one


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    NotRegular for anything else: opening a FIFO for reading waits for a writer
    forever, and a device may never end, so the file is opened without waiting
    and looked at before a byte is read. TooLarge when it holds more than ``limit``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegular(errno.EINVAL, f"is {what_is(mode)}, not a file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise TooLarge(errno.EFBIG, f"is larger than {limit:,} bytes")
    return data


def is_regular(path: Path) -> bool:
    """Whether ``path`` is a regular file (following a symlink), without opening it."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def check_output(path: Path, *, force: bool = False, keep: Iterable[Path] = ()) -> None:
    """Refuse an output file a command was told to write, when writing would destroy data.

    The one rule for every option that names an output file (``contacts export
    -o``; a folder is ``check_folder``'s): a folder, a device, a FIFO or a socket is
    never written; neither is pyproject.toml, any SQLite database, nor a file
    in ``keep`` (the configured contacts.db and its journal files); an existing
    file is replaced only with ``force``. NewsletterError says which and how to fix it.
    """
    info = _existing(path, str(path), "path")
    if info is None:
        return  # a new file: a missing folder is the writer's one-line error
    if not stat.S_ISREG(info.st_mode):
        raise NewsletterError(
            f"{path}: is {what_is(info.st_mode)}, not a file. Give a file name to write to."
        )
    if _protected(path, keep):
        raise NewsletterError(
            f"{path}: is the contacts database or the house settings, and is never "
            "overwritten. Give another file name."
        )
    if not force:
        raise NewsletterError(
            f"{path}: already exists. Pass --force to replace it, or give another file name."
        )


def _existing(path: Path, shown: str, kind: str) -> os.stat_result | None:
    """What is at an output ``path`` now; None when nothing is (both checks start here)."""
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NewsletterError(
            f"{shown}: cannot be used ({exc.strerror}). Give another {kind}."
        ) from None


def cannot_write(
    path: object, exc: OSError, state: str = "nothing there was changed"
) -> NewsletterError:
    """The one line for a write that failed: a full disk, a read-only folder, anything else.

    Every writer here stages and renames, so the old file is always still there;
    ``state`` says what a writer of several files left.
    """
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        fix = "The disk is full (or over a size limit); free some space and run again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "Check that you may write there"
    elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
        fix = "Check that the folder exists"
    else:
        fix = "Check the path and run again"
    return NewsletterError(f"{path}: cannot write it ({exc.strerror or exc}). {fix}; {state}.")


def check_folder(
    path: Path,
    fix: str = "Give a folder to write to.",
    display: str | None = None,
) -> None:
    """Refuse an output folder that is a file, a device or a FIFO (it may not exist yet).

    ``display`` names the folder in the message (default: ``path`` as given).
    """
    shown = display or str(path)
    info = _existing(path, shown, "folder")
    if info is None:
        return
    if not stat.S_ISDIR(info.st_mode):
        raise NewsletterError(f"{shown}: is {what_is(info.st_mode)}, not a folder. {fix}")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or a.samefile(b)
    except OSError:
        return False


def _protected(path: Path, keep: Iterable[Path]) -> bool:
    """pyproject.toml, a SQLite database, or one of ``keep`` and its journal files."""
    if path.resolve().name in NEVER_REPLACED:
        return True
    for kept in keep:
        if any(_same(path, Path(f"{kept}{tail}")) for tail in ("", *_DB_COMPANIONS)):
            return True
    try:
        with open(path, "rb") as fh:
            return fh.read(len(_SQLITE)) == _SQLITE
    except OSError:
        return False
