"""The cache stage: fresh hits answered from templates, upstream answers stored, stale served
when every upstream failed, everything dropped when the lists change (engine generation).

Identical misses in flight are coalesced: while one query for (name, type) waits on the
upstreams, later ones wait for its entry instead of asking again (many pupils opening the same
page at the start of a lesson cost one upstream query).
"""

from __future__ import annotations

import time

from filterproxy.dns.answers import servfail
from filterproxy.dns.cache import Cache, Key
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Handler, Pending, Reply, Request, then

STALE_TTL = 30  # RFC 8767 section 4: TTL of a stale answer


class CacheStage:
    def __init__(self, cache: Cache, engine: EngineLike, metrics: DnsMetrics, payload: int, fast: bool = True):
        self.fast = fast
        self.cache = cache
        self.engine = engine
        self.metrics = metrics
        self.payload = payload
        self._generation = engine.generation
        metrics.cache_entries.set_function(lambda: len(cache))  # read at scrape, not set per miss
        self._inflight: dict[Key, Pending] = {}  # misses waiting on the upstreams, by (name, qtype)

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
            return leader.branch(lambda answer: self._follow(req, key, answer))
        reply = next(req)
        if isinstance(reply, Pending):
            # registered now: the UDP reader hands over a whole burst of datagrams at once;
            # the stages above get a branch, so their steps never reach the followers
            self._inflight[key] = reply
            reply.add(lambda _result: self._landed(key))
            return reply.branch(lambda answer: self._after(req, key, answer))
        return then(reply, lambda answer: self._after(req, key, answer))

    def _landed(self, key: Key) -> None:
        self._inflight.pop(key, None)

    def _follow(self, req: Request, key: Key, leader: Answer) -> Answer:
        """A coalesced query's answer, from its leader's entry (rendered for this client)."""
        entry = leader.entry if leader.source == "upstream" else None
        if entry is None:
            return self._after(req, key, Answer(servfail(req, self.payload), failed=True, source="error"))
        wire = entry.render(req.q, time.monotonic(), self.payload, fast=self.fast)
        return Answer(wire, entry.aliases, entry, source="upstream")

    def _after(self, req: Request, key: Key, answer: Answer) -> Answer:
        if answer.entry is not None and answer.source == "upstream":
            self.cache.put(key, answer.entry)
        elif answer.failed:
            stale = self.cache.stale(key, time.monotonic())
            if stale is not None:
                wire = stale.render(req.q, time.monotonic(), self.payload, STALE_TTL, self.fast)
                return Answer(wire, stale.aliases, None, source="stale")
        return answer
