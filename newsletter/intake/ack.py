"""The acknowledgement of a contribution: a short email to the person who sent it.

Made from ``templates/intake_ack`` by ``build.render.small_mail`` and sent as a
one-off copy through ``send``'s senders, as a review link is (``send_tests``
without the "[TEST]" prefix): nothing enters the ledger. It goes after the
contribution is recorded, and a failure is reported, never undoes the
candidate. Email-in acknowledges known senders only: an unknown sender's
address may be forged, and a reply to it would be backscatter.
"""

from __future__ import annotations

from pathlib import Path

from newsletter.build.render import small_mail
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.sanitize import neutralise, one_line
from newsletter.send import SENT, send_tests
from newsletter.send.preflight import Mailing, prepare_mailing

TEMPLATE = "intake_ack"
FOLDER = "mailings"  # where the outbox sender writes it, as the directory's mailings


def acknowledge(
    settings: Settings, folder: Path, address: str, name: str, title: str, dropped: int = 0
) -> str:
    """Mail ``address`` that ``title`` reached the issue in ``folder`` (and, for email-in,
    that ``dropped`` attachments were not kept); "" when sent, else why not, one line."""
    subject = f"We received your contribution to {settings.name}"
    ctx = {
        "name": neutralise(one_line(name, 100)),
        "title": neutralise(one_line(title, 200)),
        "issue": folder.name,
        "dropped": dropped,
        "subject": subject,
    }
    mailing_id = f"ack-{folder.name}"
    try:
        text, html = small_mail(settings, folder, TEMPLATE, ctx)
        mailing = Mailing(mailing_id, settings.root / FOLDER / mailing_id, subject, text, html, ())
        prep = prepare_mailing(settings, mailing)
        [(_, result)] = send_tests(prep, (address,), prefix="")
    except NewsletterError as exc:  # no sender, no secret, a bad address: said, not raised
        return one_line(exc.message, 300)
    except OSError as exc:  # the outbox folder could not be written
        return one_line(f"{exc.strerror or exc}", 300)
    if result.status != SENT:
        return one_line(f"{result.status}: {result.reply}", 300)
    return ""
