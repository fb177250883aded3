"""newsletter.returns.dsn on flufl.bounce's labelled real-world bounces.

flufl.bounce (Mailman's bounce detector) ships ~115 real bounces in its source
distribution, labelled in its tests/test_detectors.py with the addresses each one
reports. The messages are read straight out of the sdist, never copied here, and the
labels are read as data (ast), never imported or run. `.ci/run` downloads the sdist
into .cache/; NEWSLETTER_BOUNCE_SAMPLES points elsewhere.
"""

from __future__ import annotations

import ast
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsletter.returns.dsn import Bounce, classify

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = 108  # of the 111 labelled with addresses (issue 11)
# Each miss, and why: so a new miss fails even while the figure holds.
KNOWN_MISSES = {
    # "RE: Your message to GPC-talk awaits moderator approval : non remis", from a
    # person's address, no null return path, no report: nothing tells it from a
    # person's reply that quotes a bounce, which must never pass for one.
    "simple_20.txt": "a reply's subject from an ordinary sender",
}


@dataclass(frozen=True)
class Sample:
    name: str
    addresses: frozenset[str]  # lower-cased; empty: flufl's detectors name no one
    temporary: bool  # labelled a warning (the server is still trying)
    data: bytes


def _sdist() -> Path:
    given = os.environ.get("NEWSLETTER_BOUNCE_SAMPLES")
    found = [Path(given)] if given else sorted((ROOT / ".cache").glob("flufl_bounce-*.tar.gz"))
    if not found or not found[-1].is_file():
        where = given or f"{ROOT / '.cache'}/flufl_bounce-*.tar.gz"
        pytest.skip(
            f"flufl.bounce's sdist not found at {where}: run `pip download --no-deps "
            "--no-binary :all: flufl.bounce==6.0.0 -d .cache` or set NEWSLETTER_BOUNCE_SAMPLES"
        )
    return found[-1]


def _labels(source: str) -> list[tuple[str, str, list[bytes], bool]]:
    """The DETECTORS table of test_detectors.py: (detector, file, addresses, temporary)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DETECTORS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("no DETECTORS table in flufl.bounce's test_detectors.py")


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    with tarfile.open(_sdist()) as tar:
        members = {m.name.partition("/tests/")[2]: m for m in tar if "/tests/" in m.name}

        def read(name: str) -> bytes:
            handle = tar.extractfile(members[name])
            assert handle is not None, name
            return handle.read()

        # One file may be labelled by several detectors (groupwise_02: GroupWise finds
        # nothing, Exchange finds the address); what any of them names is the answer.
        found: dict[str, tuple[set[str], bool]] = {}
        for _, name, addresses, temporary in _labels(read("test_detectors.py").decode()):
            known, _ = found.setdefault(name, (set(), temporary))
            known.update(a.decode().lower() for a in addresses)
        # Its scan test: no detector finds anything in this Microsoft notice.
        found.setdefault("dumbass_01.txt", (set(), False))
        return [
            Sample(name, frozenset(a), temp, read(f"data/{name}"))
            for name, (a, temp) in sorted(found.items())
        ]


def _right(sample: Sample, bounce: Bounce) -> bool:
    """The exact set of addresses flufl's tests expect, as a failure of the right kind."""
    named = {r.lower() for r in bounce.recipients}
    kinds = ("delayed", "soft") if sample.temporary else ("hard", "soft")
    return named == sample.addresses and bounce.kind in kinds


def test_labelled_samples_name_the_failed_addresses(samples):
    labelled = [s for s in samples if s.addresses]
    assert len(labelled) == 111
    results = {s.name: classify(s.data) for s in labelled}
    missed = {s.name: results[s.name] for s in labelled if not _right(s, results[s.name])}
    right = len(labelled) - len(missed)
    detail = "; ".join(f"{n}: {b.kind} {b.recipients}" for n, b in missed.items())
    assert right >= REQUIRED, f"{right} of {len(labelled)} right; missed {detail}"
    assert set(missed) <= set(KNOWN_MISSES), f"new misses: {detail}"


def test_warnings_are_never_hard(samples):
    """A warning (the server is still trying) must not retire anyone."""
    warnings = [s for s in samples if s.temporary]
    assert len(warnings) == 11
    assert [
        (s.name, classify(s.data).kind) for s in warnings if classify(s.data).kind == "hard"
    ] == []


def test_unlabelled_samples_name_no_one_as_gone(samples):
    """flufl names no address in these (a spam block, a bounce naming no one, a person's
    reply, an auto-reply, a notice): no address may come out as a hard bounce."""
    unlabelled = [s for s in samples if not s.addresses]
    assert [s.name for s in unlabelled] == [
        "dumbass_01.txt",
        "groupwise_03.txt",
        "qmail_08.txt",
        "simple_42.txt",
        "simple_43.txt",
    ]
    hard = [(s.name, b.recipients) for s in unlabelled if (b := classify(s.data)).kind == "hard"]
    assert [(name, found) for name, found in hard if found] == []
