"""Transparent gateway configuration. Owned by filterproxy.gateway."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from filterproxy.config.section import Section


class GatewaySettings(Section):
    """nftables steering of client traffic through the resolver and proxy."""

    mode: Literal["steered", "strict"] = Field(
        default="steered", description="steered: only addresses needing a decision go to the proxy; strict: all."
    )
