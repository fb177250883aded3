"""Build the shipped sample contacts.db from examples/focal-points.csv plus scripted history.

    .venv/bin/python examples/make_sample_db.py [OUTPUT]   # default: ./contacts.db

focal-points.csv is the directory as it stands for the 2026-Q4 issue
(published 2026-12-15). This script replays how it got there, with fixed
timestamps, through the same functions the commands use:

* 2026-06-02: the first import, the CSV as it was then: without the people
  who joined in Q4, with the old details of the people who changed, and with
  five people who have since left, bounced or unsubscribed;
* 2026-08: changes before the 2026-Q3 issue (2026-09-15), so they get no badge;
* 2026-09-20 .. 2026-12-01: the Q4 changes the sample issue shows: 4 new,
  5 updated, 2 left (WMO's seat falls vacant), 1 bounced (UNCDF's seat needs
  an update), 1 unsubscribed. ITC is an organisation that never had a seat.

All addresses are under example.org, which is reserved for documentation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from newsletter.store.contacts import (
    change_contact,
    create_contact,
    get_contact,
    mark_bounced,
    mark_left,
    organisation_id,
    unsubscribe,
)
from newsletter.store import open_db
from newsletter.contacts.imports import apply_plan, load_records, plan_import
from newsletter.models import Contact
from newsletter.contacts.tabular import Records

HERE = Path(__file__).resolve().parent
CSV = HERE / "focal-points.csv"
ACTOR = "sample-editor"

# People in the CSV who joined during Q4: email -> when.
NEW = {
    "kofi.boateng@unv.example.org": "2026-10-05T09:30:00+00:00",
    "ines.moreau@unv.example.org": "2026-10-14T11:00:00+00:00",
    "diego.herrera@unodc.example.org": "2026-11-09T15:20:00+00:00",
    "freya.olsen@unglobalcompact.example.org": "2026-11-20T08:45:00+00:00",
}
# People whose details changed during Q4: email -> (when, the values before).
UPDATED = {
    "amina.okafor@unicef.example.org": ("2026-09-28T10:00:00+00:00", {"job_title": "Partnerships Associate"}),
    "fatou.diop@unhcr.example.org": ("2026-10-21T13:10:00+00:00", {"phone": "+41 555 0999"}),
    "rahul.mehta@fao.example.org": ("2026-11-02T09:00:00+00:00", {"job_title": "Programme Analyst", "city": "Copenhagen", "country": "Denmark"}),
    "grace.achieng@unep.example.org": ("2026-11-17T16:40:00+00:00", {"name": "Grace Achieng Otieno"}),
    "sara.haile@unhabitat.example.org": ("2026-12-01T10:30:00+00:00", {"job_title": "Partnerships Officer"}),
}
# People in the first import who are no longer in the CSV.
GONE = [
    # (email, name, organisation, acronym, job title, what happened, when)
    ("henrik.solberg@wmo.example.org", "Henrik Solberg", "World Meteorological Organization", "WMO",
     "Partnerships Officer", "left", "2026-10-20T12:00:00+00:00"),
    ("paolo.ferri@unicef.example.org", "Paolo Ferri", "United Nations Children's Fund", "UNICEF",
     "Corporate Partnerships Manager", "left", "2026-11-03T09:15:00+00:00"),
    ("maya.sato@uncdf.example.org", "Maya Sato", "United Nations Capital Development Fund", "UNCDF",
     "Private Sector Specialist", "bounced", "2026-11-28T07:05:00+00:00"),
    ("erik.strand@undp.example.org", "Erik Strand", "United Nations Development Programme", "UNDP",
     "Partnerships Analyst", "unsubscribed", "2026-10-02T18:30:00+00:00"),
    ("beatrice.wong@ilo.example.org", "Beatrice Wong", "International Labour Organization", "ILO",
     "Programme Officer", "left", "2026-08-30T10:00:00+00:00"),  # before the Q3 issue
]
FIRST_IMPORT = "2026-06-02T09:00:00+00:00"
# A change before the Q3 issue: in the history, but no badge in Q4.
EARLIER = {"yasmin.farouk@ilo.example.org": ("2026-08-20T14:00:00+00:00", {"phone": "+41 555 0019"})}


def build(output: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{output}{suffix}").unlink(missing_ok=True)
    db = open_db(output)
    current = load_records(CSV, "examples/focal-points.csv")
    rows = []
    for line, row in current.rows:
        email = str(row["email"]).lower()
        if email in NEW:
            continue
        old = (UPDATED.get(email) or EARLIER.get(email) or (None, {}))[1]
        rows.append((line, {**row, **old}))
    for n, (email, name, org, acronym, title, *_rest) in enumerate(GONE, 1):
        rows.append((1000 + n, {"email": email, "name": name, "organisation": org,
                                "acronym": acronym, "job_title": title, "listed": "yes"}))
    first = Records("focal-points-2026-06.csv", current.columns, tuple(rows))
    with db.atomic():
        plan = plan_import(db, first, "import:focal-points-2026-06.csv")
        assert not plan.rejected, plan.rejected
        apply_plan(db, plan, ACTOR, FIRST_IMPORT)
        organisation_id(db, "International Trade Centre", "ITC", "https://itc.example.org")
        by_email = {str(row["email"]).lower(): row for _, row in current.rows}
        for email, at in NEW.items():
            row = by_email[email]
            fields = {k: str(row.get(k, "")) for k in ("name", "job_title", "country", "city",
                                                         "phone", "topics")}
            organisation = organisation_id(db, str(row["organisation"]), str(row["acronym"]))
            org_name = db.execute("SELECT name FROM organisations WHERE id = ?", [organisation])
            contact = Contact(email=email, organisation=org_name.fetchone()[0], **fields)
            create_contact(db, contact, "manual", ACTOR, at)
        for email, (at, old) in {**EARLIER, **UPDATED}.items():
            new = {k: str(by_email[email][k]) for k in old}
            change_contact(db, _get(db, email), new, "manual", ACTOR, at)
        for email, *_, what, at in GONE:
            action = {"left": mark_left, "bounced": mark_bounced, "unsubscribed": unsubscribe}
            source = "send" if what == "bounced" else "manual"
            assert action[what](db, email, source, ACTOR, at)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.conn.close()


def _get(db, email: str) -> Contact:
    contact = get_contact(db, email)
    assert contact is not None, email
    return contact


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("contacts.db")
    build(target.resolve())
    print(f"Wrote {target}")
