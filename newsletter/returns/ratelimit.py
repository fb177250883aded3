"""How often one personal link may act on ``serve``: a rate limit per genuine token.

Every public POST (the entry page's forms, a reviewer's comment and approval,
leaving the directory from the unsubscribe page) and the click counter's
count go through a ``Limiter`` keyed by the token, and only once the token's
signature has been checked: a forged token is refused before it can take a
place here, so a flood of made-up tokens costs no memory.

Each limit is a GCRA (a token bucket kept as one time per limit): ``count``
at once, then one every ``period / count`` seconds. Over a long loop a token
gets ``count`` a ``period`` and no more. A POST over the limit is answered 429
with Retry-After and the page, and records nothing; a click over it still
redirects, and is not counted.

The one-click unsubscribe (``POST /unsubscribe/<token>``, RFC 8058) is never
limited: it must never be lost, and it is idempotent: a repeat changes nothing
(no history row, one journal line per contact at most) and only reads, taking
no write lock, as a GET does, which no limit holds back either.

The numbers are constants, not settings: they sit far above what a person
does with a page and far below what would trouble the database, so no office
has a reason to tune them, and a setting would be one more table every
command reads (``config``) for the web app alone.

Memory is bounded: at most ``max_keys`` tokens are kept (16 bytes of their
hash each, never the token), the one used least recently dropped first; a
dropped token starts afresh, which only someone holding that many genuine
links could bring about.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

# Forms on a personal page: a steward correcting a whole roster posts once a
# seat, a minute or more apart; ten in a minute is already a loop.
POSTS = ((10, 60.0), (60, 3600.0))
# A click token is one link of one issue, shared by every reader it was mailed
# to: the limit caps how fast a loop can add to that link's count, well above
# the clicks a mailing brings in its first hour.
CLICKS = ((60, 60.0), (600, 3600.0))
MAX_KEYS = 10_000  # tokens remembered at most: about 3 MB, whatever arrives


def _key(token: str) -> bytes:
    return hashlib.blake2b(token.encode("utf-8"), digest_size=16).digest()


class Limiter:
    """At most ``count`` hits a ``period`` (seconds) per token, for each of ``limits``."""

    def __init__(
        self,
        limits: tuple[tuple[int, float], ...],
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not limits or any(count < 1 or period <= 0 for count, period in limits):
            raise ValueError("each limit is a count of at least 1 in a period over 0 seconds")
        self.limits = limits
        self.max_keys = max_keys
        self.clock = clock  # seconds, only ever compared: monotonic
        self._due: OrderedDict[bytes, list[float]] = OrderedDict()  # key -> time per limit
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._due)

    def hit(self, token: str) -> int:
        """0 when ``token`` may act now (and the act is counted); else the seconds to
        wait before it may (at least 1), with nothing counted."""
        key, now = _key(token), self.clock()
        with self._lock:
            due = self._due.pop(key, None) or [now] * len(self.limits)
            after = [
                max(d, now) + period / count
                for d, (count, period) in zip(due, self.limits, strict=True)
            ]
            wait = max(a - period - now for a, (_, period) in zip(after, self.limits, strict=True))
            wait = wait if wait > 1e-9 else 0.0  # a period / count that does not divide evenly
            self._due[key] = due if wait else after  # the most recent last
            while len(self._due) > self.max_keys:
                self._due.popitem(last=False)  # the least recently used
        return max(1, math.ceil(wait)) if wait else 0
