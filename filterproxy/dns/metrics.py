"""The resolver's Prometheus metrics, on the registry it is handed. Labels are bounded sets only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from filterproxy.dns import wire
from filterproxy.dns.hotmetrics import HotCollector, HotCounter, HotHistogram, LabelValues
from filterproxy.metrics.registry import counter, gauge, histogram

if TYPE_CHECKING:
    from filterproxy.dns.hotlane import Kind

__all__ = ["LATENCY_BUCKETS", "DnsMetrics", "LabelValues", "qtype_label"]

#: Query types counted by name; everything else is "other" (bounded label).
QTYPES = {
    1: "A",
    28: "AAAA",
    65: "HTTPS",
    64: "SVCB",
    5: "CNAME",
    15: "MX",
    16: "TXT",
    12: "PTR",
    2: "NS",
    6: "SOA",
    33: "SRV",
    255: "ANY",
}
OUTCOMES = ("local", "block", "cache", "stale", "upstream", "error")
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


def qtype_label(qtype: int) -> str:
    return QTYPES.get(qtype, "other")


class DnsMetrics:
    """One instance per server; per-query metrics are plain integers (see hotmetrics), the rest prometheus_client."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.queries = HotCounter(
            "filterproxy_dns_queries_total", "DNS queries received, by query type and transport.", ("qtype", "protocol")
        )
        self.responses = HotCounter(
            "filterproxy_dns_responses_total",
            "DNS responses sent, by RCODE and how they were made.",
            ("rcode", "outcome"),
        )
        self.duration = HotHistogram(
            "filterproxy_dns_request_duration_seconds",
            "Time from receiving a query to having its answer.",
            ("outcome",),
            LATENCY_BUCKETS,
        )
        self.blocks = HotCounter(
            "filterproxy_dns_blocks_total",
            "Queries answered with a block, by category and client group.",
            ("category", "group"),
        )
        self.cache_hits = HotCounter("filterproxy_dns_cache_hits_total", "Answers from the cache.")
        self.cache_misses = HotCounter("filterproxy_dns_cache_misses_total", "Cache lookups that found nothing fresh.")
        HotCollector(
            registry, [self.queries, self.responses, self.duration, self.blocks, self.cache_hits, self.cache_misses]
        )
        self.cache_entries: Gauge = gauge(registry, "filterproxy_dns_cache_entries", "Answers in the cache.")
        self.upstream_errors: Counter = counter(
            registry,
            "filterproxy_dns_upstream_errors_total",
            "Failed upstream exchanges, by upstream.",
            ("upstream",),
        )
        self.upstream_up: Gauge = gauge(
            registry,
            "filterproxy_dns_upstream_up",
            "1 while an upstream answers, 0 after it failed.",
            ("upstream",),
        )
        self.upstream_duration: Histogram = histogram(
            registry,
            "filterproxy_dns_upstream_duration_seconds",
            "Upstream exchange time, by upstream.",
            ("upstream",),
            buckets=LATENCY_BUCKETS,
        )
        self.upstream_overloaded: Counter = counter(
            registry,
            "filterproxy_dns_upstream_overloaded_total",
            "Cache misses not forwarded because max_pending queries were already waiting upstream"
            " (answered SERVFAIL, or stale data when the cache has some).",
        )
        self.stage_exceptions: Counter = counter(
            registry,
            "filterproxy_dns_stage_exceptions_total",
            "Unexpected exceptions in a chain stage (answered SERVFAIL).",
            ("stage",),
        )
        self.bad_queries: Counter = counter(
            registry,
            "filterproxy_dns_bad_queries_total",
            "Malformed or unsupported packets, by what was done with them.",
            ("outcome",),
        )
        self.probe_blocks: Counter = counter(
            registry,
            "filterproxy_dns_probe_blocks_total",
            "Self-test probes answered with a block, by category and group (kept out of blocks_total).",
            ("category", "group"),
        )
        self.tcp_refused: Counter = counter(
            registry,
            "filterproxy_dns_tcp_refused_total",
            "Client TCP connections closed at once: over the total or the per-client limit.",
            ("reason",),
        )
        self._rcodes = {r: wire.RCODE_NAMES.get(r, "other") for r in range(16)}

    def query(self, qtype: int, transport: str) -> None:
        self.queries.inc((QTYPES.get(qtype, "other"), transport))

    def response(self, rcode: int, outcome: str, seconds: float) -> None:
        self.responses.inc((self._rcodes[rcode & 0xF], outcome))
        self.duration.observe((outcome,), seconds)

    def block(self, category: str, group: str) -> None:
        self.blocks.inc((category, group))

    def add_source(self, kinds: Callable[[], Iterable[Kind]]) -> None:
        """Also export the counts the hot lane keeps in its :class:`~filterproxy.dns.hotlane.Kind` objects."""
        self.queries.sources.append(lambda: ((k.query, k.count) for k in kinds()))
        self.responses.sources.append(lambda: ((k.response, k.count) for k in kinds()))
        self.duration.sources.append(lambda: ((k.outcome, k.latency) for k in kinds()))
        self.blocks.sources.append(lambda: ((k.block, k.count) for k in kinds() if k.block is not None))
        self.cache_hits.sources.append(lambda: (((), k.count) for k in kinds() if k.cache_hit))
