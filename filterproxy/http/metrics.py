"""Prometheus metrics of the proxy, on the registry the service passes in.

Labels come only from bounded sets: outcome, category (or reason), group (configured names),
protocol, connection handling and hook. Never a host, URL or client address.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from filterproxy.http.internal import REASONS
from filterproxy.metrics.registry import counter, histogram
from filterproxy.model import Verdict

OUTCOMES = ("allowed", "blocked", "logged", "refused", "error")
HANDLING = ("passthrough", "intercepted", "refused")


class ProxyMetrics:
    """All proxy metrics, created once per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = counter(
            registry,
            "filterproxy_http_requests_total",
            "Requests and CONNECTs seen by the proxy, by outcome.",
            ["outcome"],
        )
        self.blocks = counter(
            registry,
            "filterproxy_http_blocks_total",
            "Blocked requests and connections by category, group and protocol.",
            ["category", "group", "protocol"],
        )
        self.probe_blocks = counter(
            registry,
            "filterproxy_http_probe_blocks_total",
            "Self-test probes answered with a block, by category, group and protocol (kept out of blocks_total).",
            ["category", "group", "protocol"],
        )
        self.connections = counter(
            registry,
            "filterproxy_http_tls_connections_total",
            "TLS connections by handling: passthrough (untouched), intercepted or refused.",
            ["handling"],
        )
        self.watched = counter(
            registry,
            "filterproxy_http_watched_searches_total",
            "Search terms that matched a watch list, by theme.",
            ["theme", "action"],
        )
        self.rewrites = counter(
            registry,
            "filterproxy_http_safesearch_rewrites_total",
            "Requests changed to enforce SafeSearch or YouTube mode.",
            ["kind"],
        )
        self.limited = counter(
            registry,
            "filterproxy_http_connections_limited_total",
            "Connections refused because their client already had the maximum open.",
        )
        self.internal = counter(
            registry,
            "filterproxy_http_internal_refused_total",
            "Requests and connections refused because they aimed at the gateway itself, by reason "
            "(loopback, link_local, unspecified, gateway_address, service_port, unresolved).",
            ["reason"],
        )
        self.decision = histogram(
            registry,
            "filterproxy_http_decision_seconds",
            "Time the filter spends deciding, per hook.",
            ["hook"],
            buckets=(0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1),
        )
        # children bound once: labels() takes a lock and a dict lookup on every call
        self.outcome = {o: self.requests.labels(o) for o in OUTCOMES}
        self.handling = {h: self.connections.labels(h) for h in HANDLING}
        self.hook_time = {h: self.decision.labels(h) for h in ("connect", "clienthello", "request")}
        self.internal_reason = {r: self.internal.labels(r) for r in REASONS}

    def blocked(self, verdict: Verdict, protocol: str) -> None:
        self.blocks.labels(verdict.what, verdict.group, protocol).inc()

    def probe_blocked(self, verdict: Verdict, protocol: str) -> None:
        self.probe_blocks.labels(verdict.what, verdict.group, protocol).inc()
