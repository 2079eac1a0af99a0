"""The identity snapshot the service hands the DNS and HTTP paths: address -> person.

Today the only address-based source is RADIUS accounting (:class:`SessionMap`); proxy
authentication identifies a connection, not an address, and is applied by the HTTP addon.
Listeners hear every address whose person changed (the resolver's hot lane forgets it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from filterproxy.identity.model import Identity
from filterproxy.identity.sessions import SessionMap
from filterproxy.model import IPAddress


class IdentityBook:
    def __init__(self, sessions: SessionMap) -> None:
        self.sessions = sessions

    def at(self, address: IPAddress) -> Identity | None:
        """The person behind ``address`` now, if any source names one."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return self.sessions.identity(address)

    def on_change(self, listener: Callable[[IPAddress], None]) -> None:
        self.sessions.listeners.append(listener)
