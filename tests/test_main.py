"""newsletter/__main__.py: a Ctrl-C while the command line loads or runs is one line and
exit 130, even when it surfaces as another exception."""

from __future__ import annotations

import signal
import sys

import pytest

import newsletter.cli
from newsletter import __main__ as entry
from newsletter import errors


@pytest.fixture(autouse=True)
def wakeup():
    """run() sets the interpreter's wakeup pipe: give pytest its own back."""
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.set_wakeup_fd(before)
    signal.signal(signal.SIGINT, handler)


def interrupted_inside_an_import() -> None:
    """What CPython does when a Ctrl-C lands while ``_ssl`` initialises: the
    KeyboardInterrupt comes out as a TypeError."""
    try:
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        raise TypeError("expected a message argument") from None


def a_bug() -> None:
    raise TypeError("expected a message argument")


def test_a_ctrl_c_that_surfaces_as_another_exception_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(newsletter.cli, "main", interrupted_inside_an_import)
    with pytest.raises(SystemExit) as stopped:
        entry.run()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "\nInterrupted.\n"


def test_a_plain_ctrl_c_is_one_line(monkeypatch, capsys):
    monkeypatch.setattr(newsletter.cli, "main", lambda: signal.raise_signal(signal.SIGINT))
    with pytest.raises(SystemExit) as stopped:
        entry.run()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "\nInterrupted.\n"


def test_a_bug_without_a_ctrl_c_still_raises(monkeypatch):
    monkeypatch.setattr(newsletter.cli, "main", a_bug)
    with pytest.raises(TypeError, match="expected a message argument"):
        entry.run()


def test_a_ctrl_c_dropped_while_loading_stops_before_the_command(monkeypatch, capsys):
    ran = []
    # Handled, and nothing raised: as when CPython drops one in a weakref callback.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.raise_signal(signal.SIGINT)  # before run() watches: not seen
    monkeypatch.setattr(newsletter.cli, "main", lambda: ran.append(1))
    entry.run()
    assert ran == [1]  # nothing was seen while loading: the command runs

    ran.clear()
    real_watch = entry._watch_signals

    def watch_then_drop() -> int | None:
        seen = real_watch()
        signal.raise_signal(signal.SIGINT)  # ignored, as a dropped one, but written to the pipe
        return seen

    monkeypatch.setattr(entry, "_watch_signals", watch_then_drop)
    with pytest.raises(SystemExit) as stopped:
        entry.run()
    assert stopped.value.code == 130
    assert ran == []
    assert capsys.readouterr().err == "\nInterrupted.\n"


def test_a_ctrl_c_while_the_entry_module_imports_is_one_line(monkeypatch, capsys):
    """The first lines of ``python -m newsletter`` import ``signal``: a Ctrl-C there,
    before any handler is ours, is still one line (CI saw its traceback once)."""
    import builtins
    import runpy

    real_import = builtins.__import__

    def interrupted(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "signal":
            raise KeyboardInterrupt
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.delitem(sys.modules, "newsletter.__main__")  # run afresh, as ``-m`` does
    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as stopped:
        try:
            runpy.run_module("newsletter.__main__", run_name="__main__")
        except KeyboardInterrupt:
            pytest.fail("the Ctrl-C came out of newsletter/__main__.py as a traceback")
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "\nInterrupted.\n"


def test_each_ctrl_c_in_the_pipe_is_seen_once_and_other_signals_are_not():
    read = entry._watch_signals()
    assert read is not None
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.signal(signal.SIGUSR1, lambda signum, frame: None)
    assert entry._got_ctrl_c(read) is False
    signal.raise_signal(signal.SIGUSR1)
    assert entry._got_ctrl_c(read) is False
    signal.raise_signal(signal.SIGINT)
    signal.raise_signal(signal.SIGINT)
    assert entry._got_ctrl_c(read) is True
    assert entry._got_ctrl_c(read) is False  # read: the same Ctrl-C is not seen twice
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)


def test_the_command_can_ask_again_after_loading(monkeypatch):
    """``errors.ctrl_c_seen`` reads the same pipe once the command line is loaded."""
    asked = []
    monkeypatch.setattr(errors, "ctrl_c_seen", errors.ctrl_c_seen)  # given back afterwards
    signal.signal(signal.SIGINT, lambda signum, frame: None)

    def command() -> None:
        asked.append(errors.ctrl_c_seen())
        signal.raise_signal(signal.SIGINT)  # dropped inside the command's own imports
        asked.append(errors.ctrl_c_seen())

    monkeypatch.setattr(newsletter.cli, "main", command)
    entry.run()
    assert asked == [False, True]
