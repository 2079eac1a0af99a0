"""DNS resolver configuration. Owned by filterproxy.dns."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from filterproxy.config.section import Section
from filterproxy.config.types import HostPort, host_port, split_host_port

SCHEMES = ("udp", "tcp", "tls")


def _upstream(value: str) -> str:
    parse_upstream(value)
    return value


def parse_upstream(value: str) -> tuple[str, str, int, str | None]:
    """``[udp://|tcp://|tls://]HOST:PORT[#tls-name]`` -> (scheme, host, port, tls server name)."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "udp", value
    if scheme not in SCHEMES:
        raise ValueError(f"upstream scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    address, _, name = rest.partition("#")
    host, port = _split(address)
    if name and scheme != "tls":
        raise ValueError(f"a #server-name only makes sense for tls:// upstreams, got {value!r}")
    return scheme, host, port, name or None


def _split(address: str) -> tuple[str, int]:
    host, port = split_host_port(host_port(address))
    if not host or port == 0:  # a listen address may leave these to the system; an upstream may not
        raise ValueError(f"an upstream needs a host and a port 1-65535, got {address!r}")
    return host, port


Upstream = Annotated[str, AfterValidator(_upstream)]


class DnsSettings(Section):
    """The filtering resolver."""

    enabled: bool = Field(default=True, description="Run the resolver as part of `filterproxy serve`.")
    listen: HostPort = Field(default="127.0.0.1:5353", description="UDP and TCP listen address, HOST:PORT.")
    upstreams: list[Upstream] = Field(
        default=["9.9.9.9:53", "149.112.112.112:53"],
        description="Upstream resolvers, tried in order: HOST:PORT (UDP, TCP on truncation), "
        "tcp://HOST:PORT, "
        "or tls://HOST:PORT#server-name (DNS over TLS, RFC 7858).",
        min_length=1,
    )
    tls_ca_file: Path | None = Field(
        default=None, description="CA bundle to verify DNS-over-TLS upstreams (default: the system's)."
    )
    upstream_timeout: float = Field(default=0.4, gt=0, le=10, description="Seconds to wait for one upstream.")
    resolve_timeout: float = Field(
        default=0.9,
        gt=0,
        le=30,
        description="Seconds before giving up on all upstreams (then stale or SERVFAIL).",
    )
    upstream_retry_after: float = Field(
        default=5.0, ge=0, description="Seconds a failing upstream is tried only after the healthy ones."
    )
    edns_payload: int = Field(default=1232, ge=512, le=4096, description="EDNS(0) UDP payload size we use.")
    cache_size: int = Field(default=100_000, ge=0, description="Cached answers kept at most (0: no cache).")
    cache_min_ttl: int = Field(default=0, ge=0, description="Cached answers live at least this many seconds.")
    cache_max_ttl: int = Field(default=86400, ge=0, description="Cached answers live at most this many seconds.")
    cache_negative_ttl: int = Field(
        default=900, ge=0, description="Longest time NXDOMAIN/NODATA answers are cached (RFC 2308)."
    )
    serve_stale: float = Field(
        default=86400,
        ge=0,
        description="Seconds after expiry an answer may still be served when upstreams fail.",
    )
    fast_path: bool = Field(
        default=True,
        description="Serve cache hits and block answers from wire templates (false: dnslib only).",
    )
    hot_lane_size: int = Field(
        default=131072,
        ge=0,
        description="Repeated UDP queries answered from the exact bytes of an earlier block or cache hit, "
        "per client group, at most this many (0: off; needs fast_path).",
    )
    user: str | None = Field(
        default=None,
        description="Drop root privileges to this user after binding (when listening on port 53).",
    )
    max_pending: int = Field(
        default=4096,
        ge=1,
        description="Queries waiting on upstreams at most; beyond it new misses get SERVFAIL at once.",
    )
    tcp_idle_timeout: float = Field(default=10.0, gt=0, description="Seconds an idle client TCP connection is kept.")
    tcp_max_connections: int = Field(default=256, ge=1, description="Concurrent client TCP connections at most.")
    tcp_max_connections_per_client: int = Field(
        default=16, ge=1, description="Concurrent TCP connections from one client address at most (more are closed)."
    )
    allow_networks: list[IPv4Network | IPv6Network] = Field(
        default=[],
        description="Client networks (CIDR) the resolver answers; others get REFUSED, counted, never an incident. "
        "Empty (the default): loopback plus every group's networks. [0.0.0.0/0, ::/0] answers everyone.",
    )
    rate_limit: float = Field(
        default=0,
        ge=0,
        description="UDP answers per second per client address at most (a second's worth of burst); "
        "queries over it get no answer, counted (0: no limit).",
    )
