"""newsletter.send.preflight, by property: DMARC alignment reads any domain an address may have.

from_address and return_path are whatever an office typed, checked by
headers.check_address; whatever passes, the alignment check compares it
without an exception, and its answers agree with each other.
"""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from newsletter.send.headers import HeaderInjection, check_address
from newsletter.send.preflight import aligned, organisational_domain

# Labels that meet the Public Suffix List's rules: plain, wildcard (*.kawasaki.jp),
# exception (!city.kawasaki.jp), private (github.io), internationalised (公司.cn).
SUFFIXES = ["org", "co.uk", "kawasaki.jp", "city.kawasaki.jp", "github.io", "xn--55qx5d.cn"]
SUFFIXES += ["中国", "公司.cn", "uk", "localhost", "bd"]
LABELS = st.one_of(
    st.sampled_from(["example", "mail", "Example", "xn--exmple-cua", "exämple", "a-b", "x_y", "1"]),
    st.text(alphabet="abcXYZ019-_äß中", min_size=1, max_size=12),
)
DOMAINS = st.one_of(
    st.builds(
        lambda labels, suffix, dot: ".".join([*labels, suffix]) + dot,
        st.lists(LABELS, max_size=3),
        st.sampled_from(SUFFIXES),
        st.sampled_from(["", "."]),
    ),
    st.text(max_size=30),
)


def domain_of(domain: str) -> str:
    """The domain as preflight gets it: from an address check_address passed."""
    try:
        address = check_address(f"news@{domain}", "test")
    except HeaderInjection:
        assume(False)
    return address.rpartition("@")[2]


@given(DOMAINS, DOMAINS)
def test_alignment_is_an_equivalence_for_any_address_domain(a, b):
    a, b = domain_of(a), domain_of(b)
    org = organisational_domain(a)
    assert org.isascii() and org == org.lower() and not org.endswith(".")
    assert a.rstrip(".").lower().endswith(org)
    for mode in ("relaxed", "strict", "off"):
        assert aligned(a, a, mode)
        assert aligned(a, b, mode) == aligned(b, a, mode)
    assert aligned(a, b, "off")
    if aligned(a, b, "strict"):
        assert aligned(a, b, "relaxed")
