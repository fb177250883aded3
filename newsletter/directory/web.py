"""The directory's pages on ``newsletter serve``: "Check your entry" and the members'
directory, reached through each focal point's own signed link.

``/entry/<token>`` (``tokens.ENTRY``) shows the person's entry; a GET changes
nothing. Three forms, each a POST with a CSRF token for that link
(``tokens.make_form_token``): "This is correct" records the confirmation at once
(it changes no data); a correction and "I have left this role" become proposed
changes (``store.proposals.propose``) that wait for the editor's review. A form
sent twice queues one proposal. A steward's page also shows the roster of their
organisations, and proposes for any seat there (``source="steward"``), never
for anyone outside them.

``/members/<token>`` (``tokens.MEMBERS``) is the full directory, with addresses
and phones, and vCards per person and per organisation; it opens only while
the person holds the role and is listed (not left, not erased, not withdrawn
from the directory).

A token that is forged, damaged, expired or made for another purpose gets 400
and changes nothing. The pages share ``returns.webapp.Site`` with the unsubscribe
pages: one renderer with the security headers, one connection with its lock wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Blueprint, Response, request

from newsletter import tokens
from newsletter.directory import entries
from newsletter.directory.proposals import confirm, propose_once
from newsletter.directory.vcard import vcard, vcards
from newsletter.returns.webapp import MAX_TOKEN, Site
from newsletter.store import Database

ACTIONS = ("confirm", "correct", "left", "new")
VCARD = "text/vcard"


def blueprint(site: Site) -> Blueprint:
    """The directory's pages on ``site``; the app registers it (``newsletter.server``)."""
    pages = Blueprint("directory", __name__)

    def read(token: str, purpose: bytes) -> tokens.Link | None:
        if len(token) > MAX_TOKEN:
            return None
        return tokens.read_link_token(site.secret, purpose, token, time.time())

    def entry_page(state: str, status: int = 200, base: str = "../", **values: object) -> Response:
        link = str(values.get("link", ""))
        me = values.get("me")
        defaults: dict[str, object] = {
            "state": state,
            "base": base,
            "link": link,
            "csrf": site.form_token(link) if link and me is not None else "",
            "me": None,
            "rosters": [],
            "failed": "",
            "form": None,
            "notice": "",
            "receipt": "",
            "about": "",
            "when": "",
            "link_days": tokens.LINK_MAX_AGE,
        }
        return site.page("entry.html.j2", defaults | values, status)

    def members_page(
        state: str, status: int = 200, base: str = "../", **values: object
    ) -> Response:
        defaults: dict[str, object] = {
            "state": state,
            "base": base,
            "link": "",
            "rosters": [],
            "link_days": tokens.LINK_MAX_AGE,
        }
        return site.page("members.html.j2", defaults | values, status)

    def show(
        db: Database, token: str, me: entries.Entry, base: str, status: int = 200, **values: object
    ) -> Response:
        rosters = entries.rosters(db, me.id) if me.holds_role else []
        return entry_page("entry", status, base, link=token, me=me, rosters=rosters, **values)

    def guarded(base: str, act: Callable[[Database], Response]) -> Response:
        return site.guarded(act, lambda: entry_page("unavailable", 503, base), "a directory page")

    # -- "Check your entry" ----------------------------------------------------------

    def entry_view(token: str, base: str) -> Response:
        found = read(token, tokens.ENTRY)
        if found is None:
            return entry_page("invalid", 400, base)

        def act(db: Database) -> Response:
            me = entries.entry(db, found.contact_id)
            if me is None:
                return entry_page("gone", 404, base)
            return show(db, token, me, base)

        return guarded(base, act)

    @pages.get("/entry/<token>", merge_slashes=False)
    def entry(token: str) -> Response:
        return entry_view(token, "../")

    @pages.get("/entry/<token>/<any(confirm, correct, left, new):action>", merge_slashes=False)
    def entry_again(token: str, action: str) -> Response:  # a form's URL opened: show only
        return entry_view(token, "../../")

    @pages.post("/entry/<token>/<any(confirm, correct, left, new):action>", merge_slashes=False)
    def entry_post(token: str, action: str) -> Response:
        base = "../../"
        found = read(token, tokens.ENTRY)
        if found is None:
            return entry_page("invalid", 400, base)
        if limited := site.too_often(token, base):
            return limited
        if not site.form_ok(token):
            return entry_page("expired", 400, base, link=token)

        def act(db: Database) -> Response:
            me = entries.entry(db, found.contact_id)
            if me is None:
                return entry_page("gone", 404, base)
            if not me.holds_role:
                return show(db, token, me, base, 403, notice="left")
            return HANDLERS[action](db, token, me)

        return guarded(base, act)

    def target(db: Database, me: entries.Entry) -> entries.Entry | None:
        """Whom the form is about: the person themselves, or (a steward's form) a holder of
        a seat in their organisations; None for anyone else, or a damaged field."""
        sent = request.form.get("contact", str(me.id))
        if not sent.isascii() or not sent.isdigit() or len(sent) > 18:
            return None
        contact_id = int(sent)
        if contact_id == me.id:
            return me
        if not entries.may_steward(db, me.id, contact_id):
            return None
        return entries.entry(db, contact_id)

    def receipt(token: str, me: entries.Entry, about: entries.Entry, new: bool) -> Response:
        name = "" if about.id == me.id else about.contact.name or about.contact.email
        state = "proposed" if new else "already"
        return entry_page("receipt", 200, "../../", link=token, receipt=state, about=name)

    def forbidden(token: str) -> Response:
        return entry_page("forbidden", 403, "../../", link=token)

    def on_confirm(db: Database, token: str, me: entries.Entry) -> Response:
        when = confirm(db, me.id)
        return entry_page("receipt", 200, "../../", link=token, receipt="confirmed", when=when[:10])

    def on_correct(db: Database, token: str, me: entries.Entry) -> Response:
        about = target(db, me)
        if about is None:
            return forbidden(token)
        read = entries.correction(request.form, about.contact)
        key = f"correct-{about.id}"
        if not read.ok:
            return show(db, token, me, "../../", 400, failed=key, form=read)
        if not read.values:
            return show(db, token, me, "../../", failed=key, form=read, notice="unchanged")
        source = "self-service" if about.id == me.id else "steward"
        _, new = propose_once(
            db, "correct", source, about.id, fields=read.values, proposed_by=me.id
        )
        return receipt(token, me, about, new)

    def on_left(db: Database, token: str, me: entries.Entry) -> Response:
        about = target(db, me)
        if about is None:
            return forbidden(token)
        read = entries.departure(request.form)
        if not read.ok:
            return show(db, token, me, "../../", 400, failed=f"left-{about.id}", form=read)
        source = "self-service" if about.id == me.id else "steward"
        _, new = propose_once(db, "left", source, about.id, fields=read.values, proposed_by=me.id)
        return receipt(token, me, about, new)

    def on_new(db: Database, token: str, me: entries.Entry) -> Response:
        sent = request.form.get("seat", "")
        place = None
        if sent.isascii() and sent.isdigit() and len(sent) <= 18:
            place = entries.vacant_seat(db, me.id, int(sent))
        if place is None:
            return forbidden(token)
        seat, organisation = place
        read = entries.newcomer(request.form)
        if not read.ok:
            return show(db, token, me, "../../", 400, failed=f"new-{seat.id}", form=read)
        _, new = propose_once(
            db, "new", "steward", None, organisation, fields=read.values, proposed_by=me.id
        )
        state = "proposed" if new else "already"
        return entry_page("receipt", 200, "../../", link=token, receipt=state, about=organisation)

    HANDLERS = {"confirm": on_confirm, "correct": on_correct, "left": on_left, "new": on_new}

    # -- the members' directory ----------------------------------------------------

    def members_view(
        token: str, base: str, answer: Callable[[Database], Response | None]
    ) -> Response:
        found = read(token, tokens.MEMBERS)
        if found is None:
            return members_page("invalid", 400, base)

        def act(db: Database) -> Response:
            me = entries.entry(db, found.contact_id)
            if me is None or not me.is_member:
                return members_page("refused", 403, base)
            shown = answer(db)
            return shown if shown is not None else members_page("missing", 404, base)

        unavailable = lambda: members_page("unavailable", 503, base)  # noqa: E731
        return site.guarded(act, unavailable, "the members' directory")

    @pages.get("/members/<token>", merge_slashes=False)
    def members(token: str) -> Response:
        def answer(db: Database) -> Response:
            return members_page("members", 200, "../", link=token, rosters=entries.members(db))

        return members_view(token, "../", answer)

    @pages.get("/members/<token>/<int:contact_id>.vcf", merge_slashes=False)
    def person_card(token: str, contact_id: int) -> Response:
        def answer(db: Database) -> Response | None:
            person = entries.entry(db, contact_id)
            if person is None or person.seat is None:  # only who the directory shows
                return None
            return site.download(vcard(person.card()), VCARD, f"contact-{contact_id}.vcf")

        return members_view(token, "../../", answer)

    @pages.get("/members/<token>/org/<int:org_id>.vcf", merge_slashes=False)
    def organisation_cards(token: str, org_id: int) -> Response:
        def answer(db: Database) -> Response | None:
            found = [r for r in entries.members(db) if r.organisation_id == org_id]
            if not found:
                return None
            held = [p.holder.card(p.seat.role) for p in found[0].places if p.holder is not None]
            return site.download(vcards(held), VCARD, f"organisation-{org_id}.vcf")

        return members_view(token, "../../../", answer)

    # A link cut short, or with a slash in it: damaged, the same 400 page (not the
    # archive's 404, nor a 405 for a POST).
    @pages.route("/entry", methods=["GET", "POST"])
    @pages.route("/entry/<rest:token>", methods=["GET", "POST"], merge_slashes=False)
    def damaged_entry(token: str = "") -> Response:
        return entry_page("invalid", 400)

    @pages.route("/members", methods=["GET", "POST"])
    @pages.route("/members/<rest:token>", methods=["GET", "POST"], merge_slashes=False)
    def damaged_members(token: str = "") -> Response:
        return members_page("invalid", 400)

    return pages
