"""Gateway metrics, on the registry `serve` passes in. Labels are bounded sets only."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from filterproxy.metrics.registry import counter, gauge


@dataclass(frozen=True)
class GatewayMetrics:
    """Counters of the steering set."""

    steered: Counter  # addresses sent to nft (new or refreshed)
    skipped: Counter  # adds that needed no nft update (address still steered long enough)
    batches: Counter  # nft batches, by outcome ok|error
    pending: Gauge  # addresses waiting for the next batch
    dropped: Counter  # addresses dropped because the pending queue was full

    @classmethod
    def create(cls, registry: CollectorRegistry | None) -> GatewayMetrics:
        reg = registry if registry is not None else CollectorRegistry()
        return cls(
            steered=counter(
                reg,
                "filterproxy_gateway_steered_addresses_total",
                "Addresses added to (or refreshed in) the nftables steering sets.",
            ),
            skipped=counter(
                reg,
                "filterproxy_gateway_steer_skipped_total",
                "Steering requests needing no update (address still in the set long enough).",
            ),
            batches=counter(
                reg,
                "filterproxy_gateway_steer_batches_total",
                "Batched nft updates of the steering sets, by outcome.",
                ("outcome",),
            ),
            pending=gauge(reg, "filterproxy_gateway_steer_pending", "Addresses waiting for the next nft batch."),
            dropped=counter(
                reg,
                "filterproxy_gateway_steer_dropped_total",
                "Addresses not steered because the pending queue was full.",
            ),
        )
