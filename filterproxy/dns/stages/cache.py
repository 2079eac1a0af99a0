"""The cache stage: fresh hits answered from templates, upstream answers stored, stale served
when every upstream failed, everything dropped when the lists change (engine generation)."""

from __future__ import annotations

import time

from filterproxy.dns.cache import Cache, Key
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Handler, Reply, Request, then

STALE_TTL = 30  # RFC 8767 section 4: TTL of a stale answer


class CacheStage:
    def __init__(self, cache: Cache, engine: EngineLike, metrics: DnsMetrics, payload: int) -> None:
        self.cache = cache
        self.engine = engine
        self.metrics = metrics
        self.payload = payload
        self._generation = engine.generation

    def __call__(self, req: Request, next: Handler) -> Reply:
        if self.engine.generation != self._generation:
            self._generation = self.engine.generation
            self.cache.clear()  # cached answers passed the old lists' CNAME checks only
        now = time.monotonic()
        key = (req.name, req.qtype)
        entry = self.cache.fresh(key, now)
        if entry is not None:
            self.metrics.cache_hits.inc()
            return Answer(entry.render(req.q, now, self.payload), entry.aliases, entry, source="cache")
        self.metrics.cache_misses.inc()
        return then(next(req), lambda answer: self._after(req, key, answer))

    def _after(self, req: Request, key: Key, answer: Answer) -> Answer:
        if answer.entry is not None and answer.source == "upstream":
            self.cache.put(key, answer.entry)
            self.metrics.cache_entries.set(len(self.cache))
        elif answer.failed:
            stale = self.cache.stale(key, time.monotonic())
            if stale is not None:
                wire = stale.render(req.q, time.monotonic(), self.payload, fixed_ttl=STALE_TTL)
                return Answer(wire, stale.aliases, None, source="stale")
        return answer
