"""``newsletter intake``: the messages of a mailbox into an issue's inbox, once each.

Each message is read by ``message.read_message``; its sender is looked up among
the contacts by address (``store.contacts.contacts_by_email``). A known sender's
organisation becomes the candidate's ``source`` and their name its
``contributor``; an unknown sender's candidate has the source ``Unverified
sender`` (``UNVERIFIED``), which ``newsletter inbox`` and the desk's inbox show
as it is, and ``Name <address>`` as its contributor. The source is printed under
the item in the email and the archive, so it never holds a name or an address;
the contributor is kept in the file for the editor and never published. The
candidates are written by the inbox's own writer (``issue.write_candidates``)
and each message's key is remembered in contacts.db (``store.intake``) in the
same transaction, so a second run takes nothing twice.

Once that transaction has committed, each known sender whose message was taken
gets an acknowledgement (``ack.acknowledge``), unless the caller says not to
(``--no-ack``); an unknown sender gets none, since their address may be forged
(no backscatter). An acknowledgement that cannot be sent is one line in the
outcome and never undoes the candidate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.config import Settings
from newsletter.intake.ack import acknowledge
from newsletter.intake.imap import is_imap, read_imap
from newsletter.intake.message import Contribution, Skip, key_of, read_message
from newsletter.issue.inbox import Candidate, write_candidates
from newsletter.models import Contact
from newsletter.returns.bounces import read_mailbox
from newsletter.sanitize import one_line
from newsletter.store.base import Database, writing
from newsletter.store.contacts import contacts_by_email
from newsletter.store.intake import Taken as Recorded
from newsletter.store.intake import record_taken, taken_keys

# The source of an unknown sender's candidate. The source is printed in the email and
# the public archive, so it never holds an address: who sent it is the candidate's
# `contributor` ("Ann Lee <ann@b.org>"), which is kept in the file and never published.
UNVERIFIED = "Unverified sender"
# The source of a known sender with no organisation on record: their name or address
# would be printed publicly under the item.
NO_ORGANISATION = "A UN focal point"
ATTACHMENTS = "The message had {n} attachment(s), not kept: ask for a link."


@dataclass(frozen=True)
class Outcome:
    """What became of one message: a candidate file, or the reason it was skipped."""

    label: str  # the message's Message-ID, else its place in the mailbox
    name: str = ""  # the candidate file in inbox/, when taken
    sender: str = ""  # "ORG (Name)", or the unverified sender
    skipped: str = ""  # why not taken
    warnings: tuple[str, ...] = ()  # what the body named but could not be used, one line each

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.label}: skipped, {self.skipped}"
        return f"inbox/{self.name}  from {self.sender}"


@dataclass
class Taken:
    """The outcome of a whole run."""

    issue: str
    outcomes: list[Outcome] = field(default_factory=list)
    acknowledged: int = 0  # acknowledgements sent
    unacknowledged: list[str] = field(default_factory=list)  # one line for each that failed

    @property
    def summary(self) -> str:
        taken = sum(1 for o in self.outcomes if not o.skipped)
        skipped = len(self.outcomes) - taken
        return f"{taken} taken into issues/{self.issue}/inbox, {skipped} skipped."

    @property
    def acks(self) -> str:
        """How many acknowledgements went, and how many did not; "" when none was due."""
        n, failed = self.acknowledged, len(self.unacknowledged)
        if not n and not failed:
            return ""
        sent = f"{n} acknowledgement{'s' * (n != 1)} sent"
        return f"{sent}, {failed} not sent." if failed else f"{sent}."


def intake(settings: Settings, db: Database, folder: Path, source: str, ack: bool = True) -> Taken:
    """Take each message of ``source`` (a Maildir, an mbox, one .eml, or an IMAP folder
    ``imaps://user@host/FOLDER``) into the inbox; with ``ack``, acknowledge each known
    sender's contribution once it is recorded."""
    read = list(_read(source, settings.section_keys, db))
    senders = contacts_by_email(
        db, sorted({c.address for _, _, c in read if isinstance(c, Contribution) and c.address})
    )
    default = settings.section_keys[0]
    seen: set[str] = set()
    known_senders: dict[int, tuple[Contact, Contribution]] = {}  # by outcome index
    placed: list[tuple[int, str, Candidate]] = []  # (outcome index, key, candidate)
    result = Taken(folder.name)
    for label, key, read_as in read:
        if isinstance(read_as, Skip):
            result.outcomes.append(Outcome(label, skipped=read_as.why))
            continue
        if read_as is None or key in seen:  # taken by an earlier run, or twice in this one
            result.outcomes.append(Outcome(label, skipped="already taken in"))
            continue
        seen.add(key)
        # A From: the receiving server found forged (dmarc=fail) verifies no one: else a
        # forgery would be credited to an organisation and silence its reminder.
        contact = None if read_as.forged else senders.get(read_as.address)
        candidate, sender = _candidate(read_as, contact, default)
        if contact is not None:
            known_senders[len(result.outcomes)] = (contact, read_as)
        placed.append((len(result.outcomes), key, candidate))
        result.outcomes.append(Outcome(label, sender=sender, warnings=read_as.warnings))
    if placed:
        _write(db, folder, placed, result)
    if ack:  # after the commit: an email that fails never undoes a candidate
        _acknowledge(settings, folder, known_senders, result)
    return result


def _acknowledge(
    settings: Settings, folder: Path, known: dict[int, tuple[Contact, Contribution]], result: Taken
) -> None:
    """An acknowledgement to each known sender whose message became a candidate."""
    for index, (contact, c) in known.items():
        outcome = result.outcomes[index]
        if not outcome.name:  # another run took it in meanwhile: it acknowledged it
            continue
        failed = acknowledge(settings, folder, contact.email, contact.name, c.title, c.attachments)
        if failed:
            result.unacknowledged.append(
                f"{outcome.label}: acknowledgement to {contact.email} not sent: {failed}"
            )
        else:
            result.acknowledged += 1


def _write(
    db: Database, folder: Path, placed: list[tuple[int, str, Candidate]], result: Taken
) -> None:
    """Write the candidates and remember their keys, in one transaction: the keys are
    recorded only if every file was written, and a message another run took in since
    this one looked (two runs at once) is left to it."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    with writing(db):  # the write lock, held from this read on
        late = taken_keys(db, [key for _, key, _ in placed])
        for index, _, _ in (p for p in placed if p[1] in late):
            result.outcomes[index] = Outcome(
                result.outcomes[index].label, skipped="already taken in"
            )
        placed = [p for p in placed if p[1] not in late]
        names = write_candidates(folder, [c for _, _, c in placed], now) if placed else []
        record_taken(
            db,
            [
                Recorded(key, folder.name, n, c.organisation)
                for (_, key, c), n in zip(placed, names, strict=True)
            ],
            now,
        )
    for (index, _, _), name in zip(placed, names, strict=True):
        o = result.outcomes[index]
        result.outcomes[index] = Outcome(o.label, name, o.sender, warnings=o.warnings)


def _read(
    source: str, sections: tuple[str, ...], db: Database
) -> Iterator[tuple[str, str, Contribution | Skip | None]]:
    """(label, key, what it is) for each message of the mailbox; None for one an earlier
    run took in, which is not read again: reading (the classifier, the sanitiser,
    Markdown) is most of a run's time, and a second run over the same mailbox would
    otherwise cost as much as the first. Each key is looked up as its message comes,
    so no more than one message's bytes are held at a time."""
    mail = read_imap(source) if is_imap(source) else read_mailbox(Path(source))
    for place, data in mail:
        if isinstance(data, str):  # too large or not a file: not read
            yield one_line(place, 100), "", Skip(one_line(data, 200))
            continue
        key = key_of(data)
        label = f"<{one_line(key[3:], 100)}>" if key.startswith("id:") else one_line(place, 100)
        taken = bool(taken_keys(db, [key]))
        yield label, key, None if taken else read_message(data, sections)


def _candidate(c: Contribution, contact: Contact | None, default: str) -> tuple[Candidate, str]:
    """The candidate a contribution makes, and its sender as the output line names them."""
    if contact is not None:
        name = one_line(contact.name, 100) or c.name
        # As the directory stores it (one line already): the record and the reminder
        # match on it, so it is not cut or stripped of a ZWNJ here.
        organisation = contact.organisation
        shown = one_line(organisation, 100)
        source = shown or NO_ORGANISATION
        sender = f"{shown} ({name})" if shown and name else shown or name or contact.email
    else:
        who = f"{c.name} <{c.address}>" if c.name else c.address or "no sender address"
        name, source, sender = who, UNVERIFIED, f"Unverified: {who}"
        organisation = ""  # an unknown sender's organisation is not known
    summary = c.summary
    if c.attachments:
        summary += "\n\n" + ATTACHMENTS.format(n=c.attachments)
    candidate = Candidate(
        title=c.title,
        section=c.section or default,
        link=c.link,
        date=c.date,
        source=source,
        feed="",
        guid=None,
        summary=summary,
        undated=c.date is None,
        contributor=name,
        organisation=organisation,
    )
    return candidate, sender
