"""Who may use the resolver, and how fast: client networks and per-client response rate limits.

:class:`ClientAccess` answers "may this client ask?" from ``dns.allow_networks`` (default:
loopback plus every group's networks), remembering each address's answer in a bounded map.
Clients outside get REFUSED, counted in ``filterproxy_dns_refused_clients_total``; a refusal is
never an incident (nobody at the school asked).

:class:`RateLimiter` is a token bucket per client address (``dns.rate_limit`` responses per
second, a second's worth of burst): a client over its rate gets no answer over UDP (counted in
``filterproxy_dns_rate_limited_total``), which keeps the resolver from being a reflector for
spoofed sources. TCP is not limited: a TCP client has shown it owns its address. When on, it
wraps the hot lane (:class:`LimitedQuick`), so every UDP answer is charged exactly once.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry

from filterproxy.dns import wire
from filterproxy.dns.udp import Quick
from filterproxy.metrics.registry import counter
from filterproxy.model import IPAddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
REMEMBERED = 65536  # client addresses whose answer is kept (oldest out)


def allowed_networks(configured: Sequence[Network], group_networks: Iterable[Network]) -> tuple[Network, ...]:
    """What ``dns.allow_networks`` means: the configured list, else loopback plus the groups' networks."""
    if configured:
        return tuple(configured)
    return (*LOOPBACK, *group_networks)


class ClientAccess:
    def __init__(self, networks: Sequence[Network], registry: CollectorRegistry) -> None:
        self.networks = tuple(networks)
        self._known: OrderedDict[str, bool] = OrderedDict()
        self.refused = counter(
            registry,
            "filterproxy_dns_refused_clients_total",
            "Queries answered REFUSED because the client is outside dns.allow_networks.",
        )

    def allows(self, host: str) -> bool:
        """Whether the client at ``host`` (an address as the socket gives it) may ask."""
        found = self._known.get(host)
        if found is None:
            found = self.covers(ipaddress.ip_address(host.partition("%")[0]))
            if len(self._known) >= REMEMBERED:
                self._known.popitem(last=False)
            self._known[host] = found
        return found

    def covers(self, client: IPAddress) -> bool:
        mapped = getattr(client, "ipv4_mapped", None)  # ::ffff:10.0.0.1 is 10.0.0.1
        address = mapped if mapped is not None else client
        return any(address in network for network in self.networks if network.version == address.version)

    def refusal(self, data: bytes, payload: int) -> bytes | None:
        """REFUSED for a query from outside (its question echoed when it parses); None: drop it."""
        self.refused.inc()
        q = wire.parse_query(data)
        if q is None:
            if len(data) < 12 or data[2] & 0x80:
                return None  # a response, or no header: never answer it
            flags = 0x8000 | (int.from_bytes(data[2:4], "big") & (wire.OPCODE_MASK | wire.RD)) | wire.REFUSED
            return data[:2] + flags.to_bytes(2, "big") + bytes(8)
        flags = 0x8000 | (q.flags & (wire.RD | wire.CD)) | wire.REFUSED
        tail = wire.opt_record(payload) if q.edns else b""
        return wire.header(q.id, flags, 1, 0, 0, 1 if q.edns else 0) + q.question + tail


class RateLimiter:
    """A token bucket per client address: ``rate`` answers per second, ``rate`` at most in a burst."""

    def __init__(self, rate: float, registry: CollectorRegistry) -> None:
        self.rate = rate
        self.burst = max(rate, 1.0)
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()
        self.limited = counter(
            registry,
            "filterproxy_dns_rate_limited_total",
            "UDP queries left unanswered because their client was over dns.rate_limit.",
        )

    def allow(self, host: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(host)
        if bucket is None:
            if len(self._buckets) >= REMEMBERED:
                self._buckets.popitem(last=False)
            bucket = self._buckets[host] = [self.burst, now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            self.limited.inc()
            return False
        bucket[0] = tokens - 1.0
        return True


class LimitedQuick:
    """The UDP socket's first look at each datagram when rate limiting is on: charge the client,
    drop it when over (an empty reply means "send nothing"), else ask the hot lane if there is one."""

    def __init__(self, limiter: RateLimiter, lane: Quick | None) -> None:
        self.limiter = limiter
        self.lane = lane

    def answer(self, data: bytes, host: str, now: float) -> bytes | None:
        if not self.limiter.allow(host):
            return b""
        return self.lane.answer(data, host, now) if self.lane is not None else None

    def answered(self, now: float) -> None:
        if self.lane is not None:
            self.lane.answered(now)
