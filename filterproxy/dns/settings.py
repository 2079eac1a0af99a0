"""DNS resolver configuration. Owned by filterproxy.dns."""

from __future__ import annotations

from pydantic import Field

from filterproxy.config.section import Section
from filterproxy.config.types import HostPort


class DnsSettings(Section):
    """The filtering resolver."""

    enabled: bool = Field(default=True, description="Run the resolver as part of `filterproxy serve`.")
    listen: HostPort = Field(default="127.0.0.1:5353", description="UDP and TCP listen address, HOST:PORT.")
    upstreams: list[HostPort] = Field(
        default=["9.9.9.9:53", "149.112.112.112:53"], description="Upstream resolvers, tried in order."
    )
