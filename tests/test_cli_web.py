"""newsletter.cli.web: `newsletter serve` says when it cannot listen, and shows the port it got."""

from __future__ import annotations

import socket

import pytest
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


@pytest.mark.parametrize(
    ("host", "shown"),
    [("a" * 64 + ".example", "a" * 64 + ".example"), ("a..b", "a..b"), ("x\ny", "x y")],
)
def test_serve_on_a_host_name_no_resolver_can_ask_for_is_one_line(
    project, people, monkeypatch, host, shown
):
    # A label over 63 characters (or an empty one) was a UnicodeError traceback.
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    result = cli(project, "serve", "--host", host, "--port", "0")
    assert result.exit_code == 1
    reason = (
        "Name or service not known"
        if "\n" in host
        else "the host name has an empty part or a part over 63 characters"
    )
    assert result.output == (
        f"Error: {shown}:0: cannot listen ({reason}). "
        "Pass another --port, or a --host of this machine.\n"
    )


def test_the_port_waitress_listens_on_with_one_socket_or_several():
    """A host with two addresses (localhost on a dual-stack machine) gets a server
    with no effective_port; serve crashed on it after the checks had passed."""
    waitress = pytest.importorskip("waitress")
    from newsletter.cli.web import _waitress_port

    def app(environ, start_response):
        start_response("204 No Content", [])
        return []

    one = waitress.create_server(app, host="127.0.0.1", port=0)
    several = waitress.create_server(app, listen="127.0.0.1:0 127.0.0.1:0")
    try:
        assert not hasattr(several, "effective_port")
        assert _waitress_port(one) == one.socket.getsockname()[1]
        assert _waitress_port(several) == int(several.effective_listen[0][1]) > 0
    finally:
        one.close()
        several.close()


def _serve(project, *extra: str):
    """``newsletter serve --port 0`` as a process; returns it and its base URL."""
    import os
    import re
    import subprocess
    import sys

    env = {**os.environ, "NEWSLETTER_SECRET": SECRET}
    args = [sys.executable, "-m", "newsletter", "--root", str(project), "serve", "--port", "0"]
    proc = subprocess.Popen(
        [*args, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    first = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
    assert found, (first, proc.stderr.read() if proc.poll() is not None else "")
    return proc, f"http://127.0.0.1:{found[1]}", first


@pytest.mark.parametrize(
    ("extra", "server", "logged"),
    [
        ((), "waitress", '"GET /unsubscribe/<masked> HTTP/1.1" 200'),
        (("--dev",), "Werkzeug/", '"GET /unsubscribe/<masked> HTTP/1.1" 200'),
    ],
    ids=["waitress", "dev"],
)
def test_serve_logs_each_request_with_its_token_masked(project, people, extra, server, logged):
    """Werkzeug's development server, used whenever waitress was not installed, wrote
    every unsubscribe token into its access log. Now waitress serves unless --dev, and
    no log line of either shows a token."""
    import signal
    import urllib.request

    from newsletter.tokens import make_token

    jane, _omar = people
    token = make_token(SECRET.encode(), jane.id, "2026-Q4")
    proc, base, first = _serve(project, *extra)
    try:
        with urllib.request.urlopen(f"{base}/unsubscribe/{token}", timeout=10) as resp:
            assert resp.status == 200
            assert resp.headers["Server"].startswith(server)
        damaged = urllib.request.Request(f"{base}/unsubscribe/{token}/x", method="POST")
        try:
            urllib.request.urlopen(damaged, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 400
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    what = "Werkzeug's development server: not for recipients" if extra else "waitress"
    assert first == f"Serving {base}/ and /unsubscribe/<token> with {what} (Ctrl-C to stop)\n"
    assert token not in first + out + err
    assert token.split(".")[1] not in first + out + err  # not even the MAC alone
    assert logged in err
    assert "POST /unsubscribe/<masked> HTTP/1.1" in err  # werkzeug colours a 400
    assert out == "Stopped.\n"
