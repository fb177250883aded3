"""Benchmark `newsletter send`: the outbox, and SMTP into Postfix's smtp-sink.

    python benchmarks/send.py              # 20,000 recipients
    python benchmarks/send.py --large      # 100,000 recipients
    python benchmarks/send.py --readership # click links, and each reader's organisation part

Each send is a real ``newsletter send`` process on a throwaway project, timed
and measured for peak RSS. Beside it, in the same run, a baseline: a bare
smtplib loop with the same number of connections sending one pre-built
message of the same size. smtp-sink comes from Debian's ``postfix`` package
(``apt-get install postfix``; the daemon need not run). Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsletter.build.pipeline import build  # noqa: E402
from newsletter.config import load_settings  # noqa: E402
from newsletter.store import open_db  # noqa: E402

ITEM = """---
title: Benchmark item {n}
section: {section}
link: https://example.org/items/{n}
date: 2026-10-{day:02d}
source: UN Global Compact Office
---
{body}
"""
BODY = (
    "Focal points across the UN system met to compare how they screen companies, share "
    "due-diligence findings and report on partnerships with the private sector. "
)


ORGANISATIONS = 40  # with --readership, the contacts are spread over these (and none)


def make_project(
    root: Path,
    contacts: int,
    items: int,
    durable: bool,
    dkim_key: Path | None = None,
    readership: bool = False,
) -> Path:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    settings = text[text.index("[tool.newsletter]") :]
    if readership:  # every link of the email through /r/, and an organisation part per reader
        settings = settings.replace(
            "[tool.newsletter]\n", '[tool.newsletter]\nreadership = "aggregate"\n', 1
        )
        os.environ.setdefault("NEWSLETTER_SECRET", "benchmark-secret-0123456789")
    settings += f"\n[tool.newsletter.send]\ndurable = {str(durable).lower()}\n"
    if dkim_key:
        settings += f'\n[tool.newsletter.send.dkim]\nselector = "bench"\nkey_file = "{dkim_key}"\n'
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(settings, encoding="utf-8")
    shutil.copytree(REPO / "templates", root / "templates")
    folder = root / "issues" / "2026-Q4"
    (folder / "items").mkdir(parents=True)
    (folder / "issue.toml").write_text(
        'number = 14\ntitle = "Benchmark"\ndate = 2026-12-15\n'
        'subject = "The UN-Business Focal Point: benchmark issue"\n'
        'preheader = "News, tools and events for UN private-sector focal points."\n',
        encoding="utf-8",
    )
    (folder / "intro.md").write_text("Dear colleagues, welcome.\n", encoding="utf-8")
    sections = ["news", "tools", "events", "spotlight"]
    for n in range(items):
        (folder / "items" / f"item-{n}.md").write_text(
            ITEM.format(n=n, section=sections[n % 4], day=n % 28 + 1, body=BODY * 3),
            encoding="utf-8",
        )
    result = build(load_settings(root), folder)
    assert result.ok, result.report.errors
    db = open_db(root / "contacts.db")
    orgs = ORGANISATIONS if readership else 0
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO organisations (id, name) VALUES (?, ?)",
            ((n, f"Agency {n}") for n in range(1, orgs + 1)),
        )
        db.conn.executemany(
            "INSERT INTO contacts (email, name, organisation_id, status, listed, source,"
            " created_at, updated_at)"
            " VALUES (?, ?, ?, 'subscribed', 1, 'bench', '2026-11-01', '2026-11-01')",
            (
                (f"person{n}@example.org", f"Person Número {n}", n % (orgs + 1) or None)
                for n in range(contacts)
            ),
        )
    db.conn.close()
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink() -> tuple[subprocess.Popen, int]:
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(sink).exists():
        sys.exit("smtp-sink not found: apt-get install postfix (the daemon need not run)")
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([sink, *user, f"127.0.0.1:{port}", "1024"])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    sys.exit("smtp-sink did not start")


def run_send(root: Path, args: list[str]) -> dict:
    """One `newsletter send` process: its own rate figure, wall time and peak RSS."""
    env = {**os.environ, "NEWSLETTER_SECRET": "benchmark-secret-0123456789"}
    cmd = [
        sys.executable,
        "-m",
        "newsletter",
        "--root",
        str(root),
        "send",
        "2026-Q4",
        "--yes",
        *args,
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"send failed:\n{out}")
    match = re.search(r"Sent ([\d,]+) via \S+ in ([\d.]+) s", out)
    sent, seconds = int(match[1].replace(",", "")), float(match[2])
    return {
        "sent": sent,
        "seconds": seconds,
        "rate": sent / seconds,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "user": usage.ru_utime,
        "rss_mb": usage.ru_maxrss / 1024,
    }


def smtplib_baseline(port: int, message: bytes, count: int, connections: int) -> float:
    """Messages a second for a bare smtplib loop: one pre-built message, N threads."""
    per_thread = [count // connections + (i < count % connections) for i in range(connections)]

    def loop(n: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as conn:
            for i in range(n):
                conn.sendmail("focalpoint@example.org", [f"person{i}@example.org"], message)

    threads = [threading.Thread(target=loop, args=(n,)) for n in per_thread]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count / (time.perf_counter() - started)


def smtp_source_ceiling(port: int, size: int, count: int, connections: int) -> float | None:
    """Postfix's C client into the same sink: what this machine can do at all."""
    source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    if not Path(source).exists():
        return None
    args = [
        source,
        "-d",
        "-s",
        str(connections),
        "-m",
        str(count),
        "-l",
        str(size),
        "-f",
        "focalpoint@example.org",
        "-t",
        "person@example.org",
        f"127.0.0.1:{port}",
    ]
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="100,000 recipients")
    parser.add_argument("-n", type=int, help="recipients (default 20,000)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--items", type=int, default=3, help="items in the issue (about 30 KB)")
    parser.add_argument(
        "--no-durable", action="store_true", help="ledger commits without fsync (durable = false)"
    )
    parser.add_argument("--dkim", action="store_true", help="sign with a 2048-bit DKIM key")
    parser.add_argument(
        "--readership",
        action="store_true",
        help=f'readership = "aggregate", contacts in {ORGANISATIONS} organisations',
    )
    parser.add_argument("--skip-outbox", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    opts = parser.parse_args()
    n = opts.n or (100_000 if opts.large else 20_000)
    work = Path(tempfile.mkdtemp(prefix="newsletter-bench-"))
    sink = None
    try:
        key = _dkim_key(work / "keys") if opts.dkim else None
        root = work / "project"
        folder = make_project(root, n, opts.items, not opts.no_durable, key, opts.readership)
        html_kb = (folder / "build" / "email.html").stat().st_size / 1024
        conc = ["--concurrency", str(opts.concurrency)]
        print(
            f"{n:,} recipients, concurrency {opts.concurrency}, "
            f"durable ledger commits: {not opts.no_durable}, DKIM: {opts.dkim}, "
            f"readership: {opts.readership}"
        )
        rows = []
        if not opts.skip_outbox:
            rows.append(("outbox", run_send(root, conc)))
            size = (folder / "outbox" / "person0@example.org.eml").stat().st_size
            print(
                f"message size: {size / 1024:.1f} KB (HTML part {html_kb:.1f} KB before encoding)"
            )
            shutil.rmtree(folder / "outbox")  # 20,000 x 30 KB: do not keep it around
        sink, port = start_sink()
        options = ["host=127.0.0.1", f"port={port}", "security=none"]
        smtp = ["--sender", "smtp", *(x for o in options for x in ("-o", o)), *conc]
        rows.append(("smtp -> smtp-sink", run_send(root, smtp)))
        data = _one_message(root)
        baseline = smtplib_baseline(port, data, n, opts.concurrency)
        print(
            f"{'sender':<20}{'messages':>10}{'seconds':>9}{'msg/s':>9}{'wall s':>8}"
            f"{'CPU s':>7}{'peak RSS':>11}"
        )
        for name, r in rows:
            print(
                f"{name:<20}{r['sent']:>10,}{r['seconds']:>9.1f}{r['rate']:>9,.0f}"
                f"{r['wall']:>8.1f}{r['cpu']:>7.1f}{r['rss_mb']:>8.1f} MB"
            )
        smtp_rate = rows[-1][1]["rate"]
        print(
            f"{'smtplib baseline':<20}{n:>10,}{n / baseline:>9.1f}{baseline:>9,.0f}"
            f"   ({opts.concurrency} threads, one pre-built {len(data) / 1024:.1f} KB message)"
        )
        ceiling = smtp_source_ceiling(port, len(data), n, opts.concurrency)
        if ceiling:
            print(
                f"{'smtp-source (C)':<20}{n:>10,}{n / ceiling:>9.1f}{ceiling:>9,.0f}"
                "   (the ceiling: Postfix's own client, same sink)"
            )
        print(f"smtp send / baseline: {smtp_rate / baseline:.0%}")
    finally:
        if sink:
            sink.terminate()
            sink.wait()
        if opts.keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _dkim_key(folder: Path) -> Path:
    """A throwaway 2048-bit key, outside the project folder as the tool requires."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder.mkdir(parents=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (folder / "dkim.pem").write_bytes(pem)
    return folder / "dkim.pem"


def _one_message(root: Path) -> bytes:
    """A message exactly as the send builds it, for the baseline."""
    from newsletter.send.preflight import prepare
    from newsletter.send.rehearse import sample

    os.environ.setdefault("NEWSLETTER_SECRET", "benchmark-secret-0123456789")
    settings = load_settings(root)
    prep = prepare(settings, root / "issues" / "2026-Q4")
    db = open_db(root / "contacts.db")
    return sample(db, prep)[1]


if __name__ == "__main__":
    main()
