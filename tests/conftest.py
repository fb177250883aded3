"""Shared fixtures: isolated settings, a throwaway project, the corpus, the local servers.

Helper functions live in helpers.py; this file holds only fixtures and the one
Hypothesis configuration every property test runs under.

Test modules are named after what they test, one per module: newsletter.issue.items
is tested in test_issue_items.py, a shared module such as newsletter.sanitize in
test_sanitize.py. Its property tests go in test_<name>_properties.py and tests on the
shared corpus in test_<name>_corpus.py. A command's tests go with the module of the
stage it drives; test_cli*.py holds what belongs to the command line itself, and
test_templates*.py, test_readme.py and test_style.py what is not Python.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from helpers import (
    CI_EXAMPLES,
    CORPUS,
    DEEP_FACTOR,
    SECRET,
    FeedServer,
    MotoSES,
    SESStandIn,
    SMTPServer,
    add_contacts,
    built,
    isolate,
    make_issue,
    new_project,
    ses_env,
)
from hypothesis import configuration, settings

from newsletter.models import Contact
from newsletter.store import open_db
from newsletter.store.contacts import create_contact

# Hypothesis keeps its example database and caches under the folder it was
# imported in (the repository), already while collecting: keep them in tmp,
# and keep no example database at all, so no test leaves state behind.
# Two profiles: "ci" (the default) tries CI_EXAMPLES examples per property;
# HYPOTHESIS_PROFILE=deep tries twenty times as many, for a longer run by hand.
# A property that runs a whole command asks for fewer with helpers.examples(n),
# which scales with the profile the same way.
configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "newsletter-hypothesis")
settings.register_profile("ci", database=None, deadline=None, max_examples=CI_EXAMPLES)
settings.register_profile(
    "deep", database=None, deadline=None, max_examples=CI_EXAMPLES * DEEP_FACTOR
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """No test sees the developer's environment or writes outside tmp_path."""
    isolate(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (set NEWSLETTER_CORPUS)")
    return CORPUS


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh project root: house settings and templates, no issues yet."""
    return new_project(tmp_path / "project")


@pytest.fixture
def outbox_ready(project):
    """The project with a built issue and 5 subscribed contacts, for the outbox sender."""
    built(project)
    add_contacts(project, 5)
    return project


@pytest.fixture
def smtp_ready(project, monkeypatch):
    """A built issue and 12 subscribed contacts, the secret set, fast retries: for SMTP."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    built(project, settings="[tool.newsletter.send]\nretry_delay = 0.01\n")
    add_contacts(project, 12)
    return project


@pytest.fixture
def ses_ready(project, monkeypatch, tmp_path):
    """A built issue, 6 subscribed contacts, the secret and AWS test credentials in the
    environment, fast retries: for the ses sender."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    ses_env(monkeypatch, tmp_path)
    built(project, settings="[tool.newsletter.send]\nretry_delay = 0.01\n")
    add_contacts(project, 6)
    return project


@pytest.fixture(scope="session")
def _moto_server():
    pytest.importorskip("moto.server", reason="moto or flask-cors is not installed (test extras)")
    with MotoSES() as server:
        yield server


@pytest.fixture
def moto(_moto_server):
    """moto's stand-alone SES on 127.0.0.1, emptied for each test."""
    _moto_server.reset()
    return _moto_server


@pytest.fixture
def ses():
    """The SES stand-in on 127.0.0.1 (helpers.SESStandIn): quotas, throttling, faults."""
    with SESStandIn() as server:
        yield server


@pytest.fixture
def feed_server():
    """An HTTP server on 127.0.0.1 serving ``feed_server.routes``."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def smtp():
    """An SMTP server on 127.0.0.1 that accepts everything not scripted to fail."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def contributors(project):
    """The project with issue 2026-Q4 and two focal points who send contributions by
    email (intake): Jane Doe of UNICEF and Omar Khan of UNDP."""
    make_issue(project)
    db = open_db(project / "contacts.db")
    for email, name, org in (
        ("jane.doe@unicef.example", "Jane Doe", "UNICEF"),
        ("omar@undp.example", "Omar Khan", "UNDP"),
    ):
        create_contact(db, Contact(email=email, name=name, organisation=org), "test", "t")
    db.conn.close()
    return project


@pytest.fixture
def people(project):
    """Two subscribed focal points in the project's contacts.db: (Jane, Omar)."""
    db = open_db(project / "contacts.db")
    jane = create_contact(db, Contact(email="jane.doe@unicef.example", name="Jane"), "test", "t")
    omar = create_contact(db, Contact(email="omar@undp.example", name="Omar"), "test", "t")
    db.conn.close()
    return jane, omar
