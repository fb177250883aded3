"""Readership links: with ``readership = "aggregate"`` each link of the email to
another site goes through ``{web_url}/r/<token>`` on ``serve``, which counts it
and redirects (``returns.readership``).

Only the email is changed (the HTML part, and the same links in the text
part); the web page keeps the original links. Not rewritten: ``mailto:`` and
other non-web links, links that hold a per-recipient marker (unsubscribe,
"Check your entry", the members' directory) and links to the house's own pages
under ``web_url``. A token names the issue, the link's number (in order of
first appearance) and its address, never a reader.

Each click link ends with the ``%%CLICK_ORG%%`` marker (``models.PLACEHOLDERS``),
which ``send`` fills per recipient with "/" and the organisation part
(``tokens.CLICK_ORG``) for an organisation of at least ``models.MIN_GROUP``
recipients of the issue, or with nothing: the copies sent to one organisation
carry the same links, and a link names at most an organisation.
"""

from __future__ import annotations

import html
import re

from newsletter import tokens
from newsletter.models import PLACEHOLDERS

_HREF = re.compile(r'(href=")(https?://[^"]+)(")', re.I)
_URL = re.compile(r"https?://\S+")
ROUTE = "/r/"
ORGANISATION = PLACEHOLDERS["click_org"]


class Links:
    """The numbered click links of one issue's email."""

    def __init__(self, secret: bytes, issue_id: str, web_url: str) -> None:
        self.secret, self.issue_id = secret, issue_id
        self.web_url = web_url.rstrip("/")
        self.numbers: dict[str, int] = {}

    def counted(self, url: str) -> bool:
        own = url == self.web_url or url.startswith(self.web_url + "/")
        return "%%" not in url and not own and len(url) <= tokens.MAX_CLICK_URL

    def link(self, url: str) -> str:
        """The click link standing for ``url``, with the organisation's marker after it."""
        number = self.numbers.setdefault(url, len(self.numbers) + 1)
        token = tokens.make_click_token(self.secret, self.issue_id, number, url)
        return f"{self.web_url}{ROUTE}{token}{ORGANISATION}"


def track_html(email_html: str, links: Links) -> str:
    """``email_html`` with each counted link replaced by its click link."""

    def counted(m: re.Match[str]) -> str:
        url = html.unescape(m[2])
        return f"{m[1]}{links.link(url)}{m[3]}" if links.counted(url) else m[0]

    return _HREF.sub(counted, email_html)


def track_text(text: str, links: Links) -> str:
    """``text`` with each link the HTML part counts (``track_html`` first) replaced too."""

    def counted(m: re.Match[str]) -> str:
        # Only a link the HTML part has: prose around a URL ("(https://x.org).")
        # must not become part of a signed address.
        url = m[0].rstrip(".,;:!?)]>'\"")
        return links.link(url) + m[0][len(url) :] if url in links.numbers else m[0]

    return _URL.sub(counted, text)


def track(email_html: str, text: str, links: Links) -> tuple[str, str]:
    """Both parts of the email with their counted links replaced."""
    email_html = track_html(email_html, links)
    return email_html, track_text(text, links)
