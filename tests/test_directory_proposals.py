"""newsletter.directory.proposals: `directory review`, `approve` and `reject` on a real contacts.db."""

from __future__ import annotations

import json

import pytest
from helpers import cli

from newsletter.contacts import purge_contact
from newsletter.directory import propose
from newsletter.store import open_db
from newsletter.store.contacts import get_contact, history


@pytest.fixture
def db(project):
    cli(
        project,
        "contacts",
        "add",
        "ann@who.int",
        "--name",
        "Ann Lee",
        "--org",
        "WHO",
        "--phone",
        "+41 22 791 21 11",
    )
    cli(project, "contacts", "add", "bob@ilo.org", "--name", "Bob Roy", "--org", "ILO")
    store = open_db(project / "contacts.db")
    yield store
    store.conn.close()


def _queue(db):
    ann = get_contact(db, "ann@who.int").id
    bob = get_contact(db, "bob@ilo.org").id
    return [
        propose(db, "correct", "self-service", ann, fields={"phone": "+41 22 791 00 00"}),
        propose(db, "confirm", "self-service", bob),
        propose(db, "left", "auto-reply", bob),
        propose(
            db,
            "new",
            "self-service",
            organisation="ILO",
            fields={"email": "cy@ilo.org", "name": "Cy Dee", "job_title": "Focal point"},
        ),
    ]


def test_review_lists_each_proposal_as_a_diff(project, db):
    _queue(db)
    bob = get_contact(db, "bob@ilo.org").id
    propose(db, "correct", "steward", bob, fields={"city": "Geneva", "name": ""})
    result = cli(project, "directory", "review")
    lines = result.output.splitlines()
    assert [line for line in lines if not line.startswith("   from ")] == [
        "#1 correct Ann Lee <ann@who.int> (WHO)",
        "   phone: '+41 22 791 21 11' → '+41 22 791 00 00'",
        "#2 confirm Bob Roy <bob@ilo.org> (ILO)",
        "   confirmed: entry is correct",
        "#3 left Bob Roy <bob@ilo.org> (ILO)",
        "   status: subscribed → left",
        "#4 new cy@ilo.org (ILO)",
        "   email: (none) → 'cy@ilo.org'",
        "   job_title: (none) → 'Focal point'",
        "   name: (none) → 'Cy Dee'",
        "#5 correct Bob Roy <bob@ilo.org> (ILO)",
        "   city: (none) → 'Geneva'",
        "   name: 'Bob Roy' → (none)",
        "5 pending.",
    ]
    assert [line.split(",")[0] for line in lines if line.startswith("   from ")] == [
        "   from self-service",
        "   from self-service",
        "   from auto-reply",
        "   from self-service",
        "   from steward",
    ]
    shown = json.loads(cli(project, "directory", "review", "--json").output)
    assert [(p["id"], p["kind"], p["source"]) for p in shown] == [
        (1, "correct", "self-service"),
        (2, "confirm", "self-service"),
        (3, "left", "auto-reply"),
        (4, "new", "self-service"),
        (5, "correct", "steward"),
    ]
    assert shown[0]["diff"] == ["phone: '+41 22 791 21 11' → '+41 22 791 00 00'"]


def test_an_empty_queue_says_so(project, db):
    assert cli(project, "directory", "review").output == "No proposed changes are waiting.\n"


def test_approve_applies_each_through_the_contact_rules_with_history(project, db):
    _queue(db)
    result = cli(project, "directory", "approve", "1", "2", "3", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "#1 approved: correct.",
        "#2 approved: confirm.",
        "#3 approved: left.",
        "#4 approved: new.",
        # The one added is welcomed, here by the default sender, the outbox.
        "Welcomed 1 successor with the latest issue and their entry link.",
    ]
    assert len(list((project / "mailings" / "welcome" / "outbox").glob("*.eml"))) == 1
    ann, bob = get_contact(db, "ann@who.int"), get_contact(db, "bob@ilo.org")
    cy = get_contact(db, "cy@ilo.org")
    assert ann.phone == "+41 22 791 00 00"
    assert bob.status == "left"
    assert (cy.name, cy.organisation, cy.job_title, cy.status) == (
        "Cy Dee",
        "ILO",
        "Focal point",
        "subscribed",
    )
    confirmed = db.execute("SELECT confirmed_at FROM contacts WHERE id = ?", [bob.id]).fetchone()
    assert confirmed[0]
    assert [(h.field, h.source) for h in history(db, bob.id)][-2:] == [
        ("confirmed_at", "proposal:2"),
        ("status", "proposal:3"),
    ]
    # Her own correction, read from her whole entry, confirms it too.
    assert [(h.field, h.source) for h in history(db, ann.id)][-2:] == [
        ("phone", "proposal:1"),
        ("confirmed_at", "proposal:1"),
    ]
    assert history(db, ann.id)[-2].new == "+41 22 791 00 00"
    assert [(h.field, h.source) for h in history(db, cy.id)] == [("created", "proposal:4")]
    assert cli(project, "directory", "review").output == "No proposed changes are waiting.\n"
    states = db.execute("SELECT state, actor != '' FROM proposals ORDER BY id").fetchall()
    assert states == [("approved", 1)] * 4


def test_reject_keeps_the_reason_and_changes_no_contact(project, db):
    _queue(db)
    result = cli(project, "directory", "reject", "3", "--reason", "Still there", "--json")
    assert json.loads(result.output) == {"rejected": [3]}
    assert get_contact(db, "bob@ilo.org").status == "subscribed"
    row = db.execute("SELECT state, reason FROM proposals WHERE id = 3").fetchone()
    assert row == ("rejected", "Still there")


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ("approve", "1", "9"),
            "Error: proposal 9: no such proposal. List them with: newsletter directory review",
        ),
        (("approve", "2", "1"), "Error: proposal 2: already rejected; nothing was changed."),
        (
            ("reject", "9", "--reason", "x"),
            "Error: proposal 9: no such proposal. List them with: newsletter directory review",
        ),
        (
            ("reject", "2", "--reason", "x"),
            "Error: proposal 2: already rejected; nothing was changed.",
        ),
    ],
)
def test_an_unknown_or_decided_id_changes_nothing(project, db, args, message):
    _queue(db)
    cli(project, "directory", "reject", "2", "--reason", "dup")
    before = db.execute("SELECT * FROM proposals ORDER BY id").fetchall()
    contacts = db.execute("SELECT * FROM contacts ORDER BY id").fetchall()
    result = cli(project, "directory", *args)
    assert (result.exit_code, result.output) == (1, message + "\n")
    assert db.execute("SELECT * FROM proposals ORDER BY id").fetchall() == before
    assert db.execute("SELECT * FROM contacts ORDER BY id").fetchall() == contacts


def test_reject_needs_a_reason(project, db):
    assert cli(project, "directory", "reject", "1").exit_code == 2


@pytest.mark.parametrize(
    "kind,source,contact,fields",
    [
        ("delete", "self-service", 1, {}),
        ("correct", "mail", 1, {}),
        ("correct", "self-service", 1, {"status": "subscribed"}),
        ("confirm", "self-service", None, {}),
        ("new", "self-service", None, {"name": "No Address"}),
        ("correct", "self-service", 99, {"phone": "1"}),
    ],
)
def test_propose_refuses_a_callers_mistake(db, kind, source, contact, fields):
    with pytest.raises(ValueError):
        propose(db, kind, source, contact, fields=fields)
    assert db.execute("SELECT count(*) FROM proposals").fetchone() == (0,)


def test_a_purge_erases_the_proposals_about_the_person_or_naming_them(project, db):
    _queue(db)
    purge_contact(db, "bob@ilo.org")
    assert db.execute("SELECT id FROM proposals ORDER BY id").fetchall() == [(1,), (4,)]
    purge_contact(db, "CY@ilo.org")
    assert db.execute("SELECT id FROM proposals ORDER BY id").fetchall() == [(1,)]


def test_a_proposal_the_contact_rules_refuse_stays_pending(project, db):
    _queue(db)
    cli(project, "contacts", "add", "cy@ilo.org", "--name", "Cy", "--org", "ILO")
    result = cli(project, "directory", "approve", "1", "4")
    assert (result.exit_code, result.output) == (
        1,
        "Error: proposal 4: not applied, still pending (#1 approved): cy@ilo.org: already in "
        "contacts.db. Change it with: newsletter contacts edit cy@ilo.org\n",
    )
    states = db.execute("SELECT id, state FROM proposals ORDER BY id").fetchall()
    assert states == [(1, "approved"), (2, "pending"), (3, "pending"), (4, "pending")]


@pytest.mark.parametrize("existing", [False, True])
def test_approving_a_departure_hands_the_seat_to_the_successor(project, db, existing):
    from newsletter.store.seats import seat_of, tenures

    if existing:  # the successor is on the list already, as an alternate
        cli(project, "contacts", "add", "dan@who.int", "--name", "Dan Oh", "--org", "WHO")
    ann = get_contact(db, "ann@who.int")
    seat = seat_of(db, ann.id)
    fields = {
        "successor_email": "dan@who.int",
        "successor_name": "Dan Oh",
        "successor_job_title": "Partnerships officer",
    }
    pid = propose(db, "left", "self-service", ann.id, fields=fields, proposed_by=ann.id)
    review = cli(project, "directory", "review")
    assert review.output.splitlines()[2:4] == [
        "   status: subscribed → left",
        "   successor: (none) → dan@who.int (Dan Oh, Partnerships officer)",
    ]
    result = cli(project, "directory", "approve", str(pid))
    assert result.exit_code == 0, result.output
    dan = get_contact(db, "dan@who.int")
    assert (get_contact(db, "ann@who.int").status, dan.status) == ("left", "subscribed")
    assert seat_of(db, dan.id).id == seat.id
    assert [t.contact_id for t in tenures(db, seat.id)] == [ann.id, dan.id]
    if not existing:
        assert (dan.name, dan.job_title, dan.organisation) == (
            "Dan Oh",
            "Partnerships officer",
            "WHO",
        )
        assert history(db, dan.id)[0].source == f"proposal:{pid}"


def test_a_departure_naming_a_successor_needs_their_address(db):
    ann = get_contact(db, "ann@who.int").id
    with pytest.raises(ValueError, match="needs their email"):
        propose(db, "left", "self-service", ann, fields={"successor_name": "Dan Oh"})


@pytest.mark.parametrize(("source", "confirmed"), [("self-service", True), ("steward", False)])
def test_an_approved_correction_of_ones_own_entry_confirms_it(project, db, source, confirmed):
    ann = get_contact(db, "ann@who.int").id
    pid = propose(db, "correct", source, ann, fields={"city": "Geneva"})
    assert cli(project, "directory", "approve", str(pid)).exit_code == 0
    row = db.execute("SELECT confirmed_at FROM contacts WHERE id = ?", [ann]).fetchone()
    assert bool(row[0]) is confirmed


@pytest.mark.parametrize(
    ("email", "add", "why"),
    [
        ("dan@who.int", ("--org", "ILO"), "a contact of ILO, not WHO"),
        ("dan@who.int", ("--org", "WHO", "--unlisted"), "not listed in the directory"),
        ("ann@who.int", (), "left"),  # named themselves
    ],
)
def test_a_successor_who_cannot_hold_the_seat_leaves_the_departure_pending(
    project, db, email, add, why
):
    from helpers import dump

    if add:
        cli(project, "contacts", "add", email, "--name", "Dan Oh", *add)
    ann = get_contact(db, "ann@who.int")
    fields = {"successor_email": email}
    pid = propose(db, "left", "self-service", ann.id, fields=fields, proposed_by=ann.id)
    before = dump(project / "contacts.db")
    result = cli(project, "directory", "approve", str(pid))
    assert (result.exit_code, result.output) == (
        1,
        f"Error: proposal {pid}: not applied, still pending: {email}: {why}, so they "
        f"cannot take the seat. Change them first with: newsletter contacts edit {email}\n",
    )
    assert dump(project / "contacts.db") == before


@pytest.mark.parametrize("command", [("approve",), ("reject", "--reason", "No")])
def test_an_id_beyond_any_row_is_a_usage_error_not_a_traceback(project, db, command):
    from helpers import dump

    before = dump(project / "contacts.db")
    result = cli(project, "directory", *command, "1", str(2**63))
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        2,
        f"Error: Invalid value for 'IDS...': {2**63} is not in the range 1<=x<={2**63 - 1}.",
    )
    assert dump(project / "contacts.db") == before


def test_a_purge_keeps_the_proposals_of_an_address_that_only_contains_theirs(project, db):
    ann = get_contact(db, "ann@who.int").id
    kept = [
        propose(db, "new", "steward", organisation="ILO", fields={"email": "jo.bob@ilo.org"}),
        propose(db, "left", "auto-reply", ann, fields={"successor_email": "bob@ilo.org.uk"}),
    ]
    propose(db, "new", "steward", organisation="ILO", fields={"email": "BOB@ilo.org"})  # goes
    purge_contact(db, "bob@ilo.org")
    assert db.execute("SELECT id FROM proposals ORDER BY id").fetchall() == [(k,) for k in kept]
