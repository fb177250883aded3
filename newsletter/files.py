"""Files in and out: one UTF-8 check with one message, one way to write atomically.

Every file the tool writes lands whole or not at all: it is written to a
temporary name in the same folder (so the rename never crosses file systems),
flushed to disk, then renamed over the target. A crash or a full disk leaves
the old file, never half a new one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


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


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable too (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
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


def write_atomic(path: Path, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write one file so that readers see the old one or the whole new one, never half."""
    tmp = _stage(path.parent, path.name, data, encoding)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


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
    _fsync_folder(folder)


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
        _fsync_folder(final.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
