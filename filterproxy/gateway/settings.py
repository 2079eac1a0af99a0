"""Transparent gateway configuration. Owned by filterproxy.gateway."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator

from filterproxy.config.section import Section
from filterproxy.config.types import Network as NetworkField

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Public DNS-over-HTTPS/TLS resolvers that browsers and apps use to bypass the school's DNS.
# Their host names are in the circumvention category; these addresses catch hard-coded ones.
DEFAULT_DOH_ADDRESSES: tuple[str, ...] = (
    "8.8.8.8/32",  # Google
    "8.8.4.4/32",
    "1.1.1.1/32",  # Cloudflare
    "1.0.0.1/32",
    "9.9.9.9/32",  # Quad9
    "149.112.112.112/32",
    "94.140.14.14/32",  # AdGuard
    "94.140.15.15/32",
    "208.67.222.222/32",  # OpenDNS
    "208.67.220.220/32",
    "185.228.168.168/32",  # CleanBrowsing
    "76.76.2.0/32",  # ControlD
    "45.90.28.0/24",  # NextDNS anycast
    "45.90.30.0/24",
    "2001:4860:4860::8888/128",
    "2001:4860:4860::8844/128",
    "2606:4700:4700::1111/128",
    "2606:4700:4700::1001/128",
    "2620:fe::fe/128",
    "2620:fe::9/128",
    "2a10:50c0::ad1:ff/128",
    "2a10:50c0::ad2:ff/128",
)

_IFNAME = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
_TABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


class GatewaySettings(Section):
    """nftables steering of client traffic through the resolver and proxy."""

    mode: Literal["steered", "strict"] = Field(
        default="steered",
        description="steered: only addresses needing a decision go to the proxy; strict: all.",
    )
    lan_interfaces: list[str] = Field(
        default=[],
        description="Interfaces the pupils' traffic arrives on (e.g. [eth1]); required for `gateway up`.",
    )
    table: str = Field(default="filterproxy", description="Name of our own nftables table (family inet).")
    nft: str = Field(default="nft", description="The nft program (a path or a name on $PATH).")
    dns_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Port client DNS is redirected to; default: the port of dns.listen.",
    )
    proxy_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Transparent proxy port for TCP 80/443; default: proxy.listen's.",
    )
    block_dot: bool = Field(
        default=True, description="Drop DNS over TLS (TCP 853) and DNS over QUIC (UDP 853)."
    )
    block_quic: bool = Field(
        default=True, description="Drop UDP 443 (QUIC/HTTP3) so browsers fall back to TCP."
    )
    doh_addresses: list[NetworkField] = Field(
        default=[ipaddress.ip_network(a) for a in DEFAULT_DOH_ADDRESSES],
        description="Addresses of DNS-over-HTTPS resolvers: all client traffic to them is refused.",
    )
    steer_min_timeout: int = Field(
        default=60, ge=1, le=86400,
        description="Shortest life (s) of a steered address, whatever the answer TTL.",
    )
    steer_max_timeout: int = Field(
        default=86400, ge=1, le=604800, description="Longest life (s) of a steered address."
    )
    steer_grace: int = Field(
        default=30, ge=0, le=3600,
        description="Seconds added to the TTL: clients connect a little after expiry.",
    )
    flush_interval: float = Field(
        default=0.05, gt=0, le=5, description="Seconds between batched updates of the steering set."
    )

    @field_validator("lan_interfaces")
    @classmethod
    def _interface_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _IFNAME.match(name):
                raise ValueError(f"not an interface name: {name!r}")
        return value

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not _TABLE.match(value):
            raise ValueError(f"not an nftables table name: {value!r}")
        return value
