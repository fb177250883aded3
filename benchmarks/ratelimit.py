"""serve's rate limit per token (``returns.ratelimit``), against baselines in the same run.

Times one hit of the limiter next to the token check every request already
pays (``tokens.read_link_token``, an HMAC), and, when the ``limits`` package is
installed (``pip install limits``; it is not a dependency), next to its
in-memory strategies, which Flask-Limiter uses too. Then a flood of distinct
genuine tokens: the memory each keeps afterwards (tracemalloc), since only
ours bounds the number of keys.

    python benchmarks/ratelimit.py [--hits 100000] [--flood 100000]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable

from newsletter import tokens
from newsletter.returns.ratelimit import POSTS, Limiter

SECRET = b"a-benchmark-secret-long-enough"


def per_call(fn: Callable[[int], object], n: int) -> float:
    """Microseconds a call, the best of three runs of ``n``."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def retained(make: Callable[[], Callable[[int], object]], n: int) -> tuple[float, object]:
    """MB still held after ``n`` calls on distinct keys, and what holds it."""
    gc.collect()
    tracemalloc.start()
    try:
        hit = make()
        for i in range(n):
            hit(i)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] / 1e6, hit
    finally:
        tracemalloc.stop()


def candidates(keys: list[str]) -> dict[str, Callable[[], Callable[[int], object]]]:
    """name -> a maker of ``hit(i)`` on the i-th key (modulo the list)."""
    spec = ";".join(f"{count}/{int(period)} second" for count, period in POSTS)
    found: dict[str, Callable[[], Callable[[int], object]]] = {}

    def ours() -> Callable[[int], object]:
        limiter = Limiter(POSTS)
        return lambda i: limiter.hit(keys[i % len(keys)])

    found["returns.ratelimit (GCRA, bounded)"] = ours
    try:
        from limits import parse_many, storage, strategies
    except ImportError:
        print("(limits is not installed: pip install limits, to compare with it)")
        return found
    items = parse_many(spec)

    def of(strategy: type) -> Callable[[], Callable[[int], object]]:
        def make() -> Callable[[int], object]:
            limiter = strategy(storage.MemoryStorage())

            def hit(i: int) -> bool:
                key = keys[i % len(keys)]
                return all([limiter.hit(item, key) for item in items])

            return hit

        return make

    found["limits MovingWindow (memory)"] = of(strategies.MovingWindowRateLimiter)
    found["limits SlidingWindowCounter"] = of(strategies.SlidingWindowCounterRateLimiter)
    found["limits FixedWindow (memory)"] = of(strategies.FixedWindowRateLimiter)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=100_000)
    parser.add_argument("--flood", type=int, default=100_000)
    args = parser.parse_args()
    now = time.time()
    link = tokens.make_link_token(SECRET, tokens.ENTRY, 42, now)
    keys = [tokens.make_link_token(SECRET, tokens.ENTRY, n, now) for n in range(args.flood)]
    baseline = per_call(
        lambda i: tokens.read_link_token(SECRET, tokens.ENTRY, link, now), args.hits
    )
    print(f"baseline: the token check every request pays   {baseline:8.2f} µs a call")
    makers = candidates(keys)
    print("\none token, hit over and over (mostly refused), µs a hit:")
    for name, make in makers.items():
        hit = make()
        figure = per_call(lambda i, hit=hit: hit(0), args.hits)
        print(f"  {name:36} {figure:8.2f} µs   ({figure / baseline:5.2f}x the token check)")
    print(f"\n{args.flood:,} distinct genuine tokens, one hit each:")
    for name, make in makers.items():
        hit = make()
        figure = per_call(hit, args.flood)
        megabytes, _ = retained(make, args.flood)
        print(
            f"  {name:36} {figure:8.2f} µs a hit ({figure / baseline:5.2f}x), "
            f"{megabytes:7.1f} MB kept afterwards"
        )


if __name__ == "__main__":
    main()
