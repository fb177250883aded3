"""A built issue into mail: preflight, messages, headers, DKIM, the run, senders.

``prepare`` refuses a send that is not ready; ``hold`` takes the issue's send
lock in contacts.db (and recovers what a stopped run left); ``run`` sends it
exactly once per recipient through a sender plugin (``newsletter.send.senders``); ``plan``,
``sample`` and ``send_tests`` look before sending.
"""

from newsletter.send.delivery import Tally, publish_if_complete, run
from newsletter.send.lock import Held, hold
from newsletter.send.preflight import Prepared, check_approval, prepare
from newsletter.send.rehearse import Plan, Readable, plan, readable, sample, send_tests
from newsletter.send.senders import SENT, Result, SenderError, installed, parse_overrides

__all__ = [
    "SENT",
    "Held",
    "Plan",
    "Prepared",
    "Readable",
    "Result",
    "SenderError",
    "Tally",
    "check_approval",
    "hold",
    "installed",
    "parse_overrides",
    "plan",
    "prepare",
    "publish_if_complete",
    "readable",
    "run",
    "sample",
    "send_tests",
]
