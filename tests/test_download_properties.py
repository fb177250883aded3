"""newsletter.download, by property: ``as_uri`` (user-given URLs into what http.client
can send) and ``blocked`` (which addresses a feed or source may not reach unasked).

The URLs are those of feeds, contact sources and redirect Locations.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
from helpers import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsletter.download import as_uri, blocked, fetch

# Parts of a URL as people paste them: IDN hosts, spaces, ports, odd brackets.
IDN_HOSTS = st.from_regex(r"[a-zà-ÿ\u4e00-\u4e10\-]{1,20}(\.[a-zà-ÿ]{2,6}){1,2}", fullmatch=True)
HOSTS = st.one_of(
    st.text(min_size=1, max_size=30),
    IDN_HOSTS,
    st.sampled_from(["[::1]", "[::1", "127.0.0.1", "xn--bcher-kva.example"]),
)
URLS = st.builds(
    lambda scheme, user, host, port, path, query: (
        f"{scheme}://{user}{host}{port}/{path}" + (f"?{query}" if query else "")
    ),
    st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    st.sampled_from(["", "user@", "us\u00e9r:p\u00e4ss@"]),
    HOSTS,
    st.sampled_from(["", ":8080", ":0", ":99999", ":x", ":"]),
    st.text(max_size=30),
    st.text(max_size=30),
)


# More examples than the profile in conftest.py: URLs are cheap to check.
SETTINGS = settings(max_examples=examples(300))


def check(url: str) -> None:
    """as_uri gives an ASCII URI without whitespace, or raises ValueError (its documented error)."""
    try:
        uri = as_uri(url)
    except ValueError:  # UnicodeError is one
        return
    assert isinstance(uri, str) and uri.isascii(), uri
    assert not any(c.isspace() for c in uri), uri


@SETTINGS
@given(URLS)
@example("https://B\u00fccher.example/stra\u00dfe/")
@example("http://a\u3002b.example/ x")  # an ideographic full stop between labels
@example("http://\u00e9" + "a" * 70 + ".example/")  # a label too long for IDNA
@example("http://exa mple.org/a b")
def test_as_uri_of_url_shaped_text(url):
    check(url)


@SETTINGS
@given(st.text())
def test_as_uri_of_any_text(url):
    check(url)


@SETTINGS
@given(IDN_HOSTS, st.text(max_size=30))
@example("b\u00fccher.example", "stra\u00dfe")
def test_as_uri_sends_an_idn_host_by_its_ascii_name(host, path):
    """Not merely ASCII: the host is the IDNA name DNS knows, never a %-encoded one."""
    try:
        expected = host.encode("idna").decode("ascii").lower()
    except UnicodeError:  # a label IDNA refuses: as_uri must refuse it too
        with pytest.raises(ValueError):
            as_uri(f"https://{host}/{path}")
        return
    assert urlsplit(as_uri(f"https://{host}/{path}")).hostname == expected


# -- blocked: the address classifier ---------------------------------------------------

# What must never be reached unasked, written out from RFC 1122, 1918, 3927, 5771,
# 6598, 4291, 4193 and 6890 rather than from the ipaddress module the code uses.
MUST_BLOCK = {
    "loopback": ["127.0.0.0/8", "::1/128"],
    "private": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
    "link-local": ["169.254.0.0/16", "fe80::/10"],
    "multicast": ["224.0.0.0/4", "ff00::/8"],
    "unspecified": ["0.0.0.0/32", "::/128"],
}
OTHER_NON_PUBLIC = ["0.0.0.0/8", "100.64.0.0/10", "240.0.0.0/4", "192.0.2.0/24", "198.18.0.0/15"]
KINDS = {*MUST_BLOCK, "reserved", "non-public"}


def inside(net: str) -> st.SearchStrategy[str]:
    network = ipaddress.ip_network(net)
    return st.integers(0, network.num_addresses - 1).map(lambda n: str(network.network_address + n))


LABELLED = st.sampled_from([(k, n) for k, nets in MUST_BLOCK.items() for n in nets]).flatmap(
    lambda kn: st.tuples(st.just(kn[0]), inside(kn[1]))
)
ANY_V4 = st.ip_addresses(v=4).map(str)
ANY_IP = st.ip_addresses().map(str)


@given(LABELLED)
@example(("loopback", "127.255.255.255"))
@example(("private", "172.31.255.255"))
def test_every_loopback_private_link_local_multicast_address_is_blocked_as_such(case):
    kind, address = case
    assert blocked(address) == kind


@given(st.sampled_from(OTHER_NON_PUBLIC).flatmap(inside))
def test_shared_reserved_and_documentation_addresses_are_blocked(address):
    assert blocked(address) is not None


@given(ANY_IP)
@example("::ffff:8.8.8.8")  # ipaddress calls every mapped address private; it reaches 8.8.8.8
@example("2606:4700::1111")
def test_blocked_is_a_known_kind_or_none_for_any_address(address):
    kind = blocked(address)
    assert kind is None or kind in KINDS
    if kind is None:  # what passes is globally routable unicast
        ip = ipaddress.ip_address(address)
        ip = getattr(ip, "ipv4_mapped", None) or ip
        assert ip.is_global and not ip.is_multicast, address


@given(ANY_V4)
@example("127.0.0.1")
@example("10.0.0.1")
def test_an_ipv4_address_in_ipv6_clothing_gets_the_same_verdict(address):
    """::ffff:a.b.c.d (mapped) and 64:ff9b::a.b.c.d (NAT64) reach a.b.c.d itself."""
    assert blocked(f"::ffff:{address}") == blocked(address)
    assert blocked(f"64:ff9b::{address}") == blocked(address)


@given(ANY_IP.filter(lambda a: ":" in a), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True))
def test_an_ipv6_zone_changes_nothing(address, zone):
    assert blocked(f"{address}%{zone}") == blocked(address)


@settings(max_examples=40)
@given(LABELLED.filter(lambda kn: kn[0] != "multicast" or "." in kn[1]))
def test_fetch_refuses_a_blocked_address_before_any_connection(case):
    """No request leaves for such an address: the refusal comes before connecting (so fast)."""
    kind, address = case
    host = f"[{address}]" if ":" in address else address
    got = fetch(f"http://{host}:9/feed", agent="test", timeout=5)
    assert (got.error, got.private) == (f"refused: {address} is a {kind} address", True)


def spellings(address: str) -> list[str]:
    """Ways a URL can name one IPv4 address that the system's resolver reads as it."""
    n = int(ipaddress.IPv4Address(address))
    a, b, c, d = (int(part) for part in address.split("."))
    return [
        address,
        str(n),  # one decimal number
        hex(n),  # one hex number
        f"{a}.{(b << 16) | (c << 8) | d}",  # a.b24
        f"{a}.{b}.{(c << 8) | d}",  # a.b.c16
        f"[::ffff:{address}]",
    ]


@settings(max_examples=25)
@given(
    st.sampled_from(["127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"]).flatmap(inside)
)
def test_fetch_refuses_every_spelling_of_a_blocked_ipv4_address(address):
    for host in spellings(address):
        got = fetch(f"http://{host}:9/feed", agent="test", timeout=5)
        assert got.private and got.error.startswith("refused: "), (host, got.error)
