"""newsletter.files.decode, by property: any bytes are UTF-8 text or NotUTF8 naming a line.

Item files, issue.toml and pyproject.toml are all read through decode; a file
saved in another encoding is refused with the first bad byte and its line.
"""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.files import NotUTF8, decode

BOM = b"\xef\xbb\xbf"
TEXT = st.text(st.characters(blacklist_categories=["Cs"]))  # no lone surrogates: not UTF-8


@given(data=st.one_of(st.binary(), TEXT.map(lambda t: t.encode("cp1252", "replace"))))
@example(data=b"ok\nCaf\xe9\n")
@example(data=b"\xff\xfe\x00a")
@example(data=BOM + b"\xc3")
def test_any_bytes_are_text_or_not_utf8_on_a_line_of_them(data):
    try:
        text = decode(data)
    except NotUTF8 as refused:
        assert isinstance(refused, ValueError)
        assert 1 <= refused.line <= data.count(b"\n") + 1, (refused.line, data)
        assert re.fullmatch(
            r"not UTF-8 \(byte 0x[0-9a-f]{2}[^)\n]*\)\. Save the file as UTF-8\.", refused.reason
        )
        byte = int(refused.reason[len("not UTF-8 (byte 0x") :][:2], 16)
        assert byte in data
        return
    assert isinstance(text, str) and not text.startswith("\ufeff") or data.startswith(BOM * 2)


@given(text=TEXT)
@example(text="\ufeffstarts with a BOM")
def test_utf8_text_reads_back_as_written_with_or_without_a_bom(text):
    assert decode(BOM + text.encode("utf-8")) == text
    if not text.startswith("\ufeff"):
        assert decode(text.encode("utf-8")) == text
