"""Identity metrics: outcomes only (bounded); never a user name, address or NAS."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from filterproxy.metrics.registry import counter, gauge, histogram

#: Outcomes of one accounting packet.
RADIUS_OUTCOMES = ("start", "interim", "stop", "other", "bad_authenticator", "unknown_client", "replay", "malformed")
#: Outcomes of one proxy authentication.
AUTH_OUTCOMES = ("ok", "cached", "rejected", "challenged", "directory_error")


class IdentityMetrics:
    """Created once per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        packets = counter(
            registry,
            "filterproxy_identity_radius_packets_total",
            "RADIUS accounting packets by outcome (refused: bad_authenticator, unknown_client, replay, malformed).",
            ["outcome"],
        )
        self.radius = {outcome: packets.labels(outcome) for outcome in RADIUS_OUTCOMES}
        self.sessions = gauge(registry, "filterproxy_identity_sessions", "Live address-to-person sessions.")
        auth = counter(
            registry,
            "filterproxy_identity_proxy_auth_total",
            "Proxy authentications by outcome (directory_error: LDAP unreachable, address policy used).",
            ["outcome"],
        )
        self.auth = {outcome: auth.labels(outcome) for outcome in AUTH_OUTCOMES}
        self.directory_time = histogram(
            registry, "filterproxy_identity_directory_seconds", "Time of one directory (LDAP or user file) check."
        )
