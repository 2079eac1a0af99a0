"""Prometheus metrics of content analysis. Labels: category, action, kind, outcome (bounded sets)."""

from __future__ import annotations

import weakref

from prometheus_client import CollectorRegistry

from filterproxy.metrics.registry import counter, histogram

KINDS = ("html", "text")
ACTIONS = ("block", "log")
FETCH_OUTCOMES = ("scanned", "not_text", "failed", "dropped", "skipped")


class ContentMetrics:
    """Created once per registry; the proxy and the background categoriser share one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.pages = counter(
            registry, "filterproxy_content_pages_scanned_total", "Pages whose text was scored, by kind.", ["kind"]
        )
        self.bytes = counter(
            registry, "filterproxy_content_bytes_scanned_total", "Bytes of page bodies scored (after decompression)."
        )
        self.scan_time = histogram(
            registry,
            "filterproxy_content_scan_seconds",
            "Time to decode, normalise and score one page.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
        )
        self.verdicts = counter(
            registry,
            "filterproxy_content_verdicts_total",
            "Content verdicts (a page, or a request decided from the site cache), by category and action.",
            ["category", "action", "kind"],
        )
        self.fetches = counter(
            registry,
            "filterproxy_content_background_fetches_total",
            "Home pages the background categoriser fetched or passed over, by outcome.",
            ["outcome"],
        )
        self.kind = {k: self.pages.labels(k) for k in KINDS}
        self.fetch = {o: self.fetches.labels(o) for o in FETCH_OUTCOMES}

    def verdict(self, category: str, action: str, kind: str) -> None:
        self.verdicts.labels(category, action, kind).inc()


_SHARED: weakref.WeakKeyDictionary[CollectorRegistry, ContentMetrics] = weakref.WeakKeyDictionary()


def content_metrics(registry: CollectorRegistry) -> ContentMetrics:
    """The registry's one :class:`ContentMetrics` (the proxy and the background categoriser share it)."""
    found = _SHARED.get(registry)
    if found is None:
        found = _SHARED[registry] = ContentMetrics(registry)
    return found
