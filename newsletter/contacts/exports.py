"""Export contacts as CSV or JSON.

CSV cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@``, tab, CR) get a leading apostrophe (OWASP "CSV injection"); the import
strips it again, so an export can be edited and re-imported unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from newsletter.contacts.fields import neutralise
from newsletter.files import cannot_write, check_output, write_atomic
from newsletter.models import Contact
from newsletter.store import Database
from newsletter.store.contacts import find_contacts

COLUMNS = (
    "email",
    "name",
    "organisation",
    "job_title",
    "country",
    "city",
    "phone",
    "topics",
    "listed",
    "status",
    "source",
    "created_at",
    "updated_at",
)
HEADERS = (
    "Email",
    "Name",
    "Organisation",
    "Job title",
    "Country",
    "City",
    "Phone",
    "Topics",
    "Listed",
    "Status",
    "Source",
    "Created at",
    "Updated at",
)


def export_text(contacts: list[Contact], fmt: str = "csv") -> str:
    """The contacts as CSV (formula cells neutralised) or as a JSON list."""
    if fmt == "json":
        rows = [{k: v for k, v in asdict(c).items() if k in COLUMNS} for c in contacts]
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for c in contacts:
        row = asdict(c)
        row["listed"] = "yes" if c.listed else "no"
        writer.writerow([neutralise(str(row[k] or "")) for k in COLUMNS])
    return out.getvalue()


def export_contacts(
    db: Database,
    output: Path | None,
    fmt: str,
    organisation: str | None,
    status: str | None,
    *,
    force: bool = False,
    keep: Iterable[Path] = (),
) -> tuple[str, int]:
    """The chosen contacts as text, written to ``output`` when given; (text, count).

    ``output`` passes ``files.check_output`` first (an existing file only with
    ``force``; never ``keep``, the database or pyproject.toml). A file is written
    whole or not at all; CSV gets a byte-order mark so spreadsheets read it as UTF-8.
    """
    if output is not None:
        check_output(output, force=force, keep=keep)
    people = find_contacts(db, organisation, status)
    text = export_text(people, fmt)
    if output is not None:
        try:
            write_atomic(output, text, "utf-8-sig" if fmt == "csv" else "utf-8")
        except OSError as exc:
            raise cannot_write(output, exc) from None
    return text, len(people)
