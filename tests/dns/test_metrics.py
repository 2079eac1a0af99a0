"""The hot-path metrics export exactly what prometheus_client's own classes would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from filterproxy.dns.hotmetrics import HotCollector, HotCounter, HotHistogram
from filterproxy.dns.metrics import LATENCY_BUCKETS, DnsMetrics


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
