"""A built issue into mail: preflight, messages, headers, DKIM, the run, senders.

``prepare`` refuses a send that is not ready; ``hold`` takes the issue's send
lock in contacts.db (and recovers what a stopped run left); ``run`` sends it
exactly once per recipient through a sender plugin (``newsletter.send.senders``); ``plan``,
``sample`` and ``send_tests`` look before sending. ``deliver`` is the whole real
send as ``newsletter send`` and the desk run it; ``progress_of`` reads how far it is.
``mailing`` makes the short mailings of other stages (a directory round, a call for
contributions): ``Ready`` to send, ``deliver_mailing`` sends one under its lock.
"""

from newsletter.send.delivery import Tally, publish_if_complete, run
from newsletter.send.lock import Held, hold
from newsletter.send.mailing import Ready, left_queued
from newsletter.send.mailing import deliver as deliver_mailing
from newsletter.send.preflight import Prepared, check_approval, prepare
from newsletter.send.rehearse import Plan, Readable, plan, readable, sample, send_tests
from newsletter.send.senders import SENT, Result, SenderError, installed, parse_overrides
from newsletter.send.sending import Delivery, Progress, deliver, progress_of

__all__ = [
    "SENT",
    "Delivery",
    "Held",
    "Plan",
    "Prepared",
    "Progress",
    "Readable",
    "Ready",
    "Result",
    "SenderError",
    "Tally",
    "check_approval",
    "deliver",
    "deliver_mailing",
    "hold",
    "installed",
    "left_queued",
    "parse_overrides",
    "plan",
    "prepare",
    "progress_of",
    "publish_if_complete",
    "readable",
    "run",
    "sample",
    "send_tests",
]
