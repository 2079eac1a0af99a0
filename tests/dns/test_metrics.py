"""The hot-path metrics export exactly what prometheus_client's own classes would."""

from __future__ import annotations

import ipaddress

import dns.message
from prometheus_client import CollectorRegistry, Counter, Histogram

from filterproxy.dns.hotmetrics import HotCollector, HotCounter, HotHistogram
from filterproxy.dns.metrics import LATENCY_BUCKETS, DnsMetrics
from filterproxy.dns.request import Answer, Reply, Request
from filterproxy.dns.settings import DnsSettings
from filterproxy.dns.stages.upstream import UpstreamStage
from filterproxy.dns.wire import parse_query


def test_hot_metrics_match_prometheus_client() -> None:
    values = [0.00005, 0.0001, 0.0003, 0.002, 0.7, 9.0, 0.0001]
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    counter = HotCounter("filterproxy_dns_things_total", "Things.", ("outcome",))
    hist = HotHistogram("filterproxy_dns_thing_seconds", "Time.", ("outcome",), LATENCY_BUCKETS)
    HotCollector(ours, [counter, hist])
    ref_counter = Counter("filterproxy_dns_things_total", "Things.", ("outcome",), registry=theirs)
    ref_hist = Histogram(
        "filterproxy_dns_thing_seconds", "Time.", ("outcome",), buckets=LATENCY_BUCKETS, registry=theirs
    )
    for v in values:
        counter.inc(("block",))
        ref_counter.labels("block").inc()
        hist.observe(("cache",), v)
        ref_hist.labels("cache").observe(v)
    assert _samples(ours) == _samples(theirs)


def _samples(registry: CollectorRegistry) -> list[tuple[str, tuple[tuple[str, str], ...], float]]:
    return sorted(
        (s.name, tuple(sorted(s.labels.items())), s.value)
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    )


def test_no_client_or_name_labels() -> None:
    registry = CollectorRegistry()
    metrics = DnsMetrics(registry)
    metrics.query(1, "udp")
    metrics.response(0, "cache", 0.0001)
    metrics.block("gambling", "pupils")
    labels = {name for family in registry.collect() for s in family.samples for name in s.labels}
    assert labels <= {"qtype", "protocol", "rcode", "outcome", "category", "group", "upstream", "stage", "le"}


class _SilentPool:
    """An upstream pool that takes queries and never answers, so they stay pending."""

    def __init__(self) -> None:
        self.asked = 0

    def ask(self, question: bytes, options: bytes, done: object) -> None:
        self.asked += 1


def test_overloaded_upstream_misses_are_exported() -> None:
    registry = CollectorRegistry()
    metrics = DnsMetrics(registry)
    pool = _SilentPool()
    settings = DnsSettings(upstreams=["127.0.0.1:53"], max_pending=2)
    stage = UpstreamStage(pool, settings, metrics=metrics)  # type: ignore[arg-type]
    q = parse_query(dns.message.make_query("ok.example", "A").to_wire())
    assert q is not None
    replies = [stage(Request(q, ipaddress.ip_address("127.0.0.1"), "udp"), _unused) for _ in range(5)]
    assert pool.asked == 2  # two wait upstream, the other three are turned away
    assert [isinstance(r, Answer) and r.failed for r in replies] == [False, False, True, True, True]
    assert stage.overloaded == 3
    assert registry.get_sample_value("filterproxy_dns_upstream_overloaded_total") == 3.0


def _unused(req: Request) -> Reply:
    raise AssertionError("the upstream stage is last: it never calls next")
