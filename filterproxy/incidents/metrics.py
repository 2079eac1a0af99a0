"""Prometheus metrics of the incident queue. Labels only from bounded sets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IncidentMetrics:
    """One instance per queue, registered on the registry passed in."""

    def __init__(self, registry: CollectorRegistry) -> None:
        ns, sub = "filterproxy", "incidents"
        self.queue_depth = Gauge(
            "queue_depth", "Events waiting in memory.", namespace=ns, subsystem=sub, registry=registry
        )
        self.received = Counter(
            "events_received_total",
            "Block events submitted, by protocol.",
            ["protocol"],
            namespace=ns,
            subsystem=sub,
            registry=registry,
        )
        self.written = Counter(
            "written_total",
            "New incidents written to the store.",
            namespace=ns,
            subsystem=sub,
            registry=registry,
        )
        self.folded = Counter(
            "folded_total",
            "Events folded into an existing incident (dedup).",
            namespace=ns,
            subsystem=sub,
            registry=registry,
        )
        self.spool_events = Gauge(
            "spool_events",
            "Events waiting in the spool file.",
            namespace=ns,
            subsystem=sub,
            registry=registry,
        )
        self.spool_bytes = Gauge(
            "spool_bytes", "Size of the spool file.", namespace=ns, subsystem=sub, registry=registry
        )
        self.dropped = Counter(
            "dropped_total",
            "Events dropped, by reason (overflow, spool_error).",
            ["reason"],
            namespace=ns,
            subsystem=sub,
            registry=registry,
        )
        self.store_errors = Counter(
            "store_errors_total", "Failed store operations.", namespace=ns, subsystem=sub, registry=registry
        )
        self.alerts = Counter(
            "alerts_total",
            "Alerts by channel (webhook, email, digest) and outcome.",
            ["channel", "outcome"],
            namespace=ns,
            subsystem=sub,
            registry=registry,
        )
        self.lost = Counter(
            "lost_after_crash_total",
            "Events found lost at start-up after a crash.",
            namespace=ns,
            subsystem=sub,
            registry=registry,
        )
        self.write_seconds = Histogram(
            "write_seconds",
            "Time to write one batch to the store.",
            namespace=ns,
            subsystem=sub,
            registry=registry,
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
        )
        for protocol in ("dns", "http", "https"):
            self.received.labels(protocol)
        for reason in ("overflow", "spool_error"):
            self.dropped.labels(reason)
