"""The hot lane: same bytes as the chain, gone on reload, incidents and metrics as if the chain answered."""

from __future__ import annotations

import time
from typing import Any

import dns.message
import dns.query
import pytest

from filterproxy.dns.hotlane import HotLane
from filterproxy.dns.intake import truncate
from filterproxy.dns.request import Answer
from filterproxy.lists.testing import make_engine
from tests.dns.conftest import Resolver, policy

HOST = "127.0.0.1"


def ask(resolver: Resolver, name: str, rdtype: str = "A", edns: int = -1) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=edns)
    return dns.query.udp(query, resolver.host, port=resolver.port, timeout=2)


def packet(name: str, rdtype: str = "A", edns: int = -1) -> bytes:
    query = dns.message.make_query(name, rdtype, use_edns=edns)
    query.id = 4242
    return query.to_wire()  # type: ignore[no-any-return]


async def both(resolver: Resolver, data: bytes) -> tuple[bytes | None, bytes]:
    """The hot lane's answer and the chain's answer for the same datagram, at the same moment."""
    server = resolver.server
    assert server.lane is not None
    hot = server.lane.answer(data, HOST, time.perf_counter())
    outcome = server.dispatch(data, server.client(HOST), "udp")
    assert isinstance(outcome, tuple) and isinstance(outcome[1], Answer)
    req, answer = outcome
    return hot, truncate(req.q, answer.wire, server.settings.edns_payload)


async def learn(resolver: Resolver, data: bytes) -> HotLane:
    """What the UDP handler does for a datagram the lane does not know yet; returns the lane."""
    server = resolver.server
    assert server.lane is not None
    outcome = server.dispatch(data, server.client(HOST), "udp")
    assert isinstance(outcome, tuple) and isinstance(outcome[1], Answer)
    req, answer = outcome
    server.lane.learn(data, HOST, req, answer, truncate(req.q, answer.wire, server.settings.edns_payload))
    return server.lane


@pytest.mark.parametrize("mode", ["nxdomain", "null"])
@pytest.mark.parametrize("edns", [-1, 0])
@pytest.mark.parametrize("name", ["bet.example", "WWW.Bet.example", "ok.example", "Ok.Example", "clean-alias.example"])
def test_hot_answer_equals_chain(make_resolver: Any, mode: str, edns: int, name: str) -> None:
    resolver: Resolver = make_resolver(block={"dns_answer": mode})
    ask(resolver, name, edns=edns)  # fills the cache for allowed names
    data = packet(name, edns=edns)
    resolver.loop.run(learn(resolver, data))
    hot, chain = resolver.loop.run(both(resolver, data))
    assert hot is not None, "the lane should know this datagram"
    assert hot == chain
    assert hot[:2] == data[:2]


def test_lane_serves_real_clients_and_counts_like_the_chain(make_resolver: Any) -> None:
    plain: Resolver = make_resolver(dns={"hot_lane_size": 0}, block={"dns_answer": "nxdomain"})
    hot: Resolver = make_resolver(block={"dns_answer": "nxdomain"})
    for resolver in (plain, hot):
        for _ in range(5):
            for name in ("bet.example", "ok.example", "sub.bet.example"):
                reply = ask(resolver, name)
                assert reply.rcode() == (0 if name == "ok.example" else 3)
    assert hot.server.lane is not None and hot.server.lane.hits() >= 8
    assert _counts(plain) == _counts(hot)
    assert hot.metric("filterproxy_dns_blocks_total", category="gambling", group="pupils") == 10
    assert hot.metric("filterproxy_dns_request_duration_seconds_count", outcome="block") == 10
    assert hot.metric("filterproxy_dns_cache_hits_total") == 4


def _counts(resolver: Resolver) -> list[tuple[str, tuple[tuple[str, str], ...], float]]:
    return sorted(
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for family in resolver.registry.collect()
        if family.name.startswith("filterproxy_dns_") and "upstream" not in family.name
        for s in family.samples
        if not s.name.endswith(("_sum", "_bucket", "_created"))
    )


def test_list_reload_empties_the_lane(make_resolver: Any) -> None:
    resolver: Resolver = make_resolver()
    data = packet("bet.example")
    lane = resolver.loop.run(learn(resolver, data))
    assert lane.answer(data, HOST, time.perf_counter()) is not None
    resolver.engine.swap(make_engine(deny={"gambling": ["other.example"]}, policy=policy()).current)
    assert lane.answer(data, HOST, time.perf_counter()) is None
    assert ask(resolver, "bet.example").rcode() == 0  # no longer listed: resolved upstream


def test_blocked_hits_become_incidents_with_every_field(make_resolver: Any) -> None:
    resolver: Resolver = make_resolver()
    before = time.time()
    for _ in range(6):
        ask(resolver, "sub.bet.example", "AAAA")
    lane = resolver.server.lane
    assert lane is not None and lane.hits() == 5
    deadline = time.monotonic() + 2
    while len(resolver.sink.events) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)  # flushed by the lane's timer, not only at stop
    assert len(resolver.sink.events) == 6
    for event in resolver.sink.events:
        assert event.protocol == "dns" and event.client == HOST and event.qtype == "AAAA"
        assert event.verdict.host == "sub.bet.example" and event.verdict.group == "pupils"
        assert event.verdict.category is not None and event.verdict.category.value == "gambling"
        assert event.verdict.rule and event.verdict.blocked
        assert before - 1 <= event.at.timestamp() <= time.time() + 1 and event.at.tzinfo is not None
    assert len({event.reference for event in resolver.sink.events}) == 6


def test_pending_incidents_are_flushed_on_stop(make_resolver: Any) -> None:
    resolver: Resolver = make_resolver()
    data = packet("bet.example")
    lane = resolver.loop.run(learn(resolver, data))

    async def hits_then_stop() -> int:
        for _ in range(3):
            assert lane.answer(data, HOST, time.perf_counter()) is not None
        queued = len(resolver.sink.events)
        await resolver.server.stop()  # before the timer fires
        return queued

    queued = resolver.loop.run(hits_then_stop())
    assert queued == 1  # only the chain's own event so far
    assert len(resolver.sink.events) == 4


def test_lane_skips_what_it_must_not_keep(make_resolver: Any) -> None:
    resolver: Resolver = make_resolver()
    lane = resolver.server.lane
    assert lane is not None
    unkept = [("chat.example", "A"), ("www.google.com", "A"), ("mask.icloud.com", "A"), ("ok.example", "ANY")]
    for name, rdtype in unkept:
        for _ in range(2):
            ask(resolver, name, rdtype)  # the UDP handler would teach the lane here if it could
        # log-only, SafeSearch, bypass, local: never kept
        assert lane.answer(packet(name, rdtype), HOST, time.perf_counter()) is None, name
    assert lane.hits() == 0 and len(resolver.sink.events) == 2
    ask(resolver, "chat.example")
    assert len(resolver.sink.events) == 3  # a log-only verdict is recorded on every query


def test_verdicts_are_kept_for_the_minute_only_when_the_group_has_windows() -> None:
    import math

    from prometheus_client import CollectorRegistry

    from filterproxy.classify.settings import PolicySettings
    from filterproxy.config.block import BlockSettings
    from filterproxy.dns.answers import DnsAnswers
    from filterproxy.dns.metrics import DnsMetrics
    from filterproxy.dns.stages.blocking import BlockingStage
    from tests.dns.test_fastpath import request

    lunch = {"action": "block", "windows": [{"start": "12:00", "end": "13:00", "action": "allow"}]}
    for categories, timeless in [({"gambling": "block"}, True), ({"gambling": lunch}, False)]:
        settings = PolicySettings.model_validate(
            {"default_group": "pupils", "groups": {"pupils": {"categories": categories}}}
        )
        engine = make_engine(deny={"gambling": ["bet.example"]}, policy=settings)
        stage = BlockingStage(engine, BlockSettings(), DnsAnswers(1232), DnsMetrics(CollectorRegistry()))
        for name in ("bet.example", "ok.example"):
            req = request(name)
            stage(req, lambda r: Answer(b"\x00" * 12, source="cache"))
            assert math.isinf(req.lane_left) if timeless else 0 < req.lane_left <= 60, (name, categories)


def test_a_burst_counts_each_answer_with_the_bursts_latency(make_resolver: Any) -> None:
    """Answers of one burst are counted when it is settled, each with the burst's time (receive to ready)."""
    resolver: Resolver = make_resolver()
    data = packet("bet.example")
    lane = resolver.loop.run(learn(resolver, data))
    name = "filterproxy_dns_request_duration_seconds"

    def count(le: str | None = None) -> float:
        if le is None:
            return resolver.metric(f"{name}_count", outcome="block")
        return resolver.metric(f"{name}_bucket", outcome="block", le=le)

    async def burst() -> float:
        before = count(), count("0.25"), count("0.5"), resolver.metric(f"{name}_sum", outcome="block")
        received = time.perf_counter() - 0.3  # as if the burst had been received 0.3 s ago
        for _ in range(3):
            assert lane.answer(data, HOST, received) is not None
        assert count() == before[0]  # not counted until the burst is settled
        lane.answered(received)
        assert count() == before[0] + 3
        assert count("0.25") == before[1] and count("0.5") == before[2] + 3
        return resolver.metric(f"{name}_sum", outcome="block") - before[3]

    added = resolver.loop.run(burst())
    assert 3 * 0.3 <= added < 3 * 0.5
    settled = count()
    lane.answered(time.perf_counter())  # nothing answered since: nothing more counted
    assert count() == settled and lane.hits() == 3


def test_eviction_cost_stays_flat_when_full() -> None:
    """Once full, each insert evicts the oldest in O(1): the cost per insert does not grow with
    the deletions behind it (a plain dict's ``next(iter())`` did, 50-300x at this size)."""
    from collections import OrderedDict

    from prometheus_client import CollectorRegistry

    from filterproxy.dns.metrics import DnsMetrics
    from filterproxy.incidents.event import NullSink

    size = 65536
    lane_owner = HotLane(make_engine({}), DnsMetrics(CollectorRegistry()), NullSink(), str, size)
    lane: Any = OrderedDict()
    prepared: Any = (0.0, b"", 0, b"", None, None, "A")

    def insert(start: int, count: int) -> float:
        began = time.perf_counter()
        for i in range(start, start + count):
            lane_owner.store(lane, i.to_bytes(8, "big"), prepared)
        return (time.perf_counter() - began) / count

    filling = insert(0, size)
    evicting = min(insert(size + k * 50_000, 50_000) for k in range(4))  # min: robust to a busy machine
    assert len(lane) == size
    assert next(iter(lane)) == (size + 4 * 50_000 - size).to_bytes(8, "big")  # the oldest left is the right one
    assert evicting < 5 * filling + 2e-6


@pytest.mark.parametrize("name", ["bet.example", "ok.example"])
def test_client_cookies_share_one_lane_entry(make_resolver: Any, name: str) -> None:
    """Stub resolvers send a fresh client cookie with every query: the lane answers them all
    from one entry, byte for byte what the chain gives, and keeps other options apart."""
    import dns.edns

    resolver: Resolver = make_resolver(block={"dns_answer": "nxdomain"})

    def with_cookie(cookie: bytes, extra: list[Any] | None = None) -> bytes:
        options = [*(extra or []), dns.edns.GenericOption(10, cookie)]
        query = dns.message.make_query(name, "A", use_edns=0, options=options)
        query.id = 4242
        return query.to_wire()  # type: ignore[no-any-return]

    ask(resolver, name)  # fills the cache for the allowed name

    async def scenario() -> None:
        lane = await learn(resolver, with_cookie(b"\x01" * 8))
        for cookie in (b"\x02" * 8, b"\x99" * 8):
            hot, chain = await both(resolver, with_cookie(cookie))
            assert hot is not None and hot == chain
        other = with_cookie(b"\x03" * 8, [dns.edns.GenericOption(3, b"")])  # NSID too: its own key
        assert lane.answer(other, HOST, time.perf_counter()) is None

    resolver.loop.run(scenario())
