"""Export contacts as CSV or JSON.

CSV cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@``, tab, CR) get a leading apostrophe (OWASP "CSV injection"); the import
strips it again, so an export can be edited and re-imported unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from newsletter.contacts.fields import neutralise
from newsletter.models import Contact

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
