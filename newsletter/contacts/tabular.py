"""Read a contact list (CSV or JSON) into rows keyed by canonical field names.

Only UTF-8 is accepted, with or without a BOM: a spreadsheet saved in another
encoding is refused with the offending byte and line, never guessed. Headers
are matched without regard to case, spacing or punctuation, through the
aliases below, so "E-mail", "Email Address" and "EMAIL" all mean ``email``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from operator import itemgetter

from newsletter import files
from newsletter.contacts.fields import show
from newsletter.errors import where

ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "emailaddress",
        "mail",
        "emailid",
        "contactemail",
        "courriel",
        "workemail",
        "primaryemail",
        "businessemail",
        "emailaddressprimary",
        "email1value",  # Google Contacts export
        "emailaddress1",
    ),
    "name": ("name", "fullname", "contactname", "focalpoint", "focalpointname", "displayname"),
    "first_name": ("firstname", "givenname", "forename", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "organisation": (
        "organisation",
        "organization",
        "agency",
        "org",
        "entity",
        "unentity",
        "organisationorganization",
        "organizationorganisation",
        "nameoforganisation",
        "nameoforganization",
        "organisationname",
        "organizationname",
        "agencyname",
        "unorganisation",
        "unorganization",
        "unagency",
        "company",
        "organization1name",  # Google Contacts export
    ),
    "acronym": (
        "acronym",
        "agencyacronym",
        "organisationacronym",
        "organizationacronym",
        "orgacronym",
        "shortname",
    ),
    "website": ("website", "organisationwebsite", "organizationwebsite", "agencywebsite", "url"),
    "job_title": (
        "jobtitle",
        "title",
        "position",
        "role",
        "function",
        "designation",
        "organizationtitle",  # Google Contacts export
        "organization1title",
    ),
    "country": ("country", "dutystationcountry"),
    "city": ("city", "dutystation", "location", "town"),
    "phone": (
        "phone",
        "telephone",
        "tel",
        "phonenumber",
        "mobile",
        "telephonenumber",
        "businessphone",  # Outlook export
        "phone1value",  # Google Contacts export
    ),
    "topics": ("topics", "topic", "focusareas", "areas", "interests", "tags", "themes"),
    "listed": ("listed", "indirectory", "showindirectory", "publish", "public"),
    "status": ("status", "subscription", "subscriptionstatus"),
}
# Columns our own export writes that an import reads past without comment.
EXPORT_ONLY = {"id", "source", "createdat", "updatedat"}
_LOOKUP = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
_DELIMITERS = (",", ";", "\t")
# Something like an address, to tell a cell that swallowed rows from a note.
_ADDRESS = re.compile(r"[^\s@,;\t\"]+@[^\s@,;\t\"]+\.[^\s@,;\t\"]+")


class ReadError(ValueError):
    """The whole file is unusable; the message is ``FILE[:LINE]: problem. Fix.``"""


@dataclass(frozen=True)
class Records:
    """A file's rows: (row number, {field: raw value}) plus what the headers meant."""

    display: str
    columns: dict[str, str]  # field -> header as written in the file
    rows: tuple[tuple[int, dict[str, object]], ...]
    ignored: tuple[str, ...] = ()  # headers that mean nothing to us
    extra_cells: tuple[int, ...] = ()  # row numbers with more cells than headers


def header_key(header: str) -> str:
    return re.sub(r"[\W_]+", "", header.casefold())


def decode(data: bytes, display: str) -> str:
    """UTF-8 text (BOM dropped), or a ReadError naming the byte, line and likely encoding."""
    head = data[:4096]
    # UTF-16 has a NUL in every other byte of Latin text; one stray NUL is just
    # a bad cell, rejected with its row.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(0) > len(head) // 8:
        raise ReadError(f"{display}: UTF-16 or binary, not UTF-8 text. Save it as UTF-8 CSV.")
    try:
        return files.decode(data)
    except files.NotUTF8 as exc:
        raise ReadError(f"{display}:{exc.line}: {exc.reason}") from None


def read_records(data: bytes, display: str, fmt: str | None = None) -> Records:
    """Parse ``data`` as CSV (``,`` or ``;``, detected) or JSON; ReadError for a bad file."""
    text = decode(data, display)
    if not text.strip():
        raise ReadError(f"{display}: the file is empty. Export the list with a header row.")
    if fmt == "json" or (fmt is None and text.lstrip()[:1] in "[{"):
        return _read_json(text, display)
    return _read_csv(text, display)


def _map_headers(
    headers: list[str], display: str, line: int = 1
) -> tuple[dict[str, str], list[str | None], list[str]]:
    """(field -> header, index -> field or None, ignored headers)."""
    columns: dict[str, str] = {}
    by_index: list[str | None] = []
    ignored: list[str] = []
    for header in headers:
        key = header_key(header)
        field = _LOOKUP.get(key)
        if field and field in columns:
            raise ReadError(
                f"{where(display, line)}: columns '{_safe(columns[field])}' and '{_safe(header)}' "
                f"both mean {field}. Delete or rename one of them."
            )
        if field:
            columns[field] = header.strip()
        elif key and key not in EXPORT_ONLY:
            ignored.append(header.strip())
        by_index.append(field)
    if "email" not in columns:
        shown = ", ".join(_safe(h.strip()) for h in headers if h.strip())[:200] or "none"
        raise ReadError(
            f"{where(display, line)}: no email column (headers: {shown}). "
            "Add a column named Email with one address per row."
        )
    return columns, by_index, ignored


def _safe(header: str) -> str:
    """A header as printed in a message: control characters escaped, at most 40 characters."""
    return show(header.strip(), 40)[1:-1]


def _read_csv(text: str, display: str) -> Records:
    first = next(line for line in text.splitlines() if line.strip())
    sep = re.fullmatch(r"\s*sep=(.)\s*", first, re.I)
    if sep:  # Excel's "sep=;" first line names the delimiter
        delimiter, text = sep[1], text.replace(first, "", 1)
    else:  # the delimiter whose header cells we recognise best; a tie goes to ","
        delimiter = max(_DELIMITERS, key=lambda d: _score(first, d))
    # A cell over csv's 128 KB limit would refuse the whole file; let it
    # through, so its row alone is rejected for its length.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, dict[str, object]]] = []
    extra: list[int] = []
    try:
        headers: list[str] = []
        while not any(h.strip() for h in headers):  # blank lines above the header
            found = next(reader, None)
            if found is None:
                raise ReadError(
                    f"{display}: no header row, only empty cells. Export the list with its headers."
                )
            headers = found
        columns, by_index, ignored = _map_headers(headers, display, reader.line_num)
        width = len(headers)
        known = [(i, f) for i, f in enumerate(by_index) if f]
        names = [f for _, f in known]
        pick = itemgetter(*[i for i, _ in known]) if len(known) > 1 else None
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not "".join(cells).strip():
                continue  # blank line or a row of empty cells
            if start - line > 1 and _swallows(cells, delimiter):
                raise ReadError(
                    f"{display}:{line}: a quote opened on this line is not closed until line "
                    f"{start - 1}, so the rows in between would be lost. "
                    f"Check the quotes on line {line}."
                )
            if len(cells) != width:
                if "".join(cells[width:]).strip():
                    extra.append(line)
                cells = (cells + [""] * width)[:width]  # short rows: missing cells are empty
            values = pick(cells) if pick else [cells[known[0][0]]]
            rows.append((line, dict(zip(names, values, strict=True))))
    except csv.Error as exc:
        raise ReadError(
            f"{display}:{reader.line_num}: not valid CSV ({exc}). Check the quotes on that line."
        ) from None
    if not rows:
        raise ReadError(f"{display}: a header but no rows. Add one row per contact.")
    return Records(display, columns, tuple(rows), tuple(ignored), tuple(extra))


def _swallows(cells: list[str], delimiter: str) -> bool:
    """Whether a cell that spans lines holds what looks like another row.

    That is a line with the delimiter and a cell that is just an address; a
    note such as "or write to jo@un.org, any day" does not count.
    """
    for cell in cells:
        for part in cell.splitlines()[1:]:
            parts = part.split(delimiter)
            if len(parts) > 1 and any(_ADDRESS.fullmatch(p.strip(' "')) for p in parts):
                return True
    return False


def _score(line: str, delimiter: str) -> tuple[int, int]:
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return sum(header_key(c) in _LOOKUP for c in cells), len(cells)


def _read_json(text: str, display: str) -> Records:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"{display}:{exc.lineno}: invalid JSON ({exc.msg}). Fix the syntax."
        ) from None
    except ValueError:  # Python reads no integer of more than 4,300 digits
        raise ReadError(
            f"{display}: a number in it has more than 4,300 digits. Fix the file."
        ) from None
    except RecursionError:
        raise ReadError(f"{display}: lists or objects nested too deeply. Fix the file.") from None
    if isinstance(data, dict):
        data = data.get("contacts")
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ReadError(
            f'{display}: JSON must be a list of objects (or {{"contacts": [...]}}), '
            "one object per contact."
        )
    if not data:
        raise ReadError(f"{display}: the list of contacts is empty. Add one object per contact.")
    headers = list(dict.fromkeys(str(k) for entry in data for k in entry))
    columns, by_index, ignored = _map_headers(headers, display, line=0)
    fields = dict(zip(headers, by_index, strict=True))
    rows = []
    for n, entry in enumerate(data, 1):
        row: dict[str, object] = {}
        for key, value in entry.items():
            field = fields[str(key)]
            if field:
                row[field] = "; ".join(map(str, value)) if isinstance(value, list) else value
        rows.append((n, row))
    return Records(display, columns, tuple(rows), tuple(ignored))
