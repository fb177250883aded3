"""Contributions (issue 15): email-in, the form and the tracker, beside baselines from the same run.

Not a test. Run:

    python benchmarks/intake.py [--messages 2000] [--rounds 3] [--ack] [--requests 30]
        [--issues 12] [--items 20] [--organisations 40] [--contributions 2000]
        [--tracker-rounds 15] [--part all|mail|form|tracker]

Three tables, each timed in-process, each figure beside its baselines, interleaved
round by round, medians:

1. Email-in: ``intake.intake`` (no acknowledgements) on a Maildir of MESSAGES
   messages made from the test builders (``tests/intake_mail.py``: plain text,
   Outlook HTML, forwarded, with an attachment, auto-reply), each with its own
   Message-ID and subject, from 30 focal points of 30 organisations and one
   sender in five unknown; a fresh contacts.db and inbox each round. Baselines:
   ``returns.bounces.read_mailbox`` over the same Maildir (reading the files) and
   ``intake.read_message`` over the same bytes (reading each message). Then the
   second run, everything already taken, beside what it needs at least: each
   message's key (``intake.key_of``) and one ``store.intake.taken_keys``. With
   --ack, also the first run as the command runs it, acknowledging each known
   sender (the house outbox sender). Peak RSS (``ru_maxrss``) after the
   baselines of the first round and after its intake: only ever grows.
2. The form: a valid POST to ``/submit/<token>`` through ``newsletter.server``'s
   real app (Flask's test client: the app's own time, acknowledgement by the
   house outbox sender included), one focal point's link per POST (the rate
   limit is per link); baselines: a GET of the same form page, a 404, and the
   acknowledgement alone (``intake.ack.acknowledge``), a part of the POST.
3. The tracker: ``returns.track`` for 4 and for ISSUES issues over ISSUES issue
   folders of ITEMS items (half with an ``organisation``), ORGANISATIONS
   organisations with a listed focal point and CONTRIBUTIONS contributions
   recorded; baselines: ``store.intake.submitted`` and ``issue.list_items`` over
   the same issues, alone.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from helpers import SECRET, make_issue, new_project  # noqa: E402
from intake_mail import auto_reply, forwarded, outlook, plain, with_attachment  # noqa: E402

from newsletter import tokens  # noqa: E402
from newsletter.config import Settings, load_settings  # noqa: E402
from newsletter.intake import intake, key_of, read_message  # noqa: E402
from newsletter.intake.ack import acknowledge  # noqa: E402
from newsletter.issue import list_items  # noqa: E402
from newsletter.models import Contact  # noqa: E402
from newsletter.returns import track  # noqa: E402
from newsletter.returns.bounces import read_mailbox  # noqa: E402
from newsletter.server import create_app  # noqa: E402
from newsletter.store import open_db  # noqa: E402
from newsletter.store.base import writing  # noqa: E402
from newsletter.store.contacts import create_contact  # noqa: E402
from newsletter.store.intake import Taken, record_taken, submitted, taken_keys  # noqa: E402

KEY = SECRET.encode()
ORGANISATIONS = (
    "UNICEF UNDP ILO WFP UNHCR UNEP UNFPA UNIDO UNESCO FAO WHO IOM UNOPS UNCTAD ITC "
    "UN-Habitat UNAIDS UNITAR UNRWA WIPO IFAD UNODC OHCHR UNWomen ITU UPU WMO ICAO IMO "
    "UNWTO IAEA OCHA UNDRR UNV UNU ESCAP ECA ECLAC ESCWA UNECE"
).split()
KINDS = (plain, outlook, forwarded, with_attachment, auto_reply)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def organisation(n: int) -> str:
    return ORGANISATIONS[n % len(ORGANISATIONS)] + (f" {n // len(ORGANISATIONS)}" * (n >= 40))


def address(n: int) -> str:
    return f"fp{n}@{organisation(n).lower().replace(' ', '-')}.example"


def add_focal_points(root: Path, count: int, day: str = "2024-01-10") -> list[int]:
    """One listed focal point of each of ``count`` organisations; their ids."""
    db = open_db(root / "contacts.db")
    try:
        with writing(db):
            made = [
                create_contact(
                    db,
                    Contact(
                        email=address(n),
                        name=f"Focal Point {n}",
                        organisation=organisation(n),
                    ),
                    "bench",
                    at=f"{day}T09:00:00+00:00",
                )
                for n in range(count)
            ]
    finally:
        db.conn.close()
    return [c.id for c in made if c.id is not None]


# -- 1. email-in -----------------------------------------------------------------------


def message(n: int) -> bytes:
    """The n-th message: a builder's, from a known sender (4 in 5) or an unknown one."""
    msg = message_from_bytes(KINDS[n % len(KINDS)](), policy=policy.default)
    who = n % 30
    sender = (
        f"Focal Point {who} <{address(who)}>" if n % 5 else f"Someone {n} <someone{n}@example.net>"
    )
    msg.replace_header("From", sender)
    msg.replace_header("Message-ID", f"<bench-{n}@mail.example>")
    msg.replace_header("Subject", f"{msg['Subject']} (number {n})")
    return msg.as_bytes()


def email_in(tmp: Path, count: int, rounds: int, ack: bool) -> None:
    root = new_project(tmp / "mail")
    folder = make_issue(root, "2026-Q4")
    add_focal_points(root, 30)
    pristine = tmp / "pristine.db"
    shutil.copyfile(root / "contacts.db", pristine)
    box = tmp / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    for n in range(count):
        (box / "new" / f"{n:06d}.bench").write_bytes(message(n))
    settings = load_settings(root)
    sections = settings.section_keys

    def read_all() -> None:
        for _, data in read_mailbox(box):
            assert isinstance(data, bytes)

    raw = [data for _, data in read_mailbox(box) if isinstance(data, bytes)]

    def parse_all() -> None:
        for data in raw:
            read_message(data, sections)

    def keys_known() -> None:
        # What a second run needs at least: each message's key, and one look-up of them all.
        db = open_db(root / "contacts.db")
        try:
            taken_keys(
                db, [key_of(data) for _, data in read_mailbox(box) if isinstance(data, bytes)]
            )
        finally:
            db.conn.close()

    names = {
        "read": "baseline: read_mailbox (files only)",
        "parse": "baseline: read_message x each (no mailbox, no db)",
        "first": "intake, first run (ack=False)",
        "keys": "baseline: read_mailbox + key_of + taken_keys",
        "second": "intake, second run (all already taken)",
    }
    if ack:
        names["acked"] = "intake, first run, ack=True (outbox sender)"
    times: dict[str, list[float]] = {k: [] for k in names}
    peaks: list[float] = []
    outcome = ""
    for n in range(rounds):
        shutil.rmtree(folder / "inbox", ignore_errors=True)
        shutil.copyfile(pristine, root / "contacts.db")
        times["read"].append(timed(read_all))
        times["parse"].append(timed(parse_all))
        if n == 0:
            peaks.append(peak_mb())
        db = open_db(root / "contacts.db")
        try:
            start = time.perf_counter()
            first = intake(settings, db, folder, str(box), ack=False)
            times["first"].append(time.perf_counter() - start)
            if n == 0:
                peaks.append(peak_mb())
            times["keys"].append(timed(keys_known))
            start = time.perf_counter()
            second = intake(settings, db, folder, str(box), ack=False)
            times["second"].append(time.perf_counter() - start)
        finally:
            db.conn.close()
        if ack:  # the command's default: the same first run, acknowledging known senders
            shutil.rmtree(folder / "inbox")
            shutil.copyfile(pristine, root / "contacts.db")
            db = open_db(root / "contacts.db")
            try:
                start = time.perf_counter()
                intake(settings, db, folder, str(box))
                times["acked"].append(time.perf_counter() - start)
            finally:
                db.conn.close()
        outcome = f"first: {first.summary} second: {second.summary}"
    print(f"1. Email-in: {count} messages in a Maildir, {rounds} rounds, interleaved; medians")
    print(f"   {outcome}")
    print(f"   {'':<52} {'seconds':>8} {'msg/s':>8} {'x base':>7}")
    median = {key: statistics.median(values) for key, values in times.items()}
    reading = median["read"] + median["parse"]
    bases = {"first": reading, "acked": reading, "second": median["keys"]}
    for key, label in names.items():
        ratio = f"{median[key] / bases[key]:7.2f}" if key in bases else ""
        print(f"   {label:<52} {median[key]:8.3f} {count / median[key]:8.0f} {ratio}".rstrip())
    print("   x base: first runs against read_mailbox + read_message, the reading they must do;")
    print("   the second run against read_mailbox + key_of + taken_keys, all it must do")
    print(f"   peak RSS: {peaks[0]:.0f} MB after the baselines, {peaks[1]:.0f} MB after intake")


# -- 2. the form -----------------------------------------------------------------------


def the_form(tmp: Path, requests: int) -> None:
    root = new_project(tmp / "form")
    folder = make_issue(root, "2026-Q4")
    toml = folder / "issue.toml"  # a draft, as `newsletter new` makes one: open to contributions
    toml.write_text(toml.read_text(encoding="utf-8") + "draft = true\n", encoding="utf-8")
    # One link per POST, and a spare for warming up: the rate limit is per link.
    ids = add_focal_points(root, requests + 1)
    settings = load_settings(root)
    client = create_app(settings, root / "contacts.db", secret=KEY).test_client()
    links = [tokens.make_link_token(KEY, tokens.SUBMIT, i, time.time()) for i in ids]
    shown = links[0]
    posted = iter(range(len(links)))

    def get(path: str, status: int) -> Callable[[], object]:
        def fetch() -> None:
            answer = client.get(path)
            assert answer.status_code == status, (path, answer.status_code)

        return fetch

    def post() -> None:
        n = next(posted)
        link = links[n]
        form = {
            "csrf": tokens.make_form_token(KEY, link, int(time.time())),
            "once": secrets.token_hex(16),
            "title": f"Youth skills toolkit number {n}",
            "section": "tools",
            "link": f"https://www.unicef.example/toolkit/{n}",
            "date": "2026-11-12",
            "summary": "UNICEF has published a **toolkit** on youth skills for companies.",
        }
        answer = client.post(f"/submit/{link}", data=form)
        assert answer.status_code == 303, answer.get_data(as_text=True)[-2000:]

    def ack() -> None:
        failed = acknowledge(settings, folder, address(0), "Focal Point 0", "A toolkit")
        assert not failed, failed

    cases = {
        "baseline: GET /no-such-page (404)": get("/no-such-page", 404),
        "baseline: GET /submit/<token> (the form page)": get(f"/submit/{shown}", 200),
        "baseline: ack.acknowledge alone (outbox sender)": ack,
        "POST /submit/<token> (valid, taken in, ack by outbox)": post,
    }
    for action in cases.values():  # warm caches, imports and templates
        action()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(requests):
        for name, action in cases.items():
            times[name].append(timed(action))
    taken = len(list((folder / "inbox").glob("*.md")))
    print(f"2. The form: {requests} rounds, interleaved; median per request ({taken} taken in)")
    base = statistics.median(times["baseline: GET /submit/<token> (the form page)"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"   {name:<52} {median * 1000:8.2f} ms {median / base:6.2f}x GET")


# -- 3. the tracker --------------------------------------------------------------------

ITEM = """---
title: Item {n} of {issue}
section: {section}
link: https://example.org/{issue}/{n}
date: {date}
source: A source
{organisation}---
A short summary of item {n}, with a [link](https://example.org/more/{n}) in it.
"""


def the_tracker(
    tmp: Path, issues: int, items: int, organisations: int, contributions: int, rounds: int
) -> None:
    root = new_project(tmp / "tracker")
    settings: Settings = load_settings(root)
    sections = settings.section_keys
    ids = []
    for n in range(issues):
        year, quarter = 2024 + n // 4, n % 4 + 1
        issue = f"{year}-Q{quarter}"
        day = f"{year}-{quarter * 3:02d}-10"
        files = {
            f"item-{i}.md": ITEM.format(
                n=i,
                issue=issue,
                section=sections[i % len(sections)],
                date=day,
                # Half name an organisation, written as an editor would: any case.
                organisation=(
                    f"organisation: {organisation((n + i) % organisations).lower()}\n"
                    if i % 2
                    else ""
                ),
            )
            for i in range(items)
        }
        folder = make_issue(root, issue, items=files)
        toml = folder / "issue.toml"
        toml.write_text(
            toml.read_text(encoding="utf-8").replace("2026-12-15", day), encoding="utf-8"
        )
        ids.append(issue)
    add_focal_points(root, organisations, day="2023-06-01")
    db = open_db(root / "contacts.db")
    with writing(db):
        record_taken(
            db,
            [
                Taken(
                    f"bench-{k}",
                    ids[k % issues],
                    f"c-{k}.md",
                    # One in ten unverified; the rest spread over the organisations.
                    organisation(k % organisations) if k % 10 else "",
                    "form" if k % 3 == 0 else "email",
                )
                for k in range(contributions)
            ],
            "2026-11-01T00:00:00+00:00",
        )
    settings = load_settings(root)
    newest = ids[-4:]

    def lists(which: list[str]) -> Callable[[], object]:
        return lambda: [list_items(settings, root / "issues" / i) for i in which]

    cases: dict[str, Callable[[], object]] = {
        f"baseline: submitted, {issues} issues": lambda: submitted(db, ids),
        "baseline: list_items x 4 issues": lists(newest),
        "track(count=4)": lambda: track(settings, db, 4),
        f"baseline: list_items x {issues} issues": lists(ids),
        f"track(count={issues})": lambda: track(settings, db, issues),
    }
    try:
        for action in cases.values():
            action()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):
            for name, action in cases.items():
                times[name].append(timed(action))
        rows = len(track(settings, db, issues).rows)
    finally:
        db.conn.close()
    print(
        f"3. The tracker: {issues} issues x {items} items, {organisations} organisations, "
        f"{contributions} contributions ({rows} rows); {rounds} rounds, interleaved; medians"
    )
    median = {name: statistics.median(values) for name, values in times.items()}
    alone = median[f"baseline: submitted, {issues} issues"]
    bases = {
        "track(count=4)": alone + median["baseline: list_items x 4 issues"],
        f"track(count={issues})": alone + median[f"baseline: list_items x {issues} issues"],
    }
    for name, value in median.items():
        ratio = f"{value / bases[name]:6.2f}x submitted + list_items" if name in bases else ""
        print(f"   {name:<52} {value * 1000:8.2f} ms {ratio}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of email-in")
    parser.add_argument(
        "--ack", action="store_true", help="email-in: also a first run with acknowledgements"
    )
    parser.add_argument("--requests", type=int, default=30, help="rounds of the form")
    parser.add_argument("--issues", type=int, default=12)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--organisations", type=int, default=40)
    parser.add_argument("--contributions", type=int, default=2000)
    parser.add_argument("--tracker-rounds", type=int, default=15)
    parser.add_argument("--part", choices=("all", "mail", "form", "tracker"), default="all")
    args = parser.parse_args()
    os.environ.setdefault("NEWSLETTER_SECRET", SECRET)
    print(f"intake benchmark, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as name:
        tmp = Path(name)
        if args.part in ("all", "mail"):
            email_in(tmp, args.messages, args.rounds, args.ack)
        if args.part in ("all", "form"):
            the_form(tmp, args.requests)
        if args.part in ("all", "tracker"):
            the_tracker(
                tmp,
                args.issues,
                args.items,
                args.organisations,
                args.contributions,
                args.tracker_rounds,
            )


if __name__ == "__main__":
    main()
