"""newsletter.cli.web: `newsletter serve` says when it cannot listen."""

from __future__ import annotations

import socket

from helpers import cli

SECRET = "a-test-secret-that-is-long-enough"


def test_serve_says_when_it_cannot_listen(project, people, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(project, "serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: 127.0.0.1:{port}: cannot listen (Address already in use). "
        "Pass another --port, or a --host of this machine.\n"
    )
