"""Contributions into an issue's inbox: ``newsletter intake`` reads a mailbox of
emails sent to the contributions address (``run.intake``: a Maildir, an mbox, or
an IMAP folder through ``imap.read_imap``), each message read by
``message.read_message``. A contribution is a candidate like a feed's entry."""

from newsletter.intake.message import MAX_MESSAGE, Contribution, Skip, key_of, read_message
from newsletter.intake.run import ATTACHMENTS, UNVERIFIED, Outcome, Taken, intake

__all__ = [
    "ATTACHMENTS",
    "MAX_MESSAGE",
    "UNVERIFIED",
    "Contribution",
    "Outcome",
    "Skip",
    "Taken",
    "intake",
    "key_of",
    "read_message",
]
