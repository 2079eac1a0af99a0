"""Gateway metrics, on the registry `serve` passes in. Labels are bounded sets only."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge


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
            steered=Counter(
                "filterproxy_gateway_steered_addresses_total",
                "Addresses added to (or refreshed in) the nftables steering sets.",
                registry=reg,
            ),
            skipped=Counter(
                "filterproxy_gateway_steer_skipped_total",
                "Steering requests needing no update (address still in the set long enough).",
                registry=reg,
            ),
            batches=Counter(
                "filterproxy_gateway_steer_batches_total",
                "Batched nft updates of the steering sets, by outcome.",
                ["outcome"],
                registry=reg,
            ),
            pending=Gauge(
                "filterproxy_gateway_steer_pending", "Addresses waiting for the next nft batch.", registry=reg
            ),
            dropped=Counter(
                "filterproxy_gateway_steer_dropped_total",
                "Addresses not steered because the pending queue was full.",
                registry=reg,
            ),
        )
