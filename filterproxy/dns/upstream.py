"""Forwarding to the configured upstreams: failover in order, health, TCP on truncation, DoT.

Healthy upstreams are tried first, in configured order; one that failed is tried again only
after ``upstream_retry_after`` seconds unless nothing else is left. The whole resolution is
bounded by ``resolve_timeout`` so a client gets stale data or SERVFAIL in time.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from pathlib import Path

from filterproxy.dns import wire
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.settings import DnsSettings, parse_upstream
from filterproxy.dns.transport import StreamTransport, UdpTransport
from filterproxy.errors import UpstreamError

log = logging.getLogger(__name__)


def make_query(question: bytes, payload: int, options: bytes = b"") -> bytes:
    """The query for a (lower-case) question: RD set, EDNS(0) with our payload size and the
    client's forwardable options (:func:`wire.forwardable_options`), ID 0 (each send sets one)."""
    return wire.header(0, wire.RD, 1, 0, 0, 1) + question + wire.opt_record(payload, options)


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Upstream:
    """One configured upstream and its health."""

    def __init__(self, spec: str, settings: DnsSettings, metrics: DnsMetrics) -> None:
        scheme, host, port, name = parse_upstream(spec)
        self.spec = spec
        self.tcp = StreamTransport(host, port)
        self.tls = scheme == "tls"
        self.primary: UdpTransport | StreamTransport
        if scheme == "udp":
            self.primary = UdpTransport(host, port)
        elif scheme == "tcp":
            self.primary = self.tcp
        else:
            self.primary = StreamTransport(host, port, tls_context(settings.tls_ca_file), name or host)
        self.failures = 0
        self.retry_at = 0.0
        self._retry_after = settings.upstream_retry_after
        self._errors = metrics.upstream_errors.labels(spec)
        self._up = metrics.upstream_up.labels(spec)
        self._duration = metrics.upstream_duration.labels(spec)
        self._up.set(1)

    async def exchange(self, question: bytes, query: bytes, timeout: float) -> bytes:
        """One answer from this upstream; over TCP again if the UDP answer was truncated."""
        started = time.perf_counter()
        try:
            reply = await self.primary.query(question, query, timeout)
            if reply[2] & (wire.TC >> 8) and isinstance(self.primary, UdpTransport):
                reply = await self.tcp.query(question, query, timeout)
            if reply[3] & 0x0F in (wire.SERVFAIL, wire.REFUSED, wire.NOTIMP):
                raise UpstreamError(f"answered {wire.RCODE_NAMES[reply[3] & 0x0F]}")
        except UpstreamError:
            self._failed()
            raise
        self._duration.observe(time.perf_counter() - started)
        self.failures = 0
        self._up.set(1)
        return reply

    def _failed(self) -> None:
        self.failures += 1
        self.retry_at = time.monotonic() + self._retry_after
        self._errors.inc()
        self._up.set(0)

    async def close(self) -> None:
        await self.primary.close()
        await self.tcp.close()


class UpstreamPool:
    """All upstreams; :meth:`resolve` returns the first good answer or raises UpstreamError."""

    def __init__(self, settings: DnsSettings, metrics: DnsMetrics) -> None:
        self.upstreams = [Upstream(spec, settings, metrics) for spec in settings.upstreams]
        self.attempt_timeout = settings.upstream_timeout
        self.total_timeout = settings.resolve_timeout
        self.payload = settings.edns_payload

    def order(self) -> list[Upstream]:
        now = time.monotonic()
        return sorted(self.upstreams, key=lambda u: u.retry_at > now)  # stable: config order within each

    async def resolve(self, question: bytes, options: bytes = b"") -> bytes:
        """The first good answer to ``question`` (lower case), asked with the given EDNS options."""
        query = make_query(question, self.payload, options)
        deadline = time.monotonic() + self.total_timeout
        last: UpstreamError = UpstreamError("no upstream configured")
        for upstream in self.order():
            left = deadline - time.monotonic()
            if left <= 0.005:
                break
            try:
                return await upstream.exchange(question, query, min(self.attempt_timeout, left))
            except UpstreamError as exc:
                log.debug("upstream %s failed: %s", upstream.spec, exc)
                last = exc
        raise last

    async def close(self) -> None:
        await asyncio.gather(*(u.close() for u in self.upstreams), return_exceptions=True)
