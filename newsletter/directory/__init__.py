"""The living directory: proposed changes and their review, and the data-quality check.

Self-service pages, auto-replies, stewards and syncs ``propose`` changes; an
editor ``approve``s or ``reject``s them (``proposals``). ``propose`` itself is in
``store.proposals``, below every stage, so that ``returns`` (a departure notice
in an auto-reply) proposes through the same rule. ``check`` gives advice
on the entries as they stand: it lives in ``contacts.checks`` (it is about
the contacts' fields, and the build report shows it too) and is named here
for the command line. The rows live in ``store.proposals``
and ``store.contacts``. ``correct`` records a published correction of an earlier
issue (``corrections``).
"""

from newsletter.contacts.checks import CheckResult, Finding, check, international, un_entities
from newsletter.directory.corrections import Recorded, correct, corrections
from newsletter.directory.proposals import Pending, approve, reject, review
from newsletter.store.proposals import KINDS, SOURCES, propose

__all__ = [
    "KINDS",
    "SOURCES",
    "CheckResult",
    "Finding",
    "Pending",
    "Recorded",
    "approve",
    "check",
    "correct",
    "corrections",
    "international",
    "propose",
    "reject",
    "review",
    "un_entities",
]
