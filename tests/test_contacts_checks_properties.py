"""newsletter.contacts.checks: the phone reader never raises, whatever it is given."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newsletter.contacts.checks import international

phone_like = st.text(alphabet="+0123456789 ()-.xext/", max_size=40)


@given(st.one_of(st.text(max_size=200), phone_like), st.text(max_size=40))
def test_any_text_gives_a_number_or_none(phone, country):
    found = international(phone, country)
    assert found is None or found.startswith("+")


@given(phone_like)
def test_a_number_it_writes_reads_back_the_same(phone):
    found = international(phone, "Switzerland")
    if found is not None:
        assert international(found) == found
