"""Realistic contribution emails for the intake tests, as bytes, in mailbox order."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

CONTRIBUTIONS = "news@unglobalcompact.example"

# What ``newsletter intake`` prints for MESSAGES, with the two contacts of the
# ``contributors`` fixture (conftest.py), and its one warning.
EXPECTED = [
    "inbox/youth-skills-toolkit-launched.md  from UNICEF (Jane Doe)",
    "inbox/sdg-business-forum-geneva.md  from UNDP (Omar Khan)",
    "inbox/fwd-ilo-newsletter-october.md  from UNICEF (Jane Doe)",
    "<ooo@undp.example>: skipped, an auto-reply",
    "inbox/annual-report-2026.md  from UNDP (Omar Khan)",
    "inbox/webinar-on-living-wages.md  from Unverified: Sam Roe <sam@example.net>",
    "<bounce@mx.unglobalcompact.example>: skipped, a delivery report, not a contribution",
    "<empty@unicef.example>: skipped, no text",
    "<plain@unicef.example>: skipped, already taken in",
    "4 acknowledgements sent.",  # to Jane and Omar, known; not to Sam, unverified
    "5 taken into issues/2026-Q4/inbox, 4 skipped.",
]
WARNING = "warning: <unknown@example.net>: date '31 February 2027' is not a real date; ignored\n"


def _message(sender: str, subject: str, mid: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = CONTRIBUTIONS
    msg["Subject"] = subject
    msg["Date"] = "Mon, 05 Oct 2026 09:30:00 +0000"
    msg["Message-ID"] = mid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def plain() -> bytes:
    msg = _message(
        "Jane Doe <jane.doe@unicef.example>",
        "Youth skills toolkit launched",
        "<plain@unicef.example>",
    )
    msg.set_content(
        "Dear colleagues,\n\n"
        "Section: tools\n"
        "Date: 12 March 2027\n\n"
        "UNICEF has published a toolkit on youth skills for companies.\n"
        "Read it at https://www.unicef.example/toolkit?utm_source=email&lang=en.\n\n"
        "Best regards,\nJane\n"
    )
    return msg.as_bytes()


OUTLOOK = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word">
<head><meta http-equiv=Content-Type content="text/html; charset=us-ascii">
<style><!-- p.MsoNormal {margin:0cm; font-family:"Calibri",sans-serif;} --></style>
<!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
</head>
<body lang=EN-US link="#0563C1" vlink="#954F72"><div class=WordSection1>
<p class=MsoNormal><span style='font-size:11.0pt'>Section: events<o:p></o:p></span></p>
<p class=MsoNormal><span style='font-size:11.0pt'>Date: 5 November 2026<o:p></o:p></span></p>
<p class=MsoNormal><o:p>&nbsp;</o:p></p>
<p class=MsoNormal>The <b>Business &amp; SDG Forum</b> opens in Geneva. Register on
<a href="https://www.undp.example/events/forum?utm_campaign=q4&amp;id=7">our page</a>.<o:p></o:p></p>
<!--[if !supportLists]--><p class=MsoListParagraph>&middot; Panels on finance<o:p></o:p></p><!--[endif]-->
</div></body></html>"""


def outlook() -> bytes:
    msg = _message(
        '"Khan, Omar" <Omar@UNDP.example>', "SDG Business Forum, Geneva", "<outlook@undp.example>"
    )
    msg.set_content(OUTLOOK, subtype="html")
    return msg.as_bytes()


def forwarded() -> bytes:
    msg = _message(
        "Jane Doe <jane.doe@unicef.example>",
        "Fwd: ILO Newsletter - October",
        "<fwd@unicef.example>",
    )
    msg.set_content(
        "Worth a mention, I think.\n\n"
        "---------- Forwarded message ---------\n"
        "From: ILO News <news@ilo.example>\n"
        "Date: Mon, Oct 5, 2026 at 9:30 AM\n"
        "Subject: ILO Newsletter - October\n\n"
        "Section: Features\n\n"
        "Decent work in supply chains: a new guide.\n"
        "https://www.ilo.example/guide?mc_cid=abc&mc_eid=def\n"
    )
    return msg.as_bytes()


def auto_reply() -> bytes:
    msg = _message(
        "Omar Khan <omar@undp.example>",
        "Automatic reply: Call for contributions",
        "<ooo@undp.example>",
        Auto_Submitted="auto-replied",
    )
    msg.set_content("I am out of the office until 12 October with limited access to email.\n")
    return msg.as_bytes()


def with_attachment() -> bytes:
    msg = _message("Omar Khan <omar@undp.example>", "Annual report 2026", "<attach@undp.example>")
    msg.set_content("Our annual report is out; the PDF is attached.\n")
    msg.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="report.pdf"
    )
    return msg.as_bytes()


def unknown() -> bytes:
    msg = _message("Sam Roe <sam@example.net>", "Webinar on living wages", "<unknown@example.net>")
    msg.set_content("Section: events\nDate: 31 February 2027\n\nA webinar on living wages.\n")
    return msg.as_bytes()


def bounce() -> bytes:
    msg = _message(
        "Mail Delivery System <MAILER-DAEMON@mx.unglobalcompact.example>",
        "Undelivered Mail Returned to Sender",
        "<bounce@mx.unglobalcompact.example>",
    )
    msg.set_content("This is the mail system. Your message could not be delivered.\n")
    report = EmailMessage()
    report.set_content(
        "Reporting-MTA: dns; mx.unglobalcompact.example\n\n"
        "Final-Recipient: rfc822; gone@undp.example\nAction: failed\nStatus: 5.1.1\n"
    )
    msg.make_mixed()
    msg.attach(report)
    msg.replace_header(
        "Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"'
    )
    return msg.as_bytes()


def empty() -> bytes:
    msg = _message("Jane Doe <jane.doe@unicef.example>", "(no subject)", "<empty@unicef.example>")
    msg.set_content("\n")
    return msg.as_bytes()


# In the order a Maildir lists them (by file name) and the mbox holds them.
MESSAGES = (
    ("01-plain", plain),
    ("02-outlook", outlook),
    ("03-forwarded", forwarded),
    ("04-auto-reply", auto_reply),
    ("05-attachment", with_attachment),
    ("06-unknown", unknown),
    ("07-bounce", bounce),
    ("08-empty", empty),
    ("09-duplicate", plain),
)


def maildir(path: Path) -> Path:
    """The messages as a Maildir, each file named as in MESSAGES."""
    mailbox.Maildir(path, create=True).close()
    for name, make in MESSAGES:
        (path / "new" / name).write_bytes(make())
    return path


def mbox(path: Path) -> Path:
    box = mailbox.mbox(path, create=True)
    for _, make in MESSAGES:
        box.add(make())
    box.close()
    return path
