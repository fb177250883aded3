"""The living directory: proposed changes and their review, the data-quality check, and
its own mailings (confirmation rounds, the welcome of a successor).

Self-service pages, auto-replies, stewards and syncs ``propose`` changes; an
editor ``approve``s or ``reject``s them (``proposals``). ``propose`` itself is in
``store.proposals``, below every stage, so that ``returns`` (a departure notice
in an auto-reply) proposes through the same rule. ``check`` gives advice
on the entries as they stand (``checks``). A focal point's own pages on
``serve`` ("Check your entry", the members' directory with its vCards) are a
blueprint (``web``) that ``newsletter.server`` adds to the app; ``steward`` names
who may propose for a whole organisation. ``prepare_round`` and
``prepare_welcome`` make a mailing (``mailing``) that ``deliver`` sends through
``send``'s run; ``welcome`` does both for the successors an approval added. The
rows live in ``store.proposals``, ``store.seats`` and ``store.contacts``.
"""

from newsletter.directory.checks import CheckResult, Finding, check, international, un_entities
from newsletter.directory.mailing import Ready, deliver, left_queued
from newsletter.directory.proposals import Pending, approve, confirm, reject, review
from newsletter.directory.round import prepare_round
from newsletter.directory.stewards import Stewardship, steward
from newsletter.directory.web import blueprint
from newsletter.directory.welcome import prepare_welcome, welcome
from newsletter.store.proposals import KINDS, SOURCES, propose

__all__ = [
    "KINDS",
    "SOURCES",
    "CheckResult",
    "Finding",
    "Pending",
    "Ready",
    "Stewardship",
    "approve",
    "blueprint",
    "check",
    "confirm",
    "deliver",
    "international",
    "left_queued",
    "prepare_round",
    "prepare_welcome",
    "propose",
    "reject",
    "review",
    "steward",
    "un_entities",
    "welcome",
]
