"""The data-quality check of the directory: advice for the editor, never a change.

Findings: phone numbers that cannot be read (or are not written in international
format), an address outside its organisation's known domains, a generic mailbox
listed as a person, one person under two organisations, and organisations of
the UN system (``un_entities.toml``) with no focal point at all.

An organisation's known domains are those of the UN entity it matches (by
acronym or name, without regard to case), the domain of its website, and any
domain used by at least two of its contacts: one address alone on a domain
nobody else at the organisation uses is what gets flagged. An organisation with
no known domain is not judged.
"""

from __future__ import annotations

import re
import shlex
import tomllib
import unicodedata
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files

import phonenumbers

from newsletter.models import Contact
from newsletter.store import Database, reading
from newsletter.store.contacts import find_contacts, organisations

# Mailboxes of a team or a function, not of a person (the part before the @).
GENERIC_MAILBOXES = frozenset(
    {
        "admin",
        "contact",
        "contacts",
        "enquiries",
        "hello",
        "help",
        "info",
        "information",
        "mail",
        "media",
        "office",
        "partners",
        "partnership",
        "partnerships",
        "press",
        "privatesector",
        "private.sector",
        "secretariat",
        "support",
        "team",
    }
)


@dataclass(frozen=True)
class Entity:
    """One organisation of the UN system."""

    acronym: str
    name: str
    domains: tuple[str, ...]


@cache
def un_entities() -> tuple[Entity, ...]:
    """The UN system entities shipped with the package (un_entities.toml)."""
    text = files(__package__).joinpath("un_entities.toml").read_text(encoding="utf-8")
    return tuple(
        Entity(each["acronym"], each["name"], tuple(each["domains"]))
        for each in tomllib.loads(text)["entity"]
    )


@cache
def _regions() -> dict[str, str]:
    """Region code by lower-cased English country name ("switzerland": "CH")."""
    # Here, not at the top: the geocoder holds about 110 MB of place names, and
    # every command that imports the contacts stage (send among them) paid for it.
    from phonenumbers import geocoder

    found = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        found[geocoder._region_display_name(region, "en").lower()] = region
        found[region.lower()] = region
    return found


def region_of(country: str) -> str | None:
    """The phone region of a country's English name or two-letter code; None if unknown."""
    return _regions().get(country.strip().lower()) if country.strip() else None


def parsed(phone: str, country: str = "") -> phonenumbers.PhoneNumber | None:
    """``phone`` as a valid number, or None. A number without +country code is read in
    ``country``'s region. Never raises."""
    try:
        # A number with its +country code needs no region (nor the country names).
        region = None if phone.lstrip().startswith("+") else region_of(country)
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def international(phone: str, country: str = "") -> str | None:
    """``phone`` in international format (+41 22 917 12 34), or None when it is not a valid
    number (``parsed``)."""
    number = parsed(phone, country)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def e164(phone: str, country: str = "") -> str | None:
    """``phone`` in E.164 (+41229171234), as a tel: URI carries it, or None (``parsed``)."""
    number = parsed(phone, country)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalised_name(name: str) -> str:
    """A name compared without accents, case, punctuation or extra spaces."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


@dataclass(frozen=True)
class Finding:
    """One piece of advice: what kind, about whom, and what to do."""

    kind: str
    contact: str  # the address, or "" for an organisation
    organisation: str
    message: str

    def line(self) -> str:
        return f"{self.contact or self.organisation}: {self.message}"


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _phone(contact: Contact) -> list[Finding]:
    if not contact.phone:
        return []
    shown = international(contact.phone, contact.country)
    if shown is None:
        message = (
            f"phone {contact.phone!r} is not a valid number"
            f"{'' if region_of(contact.country) else ' (write it with its +country code)'}. "
            f"Correct it with: newsletter contacts edit {contact.email} --phone ..."
        )
        return [Finding("phone-unreadable", contact.email, contact.organisation, message)]
    if shown == contact.phone:
        return []
    message = (
        f"phone {contact.phone!r} is {shown} in international format. "
        f"Write it so with: newsletter contacts edit {contact.email} --phone '{shown}'"
    )
    return [Finding("phone-format", contact.email, contact.organisation, message)]


def _entity_for(organisation: str, acronym: str) -> Entity | None:
    keys = {organisation.casefold(), acronym.casefold()} - {""}
    for entity in un_entities():
        if {entity.acronym.casefold(), entity.name.casefold()} & keys:
            return entity
    return None


def known_domains(db: Database, contacts: list[Contact]) -> dict[str, set[str]]:
    """Each organisation's known address domains (see the module's docstring)."""
    known: dict[str, set[str]] = defaultdict(set)
    for org in organisations(db):
        if entity := _entity_for(org.name, org.acronym):
            known[org.name].update(entity.domains)
        if org.website:
            host = re.sub(r"^[a-z]+://", "", org.website.lower()).split("/")[0]
            known[org.name].add(host.removeprefix("www."))
    seen = Counter((c.organisation, _domain(c.email)) for c in contacts if c.organisation)
    for (org_name, domain), count in seen.items():
        if count >= 2:
            known[org_name].add(domain)
    return known


def _outside(domain: str, known: set[str]) -> bool:
    return not any(domain == k or domain.endswith(f".{k}") for k in known)


def _address(contact: Contact, known: dict[str, set[str]]) -> list[Finding]:
    found = []
    local = contact.email.partition("@")[0].lower()
    if local in GENERIC_MAILBOXES:
        message = (
            f"{local}@ is a shared mailbox, listed as a person. Replace it with the "
            "focal point's own address, or remove it: newsletter contacts remove "
            f"{contact.email}"
        )
        found.append(Finding("generic-mailbox", contact.email, contact.organisation, message))
    domains = known.get(contact.organisation, set())
    if contact.organisation and domains and _outside(_domain(contact.email), domains):
        message = (
            f"{_domain(contact.email)} is not a domain of {contact.organisation} "
            f"({', '.join(sorted(domains))}). Ask for their work address."
        )
        found.append(Finding("foreign-domain", contact.email, contact.organisation, message))
    return found


def _twice(contacts: list[Contact]) -> list[Finding]:
    by_name: dict[str, list[Contact]] = defaultdict(list)
    for contact in contacts:
        if key := normalised_name(contact.name):
            by_name[key].append(contact)
    found = []
    for same in by_name.values():
        orgs = sorted({c.organisation for c in same})
        if len(orgs) < 2:
            continue
        for contact in same:
            message = (
                f"{contact.name} is also listed under "
                f"{', '.join(o or '(no organisation)' for o in orgs if o != contact.organisation)}."
                " Keep the entry of the organisation they work for; remove the other."
            )
            found.append(Finding("two-organisations", contact.email, contact.organisation, message))
    return found


def _uncovered(db: Database, contacts: list[Contact]) -> list[Finding]:
    acronyms = {o.name: o.acronym for o in organisations(db)}
    covered = {_entity_for(c.organisation, acronyms.get(c.organisation, "")) for c in contacts}
    return [
        Finding(
            "no-focal-point",
            "",
            entity.acronym,
            f"{entity.name} has no focal point. Add one with: newsletter contacts add EMAIL "
            f"--org {shlex.quote(entity.acronym)}",
        )
        for entity in un_entities()
        if entity not in covered
    ]


@dataclass(frozen=True)
class CheckResult:
    """Every finding, and how many contacts were checked."""

    findings: list[Finding]
    checked: int

    def summary(self) -> str:
        if not self.findings:
            return f"{self.checked} entries checked: nothing to fix."
        counts = Counter(f.kind for f in self.findings)
        parts = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        return f"{self.checked} entries checked: {len(self.findings)} findings ({parts})."

    def as_json(self) -> dict[str, object]:
        return {"checked": self.checked, "findings": [asdict(f) for f in self.findings]}


def check(db: Database) -> CheckResult:
    """Check every contact who has not left; the findings in a stable order."""
    with reading(db):
        contacts = [c for c in find_contacts(db) if c.status != "left"]
        known = known_domains(db, contacts)
        found = [f for c in contacts for f in _phone(c) + _address(c, known)]
        found += _twice(contacts) + _uncovered(db, contacts)
    return CheckResult(found, len(contacts))
