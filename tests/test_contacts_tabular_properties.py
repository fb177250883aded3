"""newsletter.contacts.tabular, by property: read_records reads any bytes or raises ReadError.

Agency lists arrive as whatever a spreadsheet or a web server produced; a file is
read into rows, each with a line of the file, or refused with one ReadError that
names the file, never another exception.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.contacts.fields import TEXT_FIELDS
from newsletter.contacts.tabular import ALIASES, ReadError, read_records

FIELDS = {"email", "listed", "status", *TEXT_FIELDS}
HEADERS = st.sampled_from(
    ["Email", "E-mail", "EMAIL ADDRESS", "Name", "First name", "Agency", "Listed", "Status",
     "Notes", "", " ", "id", "Email 1 - Value", "Organisation/Organization"]
)  # fmt: skip
CELLS = st.one_of(
    st.text(max_size=15),
    st.sampled_from(
        ["a@who.example.org", '"Doe, Jane" <j@x.org>', "=1+1", "yes", "maybe", '"', '""', "\n"]
    ),
)
DELIMITERS = st.sampled_from([",", ";", "\t", "|"])
CSV_TEXT = st.builds(
    lambda sep_line, header, rows, d, newline: (
        sep_line + newline.join(d.join(r) for r in [header, *rows])
    ),
    st.sampled_from(["", "sep=;\n", "sep=,\r\n", "\n\n"]),
    st.lists(HEADERS, max_size=5),
    st.lists(st.lists(CELLS, max_size=6), max_size=6),
    DELIMITERS,
    st.sampled_from(["\n", "\r\n", "\r"]),
)
JSON_TEXT = st.one_of(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(HEADERS, st.text(max_size=5)), inner, max_size=4),
        ),
        max_leaves=10,
    ).map(json.dumps),
    st.sampled_from(['{"contacts": []}', "[{}]", '[{"Email": ["a", "b"]}]', "[", "{"]),
)
DATA = st.one_of(
    st.binary(max_size=200),
    CSV_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    JSON_TEXT.map(str.encode),
    st.builds(lambda t: b"\xef\xbb\xbf" + t.encode(), CSV_TEXT),
    st.builds(lambda t: t.encode("utf-16"), CSV_TEXT),
    st.builds(lambda t, junk: t.encode() + junk, CSV_TEXT, st.binary(min_size=1, max_size=3)),
)


def lines_in(data: bytes) -> int:
    text = data.decode("utf-8", "replace")
    return max(data.count(b"\n"), len(text.splitlines())) + 1


@given(data=DATA, fmt=st.sampled_from([None, None, "csv", "json"]))
@example(data=b"Email\na@who.example.org\n", fmt=None)
@example(data=b'Email,Name\n"a@b.org,"x\n', fmt=None)
@example(data=b"Email\x00\n", fmt=None)
@example(data=b"[1, 2]", fmt=None)
@example(data=b'{"contacts": {"a": 1}}', fmt="json")
def test_any_file_is_read_or_refused_with_a_read_error(data, fmt):
    try:
        records = read_records(data, "list.csv", fmt)
    except ReadError as refused:
        message = str(refused)
        assert message.startswith("list.csv") and "\n" not in message, message
        return
    assert "email" in records.columns and set(records.columns) <= FIELDS
    assert records.rows, "a file with no rows is refused"
    count = lines_in(data)
    for line, row, _ in records.rows:
        assert set(row) <= FIELDS, row
        if fmt != "json" and not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"[", b"{")):
            assert 1 <= line <= count, (line, count)


@pytest.mark.parametrize("data", [b",,,\n", b'""\n', b"sep=;\n"], ids=["commas", "quotes", "sep"])
def test_a_file_of_blank_cells_is_a_read_error(data):
    with pytest.raises(ReadError):
        read_records(data, "list.csv")


def test_a_json_number_too_long_to_read_is_a_read_error():
    data = b'[{"Email": "a@who.example.org", "Phone": ' + b"1" * 5000 + b"}]"
    with pytest.raises(ReadError):
        read_records(data, "list.json")


# Headers as people write them, with the field each means when it is the only
# part of the name in the file; and every alias as it is stored, accents gone.
WRITTEN = {
    "Courriel": "email", "Adresse électronique": "email", "Correo electrónico": "email",
    "E-mail Address": "email", "Nom": "name", "Nombre": "name", "Nom complet": "name",
    "Prénom": "first_name", "Apellidos": "last_name", "Nom de famille": "last_name",
    "Entité": "organisation", "Organisation": "organisation", "Organismo": "organisation",
    "Organización": "organisation", "Fonction": "job_title", "Cargo": "job_title",
    "Función": "job_title", "Téléphone": "phone", "Teléfono": "phone", "Móvil": "phone",
    "Pays": "country", "País": "country", "Ville": "city", "Lieu d'affectation": "city",
    "Thèmes": "topics", "Site web": "website", "Sigle": "acronym",
}  # fmt: skip
SPELLINGS = sorted(WRITTEN.items()) + sorted(
    (alias, field) for field, aliases in ALIASES.items() for alias in aliases
)
MARKS = st.sampled_from([chr(c) for c in range(0x300, 0x370)])  # combining accents


@st.composite
def respelled(draw: st.DrawFn, header: str) -> str:
    """``header`` in another case, with accents added, dropped or decomposed, and spaces,
    hyphens or other punctuation between its letters."""
    out = draw(st.sampled_from(["", " ", "  "]))
    for char in header:
        char = draw(st.sampled_from([char, char.upper(), char.lower()]))
        form = draw(st.sampled_from(["as is", "decomposed", "bare", "marked"]))
        decomposed = unicodedata.normalize("NFD", char)
        if form == "decomposed":
            char = decomposed
        elif form == "bare":
            char = "".join(c for c in decomposed if not unicodedata.combining(c))
        elif form == "marked" and char.isalpha():
            char += draw(MARKS)
        out += char + draw(st.sampled_from(["", "", "", " ", "-", "_", ".", "/", "'", "  "]))
    return out + draw(st.sampled_from(["", " ", "\t"]))


@given(data=st.data(), spelling=st.sampled_from(SPELLINGS))
def test_a_header_means_the_same_however_it_is_spelled(data, spelling):
    header, field = spelling
    variant = data.draw(respelled(header))
    entry = {variant: "x"} if field == "email" else {variant: "x", "Email": "a@who.example.org"}
    records = read_records(json.dumps([entry]).encode(), "list.json")
    assert records.columns[field] == variant.strip(), (variant, records.columns)
    assert records.ignored == ()
