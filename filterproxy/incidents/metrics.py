"""Prometheus metrics of the incident queue. Labels only from bounded sets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from filterproxy.metrics.registry import counter, gauge, histogram


class IncidentMetrics:
    """One instance per queue, registered on the registry passed in."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.queue_depth = gauge(registry, "filterproxy_incidents_queue_depth", "Events waiting in memory.")
        self.received = counter(
            registry,
            "filterproxy_incidents_events_received_total",
            "Block events submitted, by protocol.",
            ("protocol",),
        )
        self.written = counter(registry, "filterproxy_incidents_written_total", "New incidents written to the store.")
        self.folded = counter(
            registry, "filterproxy_incidents_folded_total", "Events folded into an existing incident (dedup)."
        )
        self.spool_events = gauge(registry, "filterproxy_incidents_spool_events", "Events waiting in the spool file.")
        self.spool_bytes = gauge(registry, "filterproxy_incidents_spool_bytes", "Size of the spool file.")
        self.dropped = counter(
            registry,
            "filterproxy_incidents_dropped_total",
            "Events dropped, by reason (overflow, spool_error).",
            ("reason",),
        )
        self.store_errors = counter(registry, "filterproxy_incidents_store_errors_total", "Failed store operations.")
        self.alerts = counter(
            registry,
            "filterproxy_incidents_alerts_total",
            "Alerts by channel (webhook, email, digest) and outcome.",
            ("channel", "outcome"),
        )
        self.lost = counter(
            registry, "filterproxy_incidents_lost_after_crash_total", "Events found lost at start-up after a crash."
        )
        self.watermark_block = gauge(
            registry,
            "filterproxy_incidents_watermark_block",
            "Sequence numbers reserved ahead on disk: the most a crash now can over-count as lost.",
        )
        self.watermark_overrun = gauge(
            registry,
            "filterproxy_incidents_watermark_overrun",
            "Sequence numbers handed out beyond the reservation this run (disk too slow; a crash then "
            "under-counts by up to this).",
        )
        self.write_seconds = histogram(
            registry,
            "filterproxy_incidents_write_seconds",
            "Time to write one batch to the store.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
        )
        for protocol in ("dns", "http", "https"):
            self.received.labels(protocol)
        for reason in ("overflow", "spool_error"):
            self.dropped.labels(reason)
