"""The contribution form on ``newsletter serve``: ``/submit/<token>``, a focal point's own
signed link (``tokens.SUBMIT``), as "Check your entry" is (``directory/web.py``).

A GET shows the form for the issue now open (``send.publication.open_issue``),
with a one-time key of its own and a CSRF token; it changes nothing. A POST
checks the link, then the rate (``Site.too_often``), then the CSRF token and
the one-time key; the form is read by ``form.read_form`` (the item reader's
errors beside each field, the values kept, nothing saved) and, when it
passes, taken in once by ``form.take_form``. Then the acknowledgement is
mailed (``ack.acknowledge``) and the answer is a 303 to the receipt,
``/submit/<token>/received/<once>``, a GET that reads the record and changes
nothing. The same form sent again (a double click, a reload, back and send)
finds its record and goes to the same receipt: one candidate, one email.

The live count of the summary's characters is a small script with its hash in
this page's Content-Security-Policy (``script-src 'sha256-...'``); the rest of
the policy is the site's. Without JavaScript the limit is written under the box.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from functools import cache
from importlib.resources import files

from flask import Blueprint, Response, redirect, request

from newsletter import tokens
from newsletter.intake.ack import acknowledge
from newsletter.intake.form import (
    EVENT,
    ONCE,
    SIZES,
    SUMMARY_CHARS,
    form_key,
    labels,
    read_form,
    receipt,
    take_form,
)
from newsletter.issue.edit import form_fields
from newsletter.models import Contact
from newsletter.returns.webapp import HEADERS, MAX_TOKEN, Site
from newsletter.send.publication import open_issue
from newsletter.store import Database
from newsletter.store.contacts import get_contact
from newsletter.store.intake import taken

log = logging.getLogger(__name__)
CSP = "Content-Security-Policy"


@cache
def count_script() -> str:
    """The live character count, as the page carries it."""
    return files("newsletter.intake").joinpath("count.js").read_text(encoding="utf-8")


@cache
def policy() -> str:
    """The site's policy, and this page's one script by its hash."""
    digest = hashlib.sha256(count_script().encode("utf-8")).digest()
    return f"{HEADERS[CSP]}; script-src 'sha256-{base64.b64encode(digest).decode()}'"


def blueprint(site: Site) -> Blueprint:
    """The contribution form on ``site``; the app registers it (``newsletter.server``)."""
    pages = Blueprint("intake", __name__)
    root = site.settings.root

    def page(state: str, status: int = 200, base: str = "../", **values: object) -> Response:
        return render(state, status, base, values)

    def render(state: str, status: int, base: str, values: dict[str, object]) -> Response:
        sections = site.settings.sections
        hints = {f.name: f.hint for f in form_fields(site.settings.section_keys)}
        defaults: dict[str, object] = {
            "state": state,
            "base": base,
            "link": "",
            "csrf": "",
            "once": "",
            "issue": "",
            "values": {},
            "errors": {},
            "labels": labels(),
            "hints": hints,
            "sizes": SIZES,
            "event": EVENT,
            "sections": sections,
            "summary_chars": SUMMARY_CHARS,
            "script": count_script(),
            "sender": "",
            "receipt": None,
            "mail": "",
            "link_days": tokens.LINK_MAX_AGE,
        }
        response = site.page("submit.html.j2", defaults | values, status)
        if state == "form":
            response.headers[CSP] = policy()
        return response

    def read(token: str) -> tokens.Link | None:
        if len(token) > MAX_TOKEN:
            return None
        return tokens.read_link_token(site.secret, tokens.SUBMIT, token, time.time())

    def guarded(base: str, act: Callable[[Database], Response]) -> Response:
        return site.guarded(act, lambda: page("unavailable", 503, base), "the contribution form")

    def form_page(
        token: str, contact: Contact, issue: str, status: int = 200, **values: object
    ) -> Response:
        fresh = {"csrf": site.form_token(token), "once": secrets.token_hex(16)}
        sender = ", ".join(x for x in (contact.name, contact.organisation) if x) or contact.email
        mine = {"link": token, "issue": issue, "sender": sender}
        return render("form", status, "../", {**mine, **fresh, **values})

    def who(db: Database, found: tokens.Link) -> Contact | None:
        """The link's focal point; None once erased, or once they left the role (the
        link speaks for a focal point, not for whoever held the address)."""
        contact = get_contact(db, found.contact_id)
        return contact if contact is not None and contact.status != "left" else None

    @pages.get("/submit/<token>", merge_slashes=False)
    def show(token: str) -> Response:
        found = read(token)
        if found is None:
            return page("invalid", 400)

        def act(db: Database) -> Response:
            contact = who(db, found)
            if contact is None:
                return page("gone", 404)
            folder = open_issue(db, root)
            if folder is None:
                return page("closed")
            return form_page(token, contact, folder.name)

        return guarded("../", act)

    @pages.post("/submit/<token>", merge_slashes=False)
    def send(token: str) -> Response:
        found = read(token)
        if found is None:
            return page("invalid", 400)
        if limited := site.too_often(token):
            return limited
        once = request.form.get("once", "")
        if not site.form_ok(token) or not ONCE.fullmatch(once):
            return page("expired", 400, link=token)

        def act(db: Database) -> Response:
            contact = who(db, found)
            if contact is None or contact.id is None:
                return page("gone", 404)
            done = f"{token}/received/{once}"
            if taken(db, form_key(contact.id, once)) is not None:  # sent before: its receipt
                return redirect(f"{done}?mail=already", 303)  # type: ignore[return-value]
            folder = open_issue(db, root)
            if folder is None:
                return page("closed")
            sent = read_form(site.settings, folder, request.form, contact)
            if sent.candidate is None:
                values = {"values": sent.values, "errors": sent.errors}
                return form_page(token, contact, folder.name, 400, **values)
            record, new = take_form(db, folder, contact.id, once, sent.candidate)
            mail = "already"
            if new:
                failed = acknowledge(
                    site.settings, folder, contact.email, contact.name, sent.candidate.title
                )
                if failed:
                    log.warning("a contribution's acknowledgement was not sent: %s", failed)
                mail = "failed" if failed else "sent"
            return redirect(f"{done}?mail={mail}", 303)  # type: ignore[return-value]

        return guarded("../", act)

    @pages.get("/submit/<token>/received/<once>", merge_slashes=False)
    def received(token: str, once: str) -> Response:
        base = "../../../"
        found = read(token)
        if found is None:
            return page("invalid", 400, base)

        def act(db: Database) -> Response:
            contact = who(db, found)
            # Only the link that sent it finds it: the key is the contact's and the page's.
            record = None
            if contact is not None and contact.id is not None and ONCE.fullmatch(once):
                record = taken(db, form_key(contact.id, once))
            if record is None:
                return page("missing", 404, base, link=token)
            mail = request.args.get("mail", "")
            shown = receipt(site.settings, root, record)
            return page("receipt", 200, base, link=token, receipt=shown, mail=mail[:10])

        return guarded(base, act)

    # A link cut short, or with a slash in it: damaged, the same 400 page.
    @pages.route("/submit", methods=["GET", "POST"])
    @pages.route("/submit/<rest:token>", methods=["GET", "POST"], merge_slashes=False)
    def damaged(token: str = "") -> Response:
        return page("invalid", 400)

    return pages
