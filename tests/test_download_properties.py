"""newsletter.download.as_uri, by property: user-given URLs into what http.client can send.

The URLs are those of feeds, contact sources and redirect Locations.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from helpers import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsletter.download import as_uri

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
