"""HTTP(S) proxy configuration. Owned by filterproxy.http."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from filterproxy.config.section import Section
from filterproxy.config.types import HostPort


class ProxySettings(Section):
    """The filtering proxy (a mitmproxy addon)."""

    enabled: bool = Field(default=True, description="Run the proxy as part of `filterproxy serve`.")
    listen: HostPort = Field(default="127.0.0.1:3128", description="Proxy listen address, HOST:PORT.")
    mode: Literal["explicit", "transparent"] = Field(default="explicit", description="Proxy mode.")
