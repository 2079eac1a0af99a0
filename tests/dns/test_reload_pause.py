"""A list reload empties the answer cache and the hot lane without stalling the loop.

Freeing 100,000 cached answers in one ``clear()`` held the event loop (and so every DNS answer)
for tens of milliseconds at each reload; now readers see an empty cache at once and the old
entries are freed a chunk per loop iteration."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from filterproxy.dns.cache import Cache, dismantle


def test_cache_clear_is_immediate_for_readers_and_frees_in_chunks() -> None:
    cache = Cache(200_000, 0)
    for i in range(100_000):
        cache._entries[(f"n{i}.example", 1)] = object()  # type: ignore[assignment]
    old = cache._entries

    async def scenario() -> list[int]:
        cache.clear()
        left = [len(old)]
        assert len(cache) == 0 and cache.fresh(("n1.example", 1), 0.0) is None
        while old:
            await asyncio.sleep(0)
            left.append(len(old))
        return left

    left = asyncio.run(scenario())
    assert left[0] == 98_000  # one chunk freed in the call itself, the rest later
    assert len(left) > 40 and left[-1] == 0


def test_no_freeing_step_holds_the_loop_for_long() -> None:
    mapping: dict[int, Any] = {i: [str(i)] * 4 for i in range(200_000)}
    steps: list[float] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        real = loop.call_soon

        def timed(callback: Any, *args: Any, **kwargs: Any) -> Any:
            def run() -> None:
                started = time.perf_counter()
                callback(*args)
                steps.append(time.perf_counter() - started)

            return real(run, **kwargs)

        loop.call_soon = timed  # type: ignore[method-assign,assignment]
        try:
            dismantle(mapping)
            while mapping:
                await asyncio.sleep(0)
        finally:
            loop.call_soon = real  # type: ignore[method-assign]

    asyncio.run(scenario())
    assert len(steps) >= 90
    assert sorted(steps)[len(steps) // 2] < 0.005  # a chunk costs well under a millisecond unloaded


def test_without_a_loop_it_clears_at_once() -> None:
    mapping = {i: i for i in range(10)}
    dismantle(mapping)
    assert mapping == {}
