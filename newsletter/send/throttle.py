"""Throughput limits: a token bucket for the rate, sliding windows for provider caps.

Both answer "how long until the next message may go"; the run waits that
long (while still collecting results) instead of sleeping blindly.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable


class TokenBucket:
    """``rate`` messages a second, evenly spaced: the bucket holds one token, so no bursts."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.next_at = 0.0

    def wait(self) -> float:
        return max(0.0, self.next_at - self.clock()) if self.interval else 0.0

    def take(self) -> None:
        if self.interval:
            # Time not used is not saved up: a slow spell never turns into a burst.
            self.next_at = max(self.next_at, self.clock()) + self.interval


HOUR, DAY = 3600.0, 86_400.0


def strictest(*limits: float) -> float:
    """The lowest of the limits that are set (0 means none), or 0 when none is."""
    return min((limit for limit in limits if limit > 0), default=0)


class Window:
    """At most ``limit`` messages in any ``span`` seconds, counting earlier runs too."""

    def __init__(
        self,
        limit: int,
        earlier: Iterable[float] = (),
        clock: Callable[[], float] = time.time,
        span: float = HOUR,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.span = span
        self.times: deque[float] = deque(sorted(earlier)[-limit:] if limit else ())

    def wait(self) -> float:
        if not self.limit:
            return 0.0
        now = self.clock()
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        return self.times[0] + self.span - now if len(self.times) >= self.limit else 0.0

    def take(self) -> None:
        if self.limit:
            self.times.append(self.clock())


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry ``attempt`` (1, 2, ...): doubling, capped, with jitter.

    Half the delay is fixed and half random ("equal jitter"), so retries from
    many connections spread out without ever coming back almost at once.
    """
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)
