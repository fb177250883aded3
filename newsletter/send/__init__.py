"""A built issue into mail: preflight, messages, headers, DKIM, the run, senders.

``prepare`` refuses a send that is not ready; ``hold`` takes the issue's send
lock in contacts.db (and recovers what a stopped run left); ``run`` sends it
exactly once per recipient through a sender plugin (``newsletter.send.senders``); ``plan``,
``sample`` and ``send_tests`` look before sending. ``deliver`` is the whole real
send as ``newsletter send`` and the desk run it; ``progress_of`` reads how far it is.
"""

from newsletter.send.delivery import Tally, publish_if_complete, run
from newsletter.send.lock import Held, hold
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
    "Result",
    "SenderError",
    "Tally",
    "check_approval",
    "deliver",
    "hold",
    "installed",
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
