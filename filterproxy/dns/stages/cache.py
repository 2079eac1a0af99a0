"""The cache stage: fresh hits answered from templates, upstream answers stored, stale served
when every upstream failed, everything dropped when the lists change (engine generation).

Identical misses in flight are coalesced: while one query for (name, type) waits on the
upstreams, later ones wait for its entry instead of asking again (many pupils opening the same
page at the start of a lesson cost one upstream query).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

from filterproxy.dns.answers import servfail
from filterproxy.dns.cache import Cache, Entry, Key
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Handler, Reply, Request, then

STALE_TTL = 30  # RFC 8767 section 4: TTL of a stale answer


class CacheStage:
    def __init__(self, cache: Cache, engine: EngineLike, metrics: DnsMetrics, payload: int, fast: bool = True):
        self.fast = fast
        self.cache = cache
        self.engine = engine
        self.metrics = metrics
        self.payload = payload
        self._generation = engine.generation
        self._inflight: dict[Key, asyncio.Future[Entry | None]] = {}

    def __call__(self, req: Request, next: Handler) -> Reply:
        if self.engine.generation != self._generation:
            self._generation = self.engine.generation
            self.cache.clear()  # cached answers passed the old lists' CNAME checks only
        now = time.monotonic()
        key = (req.name, req.qtype)
        entry = self.cache.fresh(key, now)
        if entry is not None:
            self.metrics.cache_hits.inc()
            req.cache_hit = True  # the rendering holds while the entry's age in seconds does
            req.lane_left = min(req.lane_left, entry.stored + min(entry.age(now) + 1, entry.lifetime) - now)
            return Answer(entry.render(req.q, now, self.payload, fast=self.fast), entry.aliases, entry, source="cache")
        self.metrics.cache_misses.inc()
        leader = self._inflight.get(key)
        if leader is not None:
            return self._follow(req, key, leader)
        reply = next(req)
        if not isinstance(reply, Answer):
            # registered now, not when the coroutine first runs: the UDP reader hands over a
            # whole burst of datagrams before any task gets to run
            future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
            self._inflight[key] = future
            reply = self._lead(key, reply, future)
        return then(reply, lambda answer: self._after(req, key, answer))

    async def _lead(self, key: Key, pending: Awaitable[Answer], future: asyncio.Future[Entry | None]) -> Answer:
        try:
            answer = await pending
        except BaseException:
            future.set_result(None)
            raise
        finally:
            self._inflight.pop(key, None)
        if not future.done():
            future.set_result(answer.entry if answer.source == "upstream" else None)
        return answer

    async def _follow(self, req: Request, key: Key, leader: asyncio.Future[Entry | None]) -> Answer:
        entry = await asyncio.shield(leader)
        if entry is None:
            return self._after(req, key, Answer(servfail(req, self.payload), failed=True, source="error"))
        wire = entry.render(req.q, time.monotonic(), self.payload, fast=self.fast)
        return Answer(wire, entry.aliases, entry, source="upstream")

    def _after(self, req: Request, key: Key, answer: Answer) -> Answer:
        if answer.entry is not None and answer.source == "upstream":
            self.cache.put(key, answer.entry)
            self.metrics.cache_entries.set(len(self.cache))
        elif answer.failed:
            stale = self.cache.stale(key, time.monotonic())
            if stale is not None:
                wire = stale.render(req.q, time.monotonic(), self.payload, STALE_TTL, self.fast)
                return Answer(wire, stale.aliases, None, source="stale")
        return answer
