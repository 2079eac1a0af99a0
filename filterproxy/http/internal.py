"""The proxy never reaches the gateway itself: loopback, link-local, its own addresses, its own ports.

A client of the proxy must not use it to get at what only the gateway can reach (the metrics
endpoint, the console, Prometheus, the PAC server, anything bound to 127.0.0.1). Destinations are
checked twice: by name when the request or CONNECT arrives (an IP literal, ``localhost``), and by
address just before the upstream connection, after resolving the name here and pinning the
connection to the address that was checked, so a name that answers a public address first and
127.0.0.1 later (DNS rebinding) gets nowhere. ``proxy.allow_internal`` lets named networks
(CIDR: every port but the service's own) or exact ``HOST:PORT`` pairs through.

Refusal reasons are a bounded set (a metric label): see :data:`REASONS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from filterproxy.model import IPAddress

log = logging.getLogger(__name__)
REASONS = ("loopback", "link_local", "unspecified", "gateway_address", "service_port", "unresolved")
Resolve = Callable[[str, int], Awaitable[list[str]]]
_REFRESH = 30.0  # seconds between re-reading the gateway's own addresses


def local_addresses() -> set[IPAddress]:
    """Every address of this host's interfaces (Linux /proc; elsewhere: what the host name resolves to)."""
    found: set[IPAddress] = set()
    try:
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
        for previous, line in itertools.pairwise(lines):
            if line.strip() == "/32 host LOCAL" and "|--" in previous:
                found.add(ipaddress.ip_address(previous.split("|--")[1].strip()))
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            raw = line.split()[0]
            found.add(ipaddress.ip_address(":".join(raw[i : i + 4] for i in range(0, 32, 4))))
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        with contextlib.suppress(OSError, ValueError):
            found.update(ipaddress.ip_address(a[4][0]) for a in socket.getaddrinfo(socket.gethostname(), None))
    return found


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver, off the loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _parse_allow(entries: Iterable[str]) -> tuple[list[ipaddress.IPv4Network | ipaddress.IPv6Network],
                                                   set[tuple[str, int]]]:  # fmt: skip
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    pairs: set[tuple[str, int]] = set()
    for entry in entries:
        host, sep, port = entry.rpartition(":")
        if sep and port.isdigit() and (not host.count(":") or host.startswith("[")):
            pairs.add((host.strip("[]").lower().rstrip("."), int(port)))
        else:
            networks.append(ipaddress.ip_network(entry, strict=False))
    return networks, pairs


class InternalGuard:
    """Decides whether the proxy may connect to a destination; None means yes, else the reason."""

    def __init__(self, allow: Iterable[str] = (), own_ports: Iterable[int] = (), *,
                 addresses: Callable[[], set[IPAddress]] = local_addresses) -> None:  # fmt: skip
        self.networks, self.pairs = _parse_allow(allow)
        self.own_ports = {p for p in own_ports if p}
        self.resolve: Resolve = system_resolve  # a seam: tests resolve names without the internet
        self._addresses = addresses
        self._local: set[IPAddress] = set()
        self._local_at = float("-inf")

    def check_name(self, host: str, port: int) -> str | None:
        """The early check, when the request arrives: IP literals and ``localhost`` names."""
        name = host.strip("[]").lower().rstrip(".")
        if (name, port) in self.pairs:
            return None
        try:
            return self.check_address(ipaddress.ip_address(name), port)
        except ValueError:
            pass
        if name == "localhost" or name.endswith(".localhost"):
            return "loopback"
        return None

    def check_address(self, address: IPAddress, port: int) -> str | None:
        """The final check, on the address the proxy is about to connect to."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        reason = self._internal(address)
        if reason is None or (str(address), port) in self.pairs:
            return None
        if port in self.own_ports:
            return "service_port"  # the service's own ports: only an exact HOST:PORT entry opens them
        if any(address in net for net in self.networks):
            return None
        return reason

    def _internal(self, address: IPAddress) -> str | None:
        if address.is_loopback:
            return "loopback"
        if address.is_link_local:
            return "link_local"
        if address.is_unspecified:
            return "unspecified"
        if address in self._local_addresses():
            return "gateway_address"
        return None

    def _local_addresses(self) -> set[IPAddress]:
        now = time.monotonic()
        if now - self._local_at > _REFRESH:
            self._local, self._local_at = self._addresses(), now
        return self._local

    async def pin(self, host: str, port: int) -> tuple[str | None, str | None]:
        """Resolve ``host`` and check every address: ``(address to connect to, None)`` or ``(None, reason)``.

        Any internal address among the answers refuses the name: a name that can point inside is not
        to be trusted whichever answer comes first."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            reason = self.check_address(literal, port)
            return (None, reason) if reason else (str(literal), None)
        if (host.lower().rstrip("."), port) in self.pairs:
            return host, None
        try:
            addresses = await self.resolve(host, port)
        except OSError:
            return None, "unresolved"
        if not addresses:
            return None, "unresolved"
        for address in addresses:
            reason = self.check_address(ipaddress.ip_address(address.split("%")[0]), port)
            if reason is not None:
                return None, reason
        return addresses[0], None
