"""Read a contact list (CSV or JSON) into rows keyed by canonical field names.

Only UTF-8 is accepted, with or without a BOM: a spreadsheet saved in another
encoding is refused with the offending byte and line, never guessed. Headers
are matched without regard to case, accents, spacing or punctuation
(``header_key``), through the aliases below, so "E-mail", "Email Address" and
"EMAIL" all mean ``email``, and "Téléphone", "TELEPHONE" and "telephone" all
mean ``phone``. English, French and Spanish names are known.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

from newsletter import files
from newsletter.errors import where
from newsletter.schema import JSON_TOKENS, MAX_DIGITS, nesting_line, shown

ALIASES: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "emailaddress",
        "mail",
        "emailid",
        "contactemail",
        "workemail",
        "primaryemail",
        "businessemail",
        "emailaddressprimary",
        "email1value",  # Google Contacts export
        "emailaddress1",
        "courriel",
        "adressecourriel",
        "adresseelectronique",
        "adresseemail",
        "adressemail",
        "correo",
        "correoelectronico",
        "direcciondecorreo",
        "direcciondecorreoelectronico",
    ),
    "name": (
        "name",
        "fullname",
        "contactname",
        "focalpoint",
        "focalpointname",
        "displayname",
        "nom",  # beside Prénom, the family name (PAIRED)
        "nomcomplet",
        "nometprenom",
        "prenometnom",
        "nombre",  # beside Apellido, the given name (PAIRED)
        "nombrecompleto",
        "nombreyapellido",
        "nombreyapellidos",
    ),
    "first_name": ("firstname", "givenname", "forename", "first", "prenom"),
    "last_name": (
        "lastname",
        "surname",
        "familyname",
        "last",
        "nomdefamille",
        "apellido",
        "apellidos",
    ),
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
        "entite",
        "organisme",
        "agence",
        "organismo",
        "organizacion",
        "entidad",
        "agencia",
    ),
    "acronym": (
        "acronym",
        "agencyacronym",
        "organisationacronym",
        "organizationacronym",
        "orgacronym",
        "shortname",
        "sigle",
        "acronyme",
        "sigla",
        "siglas",
    ),
    "website": (
        "website",
        "organisationwebsite",
        "organizationwebsite",
        "agencywebsite",
        "url",
        "siteweb",
        "sitioweb",
    ),
    "job_title": (
        "jobtitle",
        "title",
        "position",
        "role",
        "function",
        "designation",
        "organizationtitle",  # Google Contacts export
        "organization1title",
        "fonction",
        "cargo",
        "puesto",
        "funcion",
    ),
    "country": ("country", "dutystationcountry", "pays", "pais"),
    "city": ("city", "dutystation", "location", "town", "ville", "lieudaffectation", "ciudad"),
    "phone": (
        "phone",
        "telephone",  # also Téléphone
        "tel",
        "phonenumber",
        "mobile",
        "telephonenumber",
        "businessphone",  # Outlook export
        "phone1value",  # Google Contacts export
        "portable",
        "telefono",
        "movil",
        "celular",
    ),
    "topics": (
        "topics",
        "topic",
        "focusareas",
        "areas",
        "interests",
        "tags",
        "themes",  # also Thèmes
        "sujets",
        "temas",
    ),
    "listed": ("listed", "indirectory", "showindirectory", "publish", "public"),
    "status": ("status", "subscription", "subscriptionstatus"),
}
# A header that names the whole name on its own, and one part of it beside the
# other part: French "Nom" is the family name next to "Prénom", Spanish
# "Nombre" the given name next to "Apellido". Key -> (the other part, this part).
PAIRED = {"nom": ("first_name", "last_name"), "nombre": ("last_name", "first_name")}
# Columns our own export writes that an import reads past without comment.
EXPORT_ONLY = {"id", "source", "createdat", "updatedat"}
_LOOKUP = {alias: field for field, aliases in ALIASES.items() for alias in aliases}
_DELIMITERS = (",", ";", "\t")
# Something like an address, to tell a cell that swallowed rows from a note.
_ADDRESS = re.compile(r"[^\s@,;\t\"]+@[^\s@,;\t\"]+\.[^\s@,;\t\"]+")


# The bounds of a contact file (README, "Limits"). A contact row is a few
# hundred characters; a longer line is another kind of file, or a quote that
# was never closed, and would otherwise be held in memory whole.
MAX_LINE = 1024 * 1024  # characters in one CSV line, and in one cell
MAX_JSON = 8 * 1024 * 1024  # bytes of a JSON list, which is parsed whole
MAX_DEPTH = 32  # lists and objects nested in a JSON list: [{"Topics": [...]}] is 3
# One row: its line in the file (its position in a JSON list), its values by
# field, and whether it has more cells than the header has columns.
Row = tuple[int, dict[str, object], bool]


class ReadError(ValueError):
    """The whole file is unusable; the message is ``FILE[:LINE]: problem. Fix.``"""


@dataclass(frozen=True)
class Records:
    """A file's rows, ``Row`` each, plus what the headers meant."""

    display: str
    columns: dict[str, str]  # field -> header as written in the file
    rows: Iterable[Row]
    ignored: tuple[str, ...] = ()  # headers that mean nothing to us


def header_key(header: str) -> str:
    """A header as it is looked up: no accents, no case, only letters and digits.

    "Téléphone", "TELEPHONE" and "télé-phone" give one key. Accents go by
    NFKD (which also turns ligatures and full-width letters into plain ones)
    and dropping the combining marks; case by casefold.
    """
    bare = "".join(c for c in unicodedata.normalize("NFKD", header) if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", bare.casefold())


def decode(data: bytes, display: str) -> str:
    """UTF-8 text (BOM dropped), or a ReadError naming the byte, line and likely encoding."""
    _refuse_utf16(data[:4096], display)
    try:
        return files.decode(data)
    except files.NotUTF8 as exc:
        raise ReadError(f"{display}:{exc.line}: {exc.reason}") from None


def _refuse_utf16(head: bytes, display: str) -> None:
    # UTF-16 has a NUL in every other byte of Latin text; one stray NUL is just
    # a bad cell, rejected with its row.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(0) > len(head) // 8:
        raise ReadError(f"{display}: UTF-16 or binary, not UTF-8 text. Save it as UTF-8 CSV.")


def read_records(data: bytes, display: str, fmt: str | None = None) -> Records:
    """Parse ``data`` as CSV (``,`` or ``;``, detected) or JSON; ReadError for a bad file.

    Every row is read here and kept in memory: for a downloaded source, which
    ``download`` has already capped in size.
    """
    records = _open(lambda: io.BytesIO(data), display, fmt)
    return replace(records, rows=tuple(records.rows))


def stream_records(path: Path, display: str, fmt: str | None = None) -> Records:
    """The headers of a contact file now, its rows each time ``rows`` is iterated.

    A CSV file is read line by line as its rows are used, so a list of a
    million contacts needs no more memory than one of ten; iterating may raise
    ReadError for a problem further down the file. JSON is read whole, and so
    is capped at MAX_JSON bytes. OSError when the file cannot be opened.
    """
    return _open(lambda: path.open("rb"), display, fmt)


def _open(opener: Callable[[], BinaryIO], display: str, fmt: str | None) -> Records:
    with opener() as fh:
        head = fh.read(4096)
        _refuse_utf16(head, display)
        first = _first_character(head, fh)
        if not first:
            raise ReadError(f"{display}: the file is empty. Export the list with a header row.")
        if fmt == "json" or (fmt is None and first in "[{"):
            fh.seek(0)
            return _read_json(fh.read(MAX_JSON + 1), display)
    parse = _csv(opener, display)
    header = next(parse)
    parse.close()
    assert isinstance(header, Records)  # the first thing _csv yields
    return replace(header, rows=_Rows(opener, display))


def _first_character(head: bytes, fh: BinaryIO) -> str:
    """The first character that is not white space ("" for none), read a chunk at a time."""
    chunk = head
    while chunk:
        text = chunk.decode("utf-8-sig" if chunk is head else "utf-8", "replace").lstrip()
        if text:
            return text[0]
        chunk = fh.read(1 << 16)
    return ""


class _Rows:
    """The rows of a CSV file, parsed afresh from the start on each iteration."""

    def __init__(self, opener: Callable[[], BinaryIO], display: str) -> None:
        self.opener, self.display = opener, display

    def __iter__(self) -> Iterator[Row]:
        try:
            parse = _csv(self.opener, self.display)
            next(parse)  # the header, read again
            yield from parse  # type: ignore[misc]  # only rows follow the header
        except OSError as exc:  # the file went away between two passes
            raise ReadError(
                f"{self.display}: cannot read it ({exc.strerror}). Check the path."
            ) from None


def _lines(fh: BinaryIO, display: str) -> Generator[str, None, None]:
    """The file's lines, decoded, line ends kept; ReadError for bad UTF-8 or a line too long."""
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    number = 0
    try:
        while line := text.readline(MAX_LINE + 2):
            number += 1
            if len(line) > MAX_LINE and len(line.rstrip("\r\n")) > MAX_LINE:
                raise ReadError(
                    f"{display}:{number}: the line is longer than {MAX_LINE:,} characters; "
                    "no contact row is. Check that this is the contact list, saved as CSV."
                )
            yield line
    except UnicodeDecodeError:
        raise _not_utf8(fh, display) from None
    finally:
        text.detach()  # the caller closes the file


def _not_utf8(fh: BinaryIO, display: str) -> ReadError:
    """The first byte that is not UTF-8, with its line: read again, a piece at a time."""
    fh.seek(0)
    lines, rest = 0, b""
    while True:
        chunk = fh.read(1 << 16)
        data = rest + chunk
        cut = data.rfind(b"\n") + 1 if chunk and len(data) < 4 * MAX_LINE else len(data)
        piece, rest = data[:cut], data[cut:]
        try:
            files.decode(piece)
        except files.NotUTF8 as exc:
            return ReadError(f"{display}:{lines + exc.line}: {exc.reason}")
        lines += piece.count(b"\n")
        if not chunk:
            return ReadError(f"{display}: not UTF-8. Save the file as UTF-8.")


def _map_headers(
    headers: list[str], display: str, line: int = 1
) -> tuple[dict[str, str], list[str | None], list[str]]:
    """(field -> header, index -> field or None, ignored headers)."""
    columns: dict[str, str] = {}
    by_index: list[str | None] = []
    ignored: list[str] = []
    keys = [header_key(h) for h in headers]
    fields = [_LOOKUP.get(k) for k in keys]
    for i, key in enumerate(keys):
        if key in PAIRED and PAIRED[key][0] in fields:  # "Prénom" + "Nom": one name in two parts
            fields[i] = PAIRED[key][1]
    for header, key, field in zip(headers, keys, fields, strict=True):
        if field and field in columns:
            raise ReadError(
                f"{where(display, line)}: columns {shown(columns[field])} "
                f"and {shown(header.strip())} "
                f"both mean {field}. Delete or rename one of them."
            )
        if field:
            columns[field] = header.strip()
        elif key and key not in EXPORT_ONLY:
            ignored.append(header.strip())
        by_index.append(field)
    if "email" not in columns:
        found = ", ".join(shown(h.strip(), quote=False) for h in headers if h.strip())
        raise ReadError(
            f"{where(display, line)}: no email column (headers: {found[:200] or 'none'}). "
            "Add a column named Email with one address per row."
        )
    return columns, by_index, ignored


def _csv(opener: Callable[[], BinaryIO], display: str) -> Generator[Records | Row, None, None]:
    """The header (as Records without rows), then each row: ``(line, values, extra cells)``."""
    csv.field_size_limit(MAX_LINE)  # a quote never closed stops at MAX_LINE, not at the end
    with opener() as fh, contextlib.closing(_lines(fh, display)) as lines:
        blank = 0
        for first in lines:
            if first.strip():
                break
            blank += 1
        else:
            raise ReadError(f"{display}: the file is empty. Export the list with a header row.")
        sep = re.fullmatch(r"\s*sep=(.)\s*", first, re.I)
        if sep:  # Excel's "sep=;" first line names the delimiter; its line still counts
            delimiter, first = sep[1], "\n"
        else:  # the delimiter whose header cells we recognise best; a tie goes to ","
            delimiter = max(_DELIMITERS, key=lambda d: _score(first, d))
        text = itertools.chain(itertools.repeat("\n", blank), (first,), lines)
        reader = csv.reader(text, delimiter=delimiter)
        try:
            headers: list[str] = []
            while not any(h.strip() for h in headers):  # blank lines above the header
                found = next(reader, None)
                if found is None:
                    raise ReadError(
                        f"{display}: no header row, only empty cells. "
                        "Export the list with its headers."
                    )
                headers = found
            columns, by_index, ignored = _map_headers(headers, display, reader.line_num)
            yield Records(display, columns, (), tuple(ignored))
            yield from _csv_rows(reader, delimiter, headers, by_index, display)
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise ReadError(
                    f"{display}:{reader.line_num}: a header cell is longer than {MAX_LINE:,} "
                    "characters, so a quote in the header is probably not closed. "
                    "Check the quotes in the header."
                ) from None
            raise ReadError(
                f"{display}:{reader.line_num}: not valid CSV ({exc}). "
                "Check the quotes on that line."
            ) from None


def _csv_rows(
    reader: Any, delimiter: str, headers: list[str], by_index: list[str | None], display: str
) -> Iterator[Row]:
    width = len(headers)
    known = [(i, f) for i, f in enumerate(by_index) if f]
    names = [f for _, f in known]
    pick = itemgetter(*[i for i, _ in known]) if len(known) > 1 else None
    start = reader.line_num + 1
    count = 0
    try:
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
            extra = False
            if len(cells) != width:
                extra = bool("".join(cells[width:]).strip())
                cells = (cells + [""] * width)[:width]  # short rows: missing cells are empty
            values = pick(cells) if pick else [cells[known[0][0]]]
            count += 1
            yield line, dict(zip(names, values, strict=True)), extra
    except csv.Error as exc:
        if "field limit" not in str(exc):
            raise
        # Each line is within MAX_LINE, so only a quoted cell spanning lines gets here.
        raise ReadError(
            f"{display}:{start}: a quote opened on this line is not closed within "
            f"{MAX_LINE:,} characters. Check the quotes on line {start}."
        ) from None
    if not count:
        raise ReadError(f"{display}: a header but no rows. Add one row per contact.")


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


def _read_json(raw: bytes, display: str) -> Records:
    if len(raw) > MAX_JSON:
        raise ReadError(
            f"{display}: a JSON list over {MAX_JSON // 1024 // 1024} MB; JSON is read whole. "
            "Export a list this long as CSV, which is read row by row."
        )
    text = decode(raw, display)
    if nesting_line(text, MAX_DEPTH, JSON_TOKENS):
        raise ReadError(
            f"{display}: lists or objects nested more than {MAX_DEPTH} deep. "
            "A contact list is a list of objects; fix the file."
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"{display}:{exc.lineno}: invalid JSON ({exc.msg}). Fix the syntax."
        ) from None
    except ValueError:  # Python reads no integer of more than MAX_DIGITS digits
        raise ReadError(
            f"{display}: a number in it has more than {MAX_DIGITS:,} digits. Fix the file."
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
    rows: list[Row] = []
    for n, entry in enumerate(data, 1):
        row: dict[str, object] = {}
        for key, value in entry.items():
            field = fields[str(key)]
            if field:
                row[field] = _joined(value)
        rows.append((n, row, False))
    return Records(display, columns, tuple(rows), tuple(ignored))


def _joined(value: object) -> object:
    """A list of words or numbers (["trade", "health"]) as one cell; anything else as it
    is, so a nested list or an object is refused by its field ("must be text, not
    list") instead of stored as "[['a']]"."""
    if isinstance(value, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return "; ".join(map(str, value))
    return value
