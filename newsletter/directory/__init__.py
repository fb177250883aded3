"""The living directory: proposed changes and their review, the data-quality check, and
its own mailings (confirmation rounds, the welcome of a successor).

Self-service pages, auto-replies, stewards and syncs ``propose`` changes; an
editor ``approve``s or ``reject``s them (``proposals``). ``propose`` itself is in
``store.proposals``, below every stage, so that ``returns`` (a departure notice
in an auto-reply) proposes through the same rule. ``check`` gives advice
on the entries as they stand: it lives in ``contacts.checks`` (it is about
the contacts' fields, and the build report shows it too) and is named here
for the command line. A focal point's own pages on
``serve`` ("Check your entry", the members' directory with its vCards) are a
blueprint (``web``) that ``newsletter.server`` adds to the app; ``steward`` names
who may propose for a whole organisation. ``prepare_round`` and
``prepare_welcome`` make a mailing (``send.mailing``) that ``send.deliver_mailing``
sends through ``send``'s run; ``welcome`` does both for the successors an approval added.
``correct`` records a published correction of an earlier issue
(``corrections``). The rows live in ``store.proposals``, ``store.seats``,
``store.corrections`` and ``store.contacts``.
"""

from newsletter.contacts.checks import CheckResult, Finding, check, international, un_entities
from newsletter.directory.corrections import Recorded, correct, corrections
from newsletter.directory.proposals import Pending, approve, confirm, reject, review
from newsletter.directory.round import prepare_round
from newsletter.directory.stewards import Stewardship, steward
from newsletter.directory.web import blueprint
from newsletter.directory.welcome import (
    Approved,
    Welcomed,
    approve_welcoming,
    prepare_welcome,
    welcome,
    welcome_approved,
)
from newsletter.store.proposals import KINDS, SOURCES, propose

__all__ = [
    "KINDS",
    "SOURCES",
    "Approved",
    "CheckResult",
    "Finding",
    "Pending",
    "Recorded",
    "Stewardship",
    "Welcomed",
    "approve",
    "approve_welcoming",
    "blueprint",
    "check",
    "confirm",
    "correct",
    "corrections",
    "international",
    "prepare_round",
    "prepare_welcome",
    "propose",
    "reject",
    "review",
    "steward",
    "un_entities",
    "welcome",
    "welcome_approved",
]
