"""How blocks are answered and presented to pupils and staff."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field

from filterproxy.config.section import Section


class BlockSettings(Section):
    """Block answers (DNS) and the block page (HTTP)."""

    dns_answer: Literal["nxdomain", "nodata", "null", "blockpage"] = Field(
        default="blockpage",
        description="DNS answer for blocked names: NXDOMAIN, NODATA, 0.0.0.0/:: or the block page address.",
    )
    ttl: int = Field(default=60, ge=0, le=86400, description="TTL of block answers and of their SOA minimum.")
    blockpage_ipv4: ipaddress.IPv4Address = Field(
        default=ipaddress.IPv4Address("127.0.0.1"), description="A record of the block page server."
    )
    blockpage_ipv6: ipaddress.IPv6Address | None = Field(
        default=None, description="AAAA record of the block page server (none: NODATA for AAAA)."
    )
    school_name: str = Field(default="Our School", description="School name on the block page.")
    review_url: str = Field(
        default="mailto:ict@school.example?subject=Website%20review%20request",
        description="Link (https: or mailto:) a pupil uses to ask for a review of a block.",
    )
    request_url: str | None = Field(
        default=None,
        description="The console's public unblock request form (https://console.school.example/request); when "
        "set, 'ask for a review' opens it with the block reference instead of review_url.",
    )
    contact: str = Field(default="the ICT manager", description="Who to tell, in plain words.")
    logo_url: str | None = Field(default=None, description="Optional school logo shown on the block page.")
