"""An identified person, as the DNS and HTTP paths hand it on to the core and to incidents."""

from __future__ import annotations

import enum
from typing import NamedTuple


class IdentitySource(enum.StrEnum):
    """Where an identification came from (bounded; stored on incidents, never a metric label value)."""

    RADIUS = "radius"  # RADIUS accounting from the Wi-Fi controller / 802.1X server
    PROXY_AUTH = "proxy_auth"  # Proxy-Authorization checked against LDAP or the local user file
    INVENTORY = "inventory"  # the device inventory CSV names the user of an address
    DHCP = "dhcp"  # a DHCP lease names the device (no person)


class Identity(NamedTuple):
    """A person behind a client address: name, directory groups, and how and when we know."""

    user: str
    directory: tuple[str, ...]  # LDAP group DNs, RADIUS Class / Filter-Id values
    source: IdentitySource
    since: float  # epoch seconds of the identification (for its age on incidents)
