"""Each picture an issue shows, looked at before the issue goes out.

An item's ``image`` is the only picture in an issue (the sanitiser drops any
``<img>`` in a summary). A picture that cannot be fetched shows as its alt
text in every inbox, so each is requested as a mail client would, through
``download.fetch``: its deadline, redirect policy and address check, asking for
the first bytes only (a Range request). A picture on a loopback or private
address is refused like any other failure: recipients outside the office's
network could not see it either. The requests run side by side, so thirty
pictures on a slow host take a few timeouts, not thirty.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from newsletter import download
from newsletter.build.report import Finding
from newsletter.models import Item
from newsletter.sanitize import one_line

TIMEOUT = 5.0  # seconds for one picture, redirects included
WORKERS = 8  # pictures requested at once
PEEK = 1024  # bytes asked for: the headers say what it is, the body is never needed
ACCEPT = "image/png, image/jpeg, image/gif, image/*;q=0.8"


def problem(url: str, agent: str, timeout: float = TIMEOUT, private_host: str | None = None) -> str:
    """Why the picture at ``url`` would not show ("" when it would): one printable phrase."""
    got = download.fetch(
        url,
        agent=agent,
        timeout=timeout,
        max_bytes=PEEK,
        accept=ACCEPT,
        private_host=private_host,
        peek=True,
    )
    if got.error is not None:
        return f"cannot be fetched ({got.error})"
    kind = (got.header("content-type") or "").partition(";")[0].strip().lower()
    if not kind.startswith("image/"):
        return f"is not a picture (the server says {one_line(kind or 'no type')[:60]})"
    return ""


def check_pictures(
    items: Iterable[Item],
    agent: str,
    timeout: float = TIMEOUT,
    private_host: str | None = None,
) -> list[Finding]:
    """A warning for each item whose picture would not show, naming its file and the URL.

    ``private_host`` is for tests only: the one host that may be on a loopback
    address (``download.fetch``). Each URL is requested once, however many
    items show it.
    """
    shown = [(item.path, item.image) for item in items if item.image]
    urls = list(dict.fromkeys(url for _, url in shown))
    if not urls:
        return []
    with ThreadPoolExecutor(min(WORKERS, len(urls)), thread_name_prefix="picture") as pool:
        found = dict(
            zip(
                urls,
                pool.map(lambda u: problem(u, agent, timeout, private_host), urls),
                strict=True,
            )
        )
    return [
        Finding(
            "picture",
            f"{path}: the picture {url} {found[url]}; inboxes would show its alt text. "
            "Correct 'image:' or remove it.",
            "warning",
        )
        for path, url in shown
        if found[url]
    ]
