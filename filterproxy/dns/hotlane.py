"""The hot lane: repeated UDP queries answered from the exact bytes of an earlier answer.

Most queries a school resolver sees repeat: the same blocked tracker, the same cached CDN name,
asked by the same kind of client many times a minute. After the chain has answered a query
with a block or a cache hit, the lane remembers the answer under the query's own bytes (all but
the ID: flags, question exactly as sent, OPT record; a client cookie ending the query is left
out, since browsers' stub resolvers send a new one each time and it is no part of our answer)
in the lane of the client's group. The next
identical datagram from a client of that group gets that answer with its own ID, without a
Request, a parse or the chain.

An answer is only remembered as long as the chain would give the same bytes: until the verdict
may change (the end of the wall-clock minute: the classifier evaluates schedules per minute)
and, for cache hits, until the entry's age in seconds changes (its TTLs) or it expires; and
only for the list generation it was made under (a reload empties the lane). Everything else
(mixed-case variants not yet seen, log-only verdicts, SafeSearch, local answers, TCP, steering)
keeps taking the chain.

The UDP socket asks the lane about a whole burst of datagrams (one ``recvmmsg``) at once:
validity is judged as of the moment the burst was received, and :meth:`HotLane.answered` then
counts the burst's answers in shared :class:`Kind` objects read at scrape time, each with the
burst's processing time as its latency. Blocked hits are queued as tuples that
:meth:`HotLane.flush` turns into ``BlockEvent`` records every ``FLUSH_SECONDS`` (and once more
when the server stops).
"""

from __future__ import annotations

import asyncio
import math
import time
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from filterproxy.dns.cache import dismantle
from filterproxy.dns.metrics import LATENCY_BUCKETS, DnsMetrics, LabelValues, qtype_label
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Request
from filterproxy.dns.stages.incidents import qtype_name
from filterproxy.dns.wire import RCODE_NAMES
from filterproxy.incidents.event import BlockEvent, IncidentSink, new_reference
from filterproxy.model import IPAddress, Verdict

FLUSH_SECONDS = 0.05
CLIENTS_LIMIT = 65536

SHARED_LIMIT = 4096
#: an EDNS client cookie (RFC 7873: option 10, 8 bytes), last in the query: a new one per query
#: from many stub resolvers, and no part of our answer (we do not answer with server cookies)
COOKIE = b"\x00\x0a\x00\x08"
FOREVER = math.inf  # one float object for every entry valid for the whole list generation

#: (valid until (perf_counter), answer header after the ID, end of the question, answer after the
#: question, metrics kind, verdict of a block, qtype name). The question itself is taken from the
#: query (the key holds it byte for byte); block answers of one kind share their header and rest.
Prepared = tuple[float, bytes, int, bytes, "Kind", Verdict | None, str]
Lane = OrderedDict[bytes, Prepared]  # insertion order: popitem(last=False) evicts the oldest in O(1)


def lane_key(data: bytes) -> bytes:
    """A datagram's key in the lane: all but the ID, and without the 8-byte client cookie of an
    OPT record that carries only that, last in the packet (the key starts with the cookie
    option's header instead, so keys with and without one never meet)."""
    if data[-12:-8] == COOKIE and data[-14:-12] == b"\x00\x0c" and data[-23:-20] == b"\x00\x00\x29":
        return COOKIE + data[2:-12]
    return data[2:]


class Kind:
    """What one kind of hot-lane answer counts in the metrics; shared by all its entries."""

    __slots__ = ("block", "cache_hit", "latency", "outcome", "query", "response")

    def __init__(self, query: LabelValues, response: LabelValues, block: LabelValues | None, cache_hit: bool):
        self.query, self.response, self.block, self.cache_hit = query, response, block, cache_hit
        self.outcome: LabelValues = (response[1],)
        self.latency = [0.0] * (len(LATENCY_BUCKETS) + 2)  # per bucket (+Inf last), then the sum

    @property
    def count(self) -> int:
        """Answers of this kind so far: every answer is in exactly one latency bucket."""
        return int(sum(self.latency[:-1]))


class HotLane:
    def __init__(
        self,
        engine: EngineLike,
        metrics: DnsMetrics,
        sink: IncidentSink,
        client_text: Callable[[str], str],
        size: int,
        cache_hits: bool = True,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.size = size
        self.cache_hits = cache_hits  # False when every answer must reach a stage (gateway steering)
        self._client_text = client_text
        self._generation = engine.generation
        self._groups: dict[str, Lane] = {}
        self._clients: OrderedDict[str, Lane] = OrderedDict()
        self._kinds: dict[tuple[object, ...], Kind] = {}
        self._shared: dict[bytes, bytes] = {}
        self._pending: list[tuple[float, str, Prepared]] = []
        self._burst: list[Kind] = []  # the kind of each answer given in the current burst
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        metrics.add_source(self._counts)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def answer(self, data: bytes, host: str, now: float) -> bytes | None:
        """The answer for this datagram if it is in the client's lane and still valid at ``now``
        (``perf_counter`` when its burst was received), else None. :meth:`answered` settles the
        burst's metrics."""
        lane = self._clients.get(host)
        if lane is None:
            return None
        prepared = lane.get(data[2:] if data[-12:-8] != COOKIE else lane_key(data))
        if prepared is None or now >= prepared[0] or self.engine.generation != self._generation:
            return None
        self._burst.append(prepared[4])
        if prepared[5] is not None:  # a block: its incident is made at the next flush
            self._pending.append((now, host, prepared))
            if self._timer is None and self._loop is not None:
                self._timer = self._loop.call_later(FLUSH_SECONDS, self.flush)
        return data[:2] + prepared[1] + data[12 : prepared[2]] + prepared[3]

    def answered(self, now: float) -> None:
        """Count the answers given since the burst received at ``now`` began; each one's latency
        is the burst's (its reply waits for the burst to be sent together)."""
        burst = self._burst
        if not burst:
            return
        seconds = time.perf_counter() - now
        bucket = bisect_left(LATENCY_BUCKETS, seconds)
        for kind, hits in Counter(burst).items():
            kind.latency[bucket] += hits
            kind.latency[-1] += seconds * hits
        burst.clear()

    def learn(self, data: bytes, host: str, req: Request, answer: Answer, sent: bytes) -> None:
        """Remember what the chain just sent for ``data``, if the lane may serve it again."""
        verdict = req.verdict
        if req.lane_left <= 0 or req.transport != "udp" or (verdict is not None and not verdict.blocked):
            return
        if req.q.probe is not None:
            return  # a self-test probe: its token makes every one unique, and its block is no incident
        if answer.source != "block" and not (answer.source == "cache" and self.cache_hits):
            return
        if self.engine.generation != self._generation:
            self.reset()
            return  # the answer may have been made before the change (a content finding comes from another thread)
        lane = self._lane_for(host, req.client)
        end = 12 + len(req.q.question)
        if sent[12:end] != data[12:end]:
            return  # not the client's question as sent (cannot happen: the chain echoes it)
        head, rest = sent[2:12], sent[end:]
        if answer.source == "block":  # the same few templates for every blocked name
            if len(self._shared) >= SHARED_LIMIT:
                self._shared.clear()
            head, rest = self._shared.setdefault(head, head), self._shared.setdefault(rest, rest)
        until = FOREVER if math.isinf(req.lane_left) else req.started + req.lane_left
        kind = self._kind(req, answer, verdict)
        key = lane_key(data) if req.q.options[:4] == COOKIE and len(req.q.options) == 12 else data[2:]
        self.store(lane, key, (until, head, end, rest, kind, verdict, qtype_name(req.qtype)))

    def store(self, lane: Lane, key: bytes, prepared: Prepared) -> None:
        """Put an answer in a lane, evicting the oldest when it is full, in O(1).

        Not ``del lane[next(iter(lane))]`` on a plain dict: that iteration walks over the dummies
        earlier deletions left at the front, tens of microseconds per insert at 131,072 entries.
        """
        if len(lane) >= self.size and key not in lane:
            lane.popitem(last=False)
        lane[key] = prepared

    def hits(self) -> int:
        """Queries answered by the lane so far."""
        return sum(kind.count for kind in list(self._kinds.values()))

    def reset(self) -> None:
        """Forget every answer (the lists changed)."""
        self._generation = self.engine.generation
        old = (self._groups, self._clients)
        self._groups, self._clients, self._shared = {}, OrderedDict(), {}
        for lanes in old:  # a lane per client: freed a few at a time, not in one stall of the loop
            dismantle(lanes, chunk=50)

    def forget(self, host: str) -> None:
        """Forget the lane of one client address (the person behind it changed)."""
        self._clients.pop(host, None)
        self._clients.pop(f"::ffff:{host}", None)  # dual-stack sockets name IPv4 clients so

    def flush(self) -> None:
        """Hand the blocked hits queued since the last flush to the incident sink.

        The queue is in arrival order, so hits in the same millisecond share one ``datetime``
        (an incident's time is kept to the millisecond); each event still gets its own reference.
        """
        self._timer = None
        pending, self._pending = self._pending, []
        if not pending:
            return
        offset = time.time() - time.perf_counter()  # perf_counter -> wall clock
        submit, client_text = self.sink.submit, self._client_text
        last_ms, at = -1, datetime.fromtimestamp(0, UTC)
        for started, host, (_until, _head, _end, _rest, _kind, verdict, qtype) in pending:
            ms = int((offset + started) * 1000)
            if ms != last_ms:
                last_ms, at = ms, datetime.fromtimestamp(ms / 1000, UTC)
            if verdict is not None:  # always: only blocks are queued
                # positional (no url, no method): keywords cost twice as much, once per blocked query
                submit(BlockEvent(at, "dns", client_text(host), verdict, new_reference(), None, None, qtype))

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.flush()

    def _lane_for(self, host: str, client: IPAddress) -> Lane:
        lane = self._clients.get(host)
        if lane is None:
            lane = self._groups.setdefault(self.engine.group_of(client), OrderedDict())
            if len(self._clients) >= CLIENTS_LIMIT:
                self._clients.popitem(last=False)
            self._clients[host] = lane
        return lane

    def _kind(self, req: Request, answer: Answer, verdict: Verdict | None) -> Kind:
        block = None
        if answer.source == "block" and verdict is not None:
            block = (verdict.category.value if verdict.category else "none", verdict.group)
        key = (req.qtype, answer.rcode, answer.source, block, req.cache_hit)
        kind = self._kinds.get(key)
        if kind is None:
            query = (qtype_label(req.qtype), "udp")
            response = (RCODE_NAMES.get(answer.rcode, "other"), answer.source)
            kind = self._kinds[key] = Kind(query, response, block, req.cache_hit)
        return kind

    def _counts(self) -> Iterator[Kind]:
        return iter(list(self._kinds.values()))
