"""The web side and the return path: preview, archive, serve, desk, bounces."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import click

from newsletter.cli.env import Env, Named, pass_env, quiet_option
from newsletter.errors import NewsletterError
from newsletter.models import plural


@click.command()
@click.argument("issue_id")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True)
@pass_env
def preview(env: Env, issue_id: str, port: int) -> None:
    """Serve a live preview of an issue on 127.0.0.1: desktop and phone, text, report.

    Example: newsletter preview 2026-Q4
    """
    from newsletter.build import Preview, built_at
    from newsletter.contacts import directory_source

    folder = env.issue_dir(issue_id)
    directory = directory_source(env.settings, env.db_path, built_at)
    server = Preview(env.settings, folder, directory, port=port)
    server.rebuild()
    click.echo(f"Previewing issues/{issue_id} at {server.url} (Ctrl-C to stop)")
    if server.error:
        click.echo("The build failed; the page shows why.")
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
        click.echo("Stopped.")


@click.command()
@click.option(
    "--out",
    type=Named(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the site to.  [default: ROOT/site]",
)
@pass_env
def archive(env: Env, out: Path | None) -> None:
    """Publish the static web archive of every published issue (sent, or by publish).

    Example: newsletter archive --out site
    """
    from newsletter.publish import build_archive

    db = env.db if env.db_path.is_file() else None
    result = build_archive(env.settings, db, out or env.root / "site")
    for note in result.notes:
        click.echo(note)
    shown = result.out.relative_to(env.root) if result.out.is_relative_to(env.root) else result.out
    issues = ", ".join(result.issues) or "none yet"
    click.echo(
        f"Published {shown}/: {plural(len(result.issues), 'issue')} ({issues}), "
        f"{plural(result.files, 'file')}; open {shown}/index.html"
    )
    if db is None:
        click.echo(f"No {env.db_path.name}: the directory page says it is being updated.")


@click.command()
@click.argument("issue_id")
@pass_env
def publish(env: Env, issue_id: str) -> None:
    """Put an issue on the public site without a send (a send that completes does it too).

    Example: newsletter publish 2027-Q1
    """
    from newsletter.publish import set_published

    change = set_published(env.db, env.issue_dir(issue_id), True)
    if change.changed:
        click.echo(f"Published issues/{issue_id}: newsletter archive now puts it on the site.")
    else:
        click.echo(f"issues/{issue_id} is already published ({change.before.why}).")


@click.command()
@click.argument("issue_id")
@pass_env
def unpublish(env: Env, issue_id: str) -> None:
    """Take an issue off the public site at the next archive, even once it is sent.

    Example: newsletter unpublish 2027-Q1
    """
    from newsletter.publish import set_published

    change = set_published(env.db, env.issue_dir(issue_id), False)
    if change.changed:
        click.echo(f"Unpublished issues/{issue_id}: newsletter archive now leaves it off the site.")
    else:
        click.echo(f"issues/{issue_id} is not published ({change.before.why}).")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--site",
    type=Named(file_okay=False, path_type=Path),
    envvar="NEWSLETTER_SITE",
    show_envvar=True,
    default=None,
    help="The archive folder to serve.  [default: ROOT/site]",
)
@click.option(
    "--dev",
    is_flag=True,
    help="Werkzeug's development server instead of waitress: for trying it out, never "
    "for recipients.",
)
@pass_env
def serve(env: Env, host: str, port: int, site: Path | None, dev: bool) -> None:
    """Serve the archive, unsubscribe and the focal points' pages (needs NEWSLETTER_SECRET).

    Example: newsletter serve --host 127.0.0.1 --port 8000
    """
    import logging

    from newsletter.server import create_app

    app = create_app(env.settings, env.db_path, site)
    _check_listen(host, port)
    # Every log line on stderr, tokens masked by the loggers' own filter (create_app).
    logging.basicConfig(format="%(message)s")
    shown = f"[{host}]" if ":" in host else host  # an IPv6 literal, as a URL writes it
    _run(app, host, port, dev, f"Serving http://{shown}:{{port}}/ and /unsubscribe/<token>")


def _run(app: Any, host: str, port: int, dev: bool, serving: str) -> None:
    """Run ``app`` on ``host``:``port`` until Ctrl-C, saying ``serving`` (its ``{port}``
    filled in) and the server's name first."""
    from newsletter.returns import log_requests

    if dev:
        from werkzeug.serving import make_server

        dev_server = make_server(host, port, app, threaded=True)  # its access log: masked
        port, run = dev_server.server_port, dev_server.serve_forever
    else:
        from waitress import create_server

        server = create_server(log_requests(app), host=host, port=port)
        port, run = _waitress_port(server), server.run
    what = "Werkzeug's development server: not for recipients" if dev else "waitress"
    click.echo(f"{serving.format(port=port)} with {what} (Ctrl-C to stop)")
    try:
        run()
    except KeyboardInterrupt:
        pass  # waitress stops on it by itself, then returns
    click.echo("Stopped.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8100, show_default=True)
@pass_env
def desk(env: Env, host: str, port: int) -> None:
    """Serve the editor's desk: issues, inbox, items, build, review, send and report.

    Example: newsletter desk --port 8100
    """
    import logging
    import os

    from newsletter.desk import MIN_PASSWORD, PASSWORD_ENV, desk_app, is_loopback

    # On a network: a password, kept only as its hash. On loopback too when one is set:
    # the editor who set it expects it asked for (another user of a shared machine).
    password = os.environ.get(PASSWORD_ENV, "") or None
    if not is_loopback(host) and (password is None or len(password) < MIN_PASSWORD):
        raise NewsletterError(
            f"--host {host}: the desk on a network needs a password. Set {PASSWORD_ENV} "
            f"to at least {MIN_PASSWORD} characters, or keep --host 127.0.0.1."
        )
    if password is not None and len(password) < MIN_PASSWORD:
        raise NewsletterError(
            f"{PASSWORD_ENV}: the desk's password needs at least {MIN_PASSWORD} characters. "
            "Set a longer one, or unset it for a desk on 127.0.0.1 without a login."
        )
    if not env.db_path.is_file():
        raise NewsletterError(
            f"{env.db_path}: no contacts database here. Run it in the project folder, "
            "or pass --root or --db."
        )
    app = desk_app(env.settings, env.db_path, host, password)
    _check_listen(host, port)
    logging.basicConfig(format="%(message)s")
    shown = f"[{host}]" if ":" in host else host
    _run(app, host, port, False, f"The editor's desk is at http://{shown}:{{port}}/")


def _waitress_port(server: Any) -> int:
    """The port waitress listens on. A host with several addresses (localhost on a
    dual-stack machine: ::1 and 127.0.0.1) gets one socket each, and a server
    without ``effective_port``; the first socket's port is shown."""
    if hasattr(server, "effective_port"):
        return int(server.effective_port)
    return int(server.effective_listen[0][1])


def _check_listen(host: str, port: int) -> None:
    """Fail with one line, before "Serving", when the port is busy or the host wrong.

    The development server would print its own message and exit by itself.
    """
    from newsletter.schema import host_problem

    problem = host_problem(host)  # else getaddrinfo raises UnicodeError, not an OSError
    reason = f"the host name {problem}" if problem else None
    if reason is None:
        try:
            # The family the servers pick: IPv6 only for an IPv6 literal such as ::1.
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            address = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0][4]
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as both servers do
                probe.bind(address)
        except OSError as exc:
            reason = exc.strerror or str(exc)
    if reason is not None:
        from newsletter.sanitize import one_line

        raise NewsletterError(
            f"{one_line(host, 100)}:{port}: cannot listen ({reason}). "
            "Pass another --port, or a --host of this machine."
        )


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--match-address",
    is_flag=True,
    help="Apply a bounce with no Message-ID or signed return path of ours to the contact it names.",
)
@quiet_option
@pass_env
def bounces(env: Env, path: Path, match_address: bool, quiet: bool) -> None:
    """Process returned mail (an mbox file or a Maildir): bounces retire addresses.

    Example: newsletter bounces ~/Maildir/.bounces
    """
    from newsletter.returns import Summary, process

    if not env.db_path.is_file():
        # Run from the wrong folder, it would make an empty database and call every
        # bounce "not our mail"; the delivery ledger it needs lives in contacts.db.
        raise NewsletterError(
            f"{env.db_path}: no contacts database here. Run it in the project folder, "
            "or pass --root or --db."
        )
    summary = Summary()
    for outcome in process(
        env.db, path, match_address=match_address, return_path=env.settings.send.return_path
    ):
        if not quiet:
            click.echo(str(outcome))
        summary.add(outcome)
    click.echo(str(summary))


COMMANDS = {
    "preview": preview,
    "archive": archive,
    "publish": publish,
    "unpublish": unpublish,
    "serve": serve,
    "desk": desk,
    "bounces": bounces,
}
