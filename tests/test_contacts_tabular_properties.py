"""newsletter.contacts.tabular, by property: read_records reads any bytes or raises ReadError.

Agency lists arrive as whatever a spreadsheet or a web server produced; a file is
read into rows, each with a line of the file, or refused with one ReadError that
names the file, never another exception.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.contacts.fields import TEXT_FIELDS
from newsletter.contacts.tabular import ReadError, read_records

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
