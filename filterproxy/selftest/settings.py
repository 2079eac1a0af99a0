"""Self-test configuration: which names must be blocked, which must stay reachable, per group.

The expectations are deliberately independent of the policy: switching a category off for a
group makes the self-test fail until ``allowed`` says that group may reach it, so a change of
policy is a decision written down twice, never an accident.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field

from filterproxy.config.section import Section
from filterproxy.model import Category

PROBE_DOMAIN = "filterproxy-selftest.example"

#: Sites that must stay reachable: curriculum, and the support services pupils must never lose.
EDUCATIONAL = [
    "www.bbc.co.uk",
    "en.wikipedia.org",
    "www.gov.uk",
    "www.khanacademy.org",
    "www.nhs.uk",
    "www.childline.org.uk",
    "www.samaritans.org",
]


def is_probe_host(host: str, probe_domain: str = PROBE_DOMAIN) -> bool:
    """Whether ``host`` is a category probe name (the reserved ``.example`` TLD: never real traffic)."""
    host, domain = host.rstrip(".").lower(), probe_domain.rstrip(".").lower()
    return host == domain or host.endswith("." + domain)


class Probe(Section):
    """A probe of the school's own: a name (or http:// URL) and what the filter must do with it."""

    target: str = Field(description="A DNS name, or an http:// URL probed through the proxy.")
    expect: Literal["blocked", "allowed"] = Field(description="What the filter must do.")
    category: Category | None = Field(default=None, description="The category it tests (for the report).")
    groups: list[str] = Field(default=[], description="Groups it applies to; empty: every group.")


class SelftestSettings(Section):
    """`filterproxy selftest`: probes of the running resolver and proxy."""

    categories: list[Category] = Field(
        default=[c for c in Category if c is not Category.ILLEGAL],
        description="Categories probed with <category>.<probe_domain> (the starter lists list these).",
    )
    probe_domain: str = Field(default=PROBE_DOMAIN, description="Domain under which category probes live.")
    allowed: dict[str, list[Category]] = Field(
        default={}, description="Per group, categories it may reach (their probes must then be allowed)."
    )
    educational: list[str] = Field(
        default=EDUCATIONAL, description="Names or http:// URLs that must stay reachable (over-blocking)."
    )
    probes: list[Probe] = Field(default=[], description="Extra probes of the school's own.")
    source_addresses: dict[str, ipaddress.IPv4Address | ipaddress.IPv6Address] = Field(
        default={},
        description="Per group, an address of this host inside the group's networks to send probes from "
        "(the default group needs none).",
    )
    dns: bool = Field(default=True, description="Probe the resolver (when dns.enabled).")
    http: bool = Field(default=True, description="Probe through the proxy (when proxy.enabled).")
    timeout: float = Field(default=3.0, gt=0, le=30, description="Seconds to wait for one probe.")
