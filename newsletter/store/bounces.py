"""Returned mail's tables: the messages already processed, and soft bounces per issue.

Only hashes and ids are kept: the returned mail itself, with its addresses, is not.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

from sqlite_utils.migrations import Migrations

from newsletter.store.base import Database, now

migrations = Migrations("newsletter.bounces")


@migrations()
def m001_bounces(db: Database) -> None:
    db.execute(
        "CREATE TABLE bounce_messages (hash TEXT PRIMARY KEY, kind TEXT NOT NULL, at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE soft_bounces (contact_id INTEGER NOT NULL, issue TEXT NOT NULL,"
        " status TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (contact_id, issue))"
    )


def processed(db: Database, digest: str) -> bool:
    """Whether the message with this SHA-256 was processed before."""
    sql = "SELECT 1 FROM bounce_messages WHERE hash = ?"
    return db.execute(sql, [digest]).fetchone() is not None


def mark_processed(db: Database, digest: str, kind: str) -> None:
    db.execute(
        "INSERT INTO bounce_messages (hash, kind, at) VALUES (?, ?, ?)", [digest, kind, now()]
    )


def add_soft(db: Database, contact_id: int, issue: str, status: str) -> None:
    """Remember one soft bounce; a second one for the same issue changes nothing."""
    db.execute(
        "INSERT OR IGNORE INTO soft_bounces (contact_id, issue, status, at) VALUES (?, ?, ?, ?)",
        [contact_id, issue, status, now()],
    )


def soft_streak(db: Database, contact_id: int) -> int:
    """How many issues in a row, up to the latest soft-bounced one, bounced softly."""
    sql = "SELECT issue FROM soft_bounces WHERE contact_id = ?"
    soft = {row[0] for row in db.execute(sql, [contact_id])}
    if not soft:
        return 0
    # The issues they were sent, in send order (any sender: a rehearsal counts too).
    sql = (
        "SELECT issue FROM deliveries WHERE contact_id = ? AND status NOT IN ('queued', 'skipped')"
        " GROUP BY issue ORDER BY min(coalesce(sent_at, queued_at)), issue"
    )
    order = [row[0] for row in db.execute(sql, [contact_id])]
    order += sorted(soft - set(order))
    last = max(n for n, issue in enumerate(order) if issue in soft)
    streak = 0
    for issue in reversed(order[: last + 1]):
        if issue not in soft:
            break
        streak += 1
    return streak


@dataclass(frozen=True)
class Aftermath:
    """What became of one issue's messages, in contacts (each counted once per figure)."""

    recipients: int  # in the issue's ledger (a row in any status)
    delivered: int  # accepted by the server (a row ``sent``)
    rejected: int  # refused during the send: a ``failed`` row, or history rejected:ISSUE
    hard: int  # marked bounced by a bounce report about the issue, not by soft bounces
    soft: int  # a soft bounce about the issue (soft_bounces)
    complaints: int  # history complaint:ISSUE
    unsubscribed: int  # through the issue's link or mail, or by any means once they got it

    def __add__(self, other: Aftermath) -> Aftermath:
        return Aftermath(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


NOBODY = Aftermath(0, 0, 0, 0, 0, 0, 0)

# One statement, one pass per table: each figure is a set of contacts, and every
# contact in any of them is counted under the organisation it has now ('' for none,
# or for a contact since erased), so the organisations' figures add up to the
# issue's. An unsubscribe counts when it came through this issue (its link or its
# mailto) or happened after the contact got the issue; one that a complaint made is
# counted as the complaint. Timestamps are all store.base.now(), so they compare as
# text. The ledger's sets follow :sender when given.
_AFTERMATH = """
WITH got AS (
    SELECT contact_id, min(sent_at) AS at FROM deliveries
    WHERE issue = :issue AND status = 'sent' AND (:sender IS NULL OR sender = :sender)
    GROUP BY contact_id
), about AS (
    SELECT contact_id, field, new, at, source FROM history
    WHERE source IN ('rejected:' || :issue, 'bounce:' || :issue, 'complaint:' || :issue)
       OR (field = 'status' AND new = 'unsubscribed' AND source NOT LIKE 'complaint:%')
), addressed AS (
    SELECT DISTINCT contact_id FROM deliveries
    WHERE issue = :issue AND (:sender IS NULL OR sender = :sender)
), rejected AS (
    SELECT contact_id FROM deliveries WHERE issue = :issue AND status = 'failed'
       AND (:sender IS NULL OR sender = :sender)
    UNION SELECT contact_id FROM about WHERE source = 'rejected:' || :issue
), soft AS (
    SELECT contact_id FROM soft_bounces WHERE issue = :issue
), hard AS (
    SELECT DISTINCT contact_id FROM about WHERE source = 'bounce:' || :issue
       AND contact_id NOT IN soft
), complained AS (
    SELECT DISTINCT contact_id FROM about WHERE source = 'complaint:' || :issue
), unsubscribed AS (
    SELECT DISTINCT a.contact_id FROM about a
    WHERE a.field = 'status' AND a.new = 'unsubscribed' AND a.source NOT LIKE 'complaint:%'
      AND (a.source IN ('unsubscribe-link:' || :issue, 'unsubscribe-mail:' || :issue)
           OR a.at >= (SELECT got.at FROM got WHERE got.contact_id = a.contact_id))
), anyone AS (
    SELECT contact_id FROM addressed UNION SELECT contact_id FROM got
    UNION SELECT contact_id FROM rejected UNION SELECT contact_id FROM hard
    UNION SELECT contact_id FROM soft UNION SELECT contact_id FROM complained
    UNION SELECT contact_id FROM unsubscribed
)
SELECT coalesce(o.name, '') AS organisation,
    sum(e.contact_id IN addressed), sum(e.contact_id IN (SELECT contact_id FROM got)),
    sum(e.contact_id IN rejected), sum(e.contact_id IN hard), sum(e.contact_id IN soft),
    sum(e.contact_id IN complained), sum(e.contact_id IN unsubscribed)
FROM anyone e
LEFT JOIN contacts c ON c.id = e.contact_id
LEFT JOIN organisations o ON o.id = c.organisation_id
GROUP BY organisation
ORDER BY organisation = '', organisation COLLATE NOCASE
"""


def aftermath_by_organisation(
    db: Database, issue: str, sender: str | None = None
) -> list[tuple[str, Aftermath]]:
    """The issue's figures since it was sent, per organisation ('' for none, last); the
    ledger's only for ``sender`` when given."""
    rows = db.execute(_AFTERMATH, {"issue": issue, "sender": sender}).fetchall()
    return [(name, Aftermath(*figures)) for name, *figures in rows]


def aftermath(db: Database, issue: str, sender: str | None = None) -> Aftermath:
    """The issue's figures since it was sent; the ledger's only for ``sender`` when given."""
    return sum((a for _, a in aftermath_by_organisation(db, issue, sender)), NOBODY)
