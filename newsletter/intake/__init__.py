"""Contributions into an issue's inbox: ``newsletter intake`` reads a mailbox of
emails sent to the contributions address (``run.intake``: a Maildir, an mbox, or
an IMAP folder through ``imap.read_imap``), each message read by
``message.read_message``; the form of ``/submit/<token>`` on ``serve`` (``web.blueprint``,
read by ``form.read_form``). A contribution is a candidate like a feed's entry, and its
sender gets an acknowledgement (``ack.acknowledge``). ``newsletter call`` asks the
listed focal points for theirs (``call.prepare_call``) and reminds the organisations
still silent (``call.prepare_reminder``): mailings of ``send.mailing``, sent as the
directory's round is."""

from newsletter.intake.call import deadline_of, prepare_call, prepare_reminder, sent_call
from newsletter.intake.message import MAX_MESSAGE, Contribution, Skip, key_of, read_message
from newsletter.intake.run import ATTACHMENTS, UNVERIFIED, Outcome, Taken, intake
from newsletter.intake.web import blueprint

__all__ = [
    "ATTACHMENTS",
    "MAX_MESSAGE",
    "UNVERIFIED",
    "deadline_of",
    "Contribution",
    "Outcome",
    "Skip",
    "Taken",
    "blueprint",
    "intake",
    "key_of",
    "prepare_call",
    "prepare_reminder",
    "read_message",
    "sent_call",
]
