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
from filterproxy.dns.transport import Done, StreamTransport, UdpTransport
from filterproxy.errors import UpstreamError


class Truncated(UpstreamError):
    """The UDP answer had TC set: the same upstream is asked again, over TCP."""


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

    def start(self, question: bytes, query: bytes, timeout: float, done: Done) -> bool:
        """Ask over UDP without a coroutine; ``done`` gets a good reply or an UpstreamError
        (``Truncated`` when the answer must be fetched over TCP). False: not a UDP upstream."""
        primary = self.primary
        if not isinstance(primary, UdpTransport):
            return False
        started = time.perf_counter()

        def finished(reply: bytes | UpstreamError) -> None:
            if isinstance(reply, bytes):
                if reply[2] & (wire.TC >> 8):
                    done(Truncated("truncated: ask again over TCP"))
                    return
                if reply[3] & 0x0F in (wire.SERVFAIL, wire.REFUSED, wire.NOTIMP):
                    reply = UpstreamError(f"answered {wire.RCODE_NAMES[reply[3] & 0x0F]}")
            if isinstance(reply, UpstreamError):
                self._failed()
                done(reply)
                return
            self._duration.observe(time.perf_counter() - started)
            if self.failures:
                self.failures = 0
                self._up.set(1)  # only on the change: a gauge's lock costs a microsecond per miss
            done(reply)

        primary.start(question, query, timeout, finished)
        return True

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
        self._tasks: set[asyncio.Task[bytes]] = set()

    def order(self) -> list[Upstream]:
        now = time.monotonic()
        if all(u.retry_at <= now for u in self.upstreams):
            return self.upstreams  # all healthy (the usual case): config order, no sort
        return sorted(self.upstreams, key=lambda u: u.retry_at > now)  # stable: config order within each

    def ask(self, question: bytes, options: bytes, done: Done) -> None:
        """:meth:`resolve` without a coroutine while it can: the first upstream in order is asked
        over UDP from here, and only what that cannot settle (a timeout or error: the others are
        tried; truncation: TCP) continues as a task running :meth:`resolve`."""
        query = make_query(question, self.payload, options)
        deadline = time.monotonic() + self.total_timeout
        first = self.order()[0] if self.upstreams else None

        def after_first(result: bytes | UpstreamError) -> None:
            if isinstance(result, bytes):
                done(result)
                return
            skip = None if isinstance(result, Truncated) else first
            task = asyncio.get_running_loop().create_task(self.resolve(question, options, deadline, skip, result))
            self._tasks.add(task)
            task.add_done_callback(lambda t: self._settled(t, done))

        timeout = min(self.attempt_timeout, self.total_timeout)
        if first is None or not first.start(question, query, timeout, after_first):
            task = asyncio.get_running_loop().create_task(self.resolve(question, options, deadline))
            self._tasks.add(task)
            task.add_done_callback(lambda t: self._settled(t, done))

    def _settled(self, task: asyncio.Task[bytes], done: Done) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            done(UpstreamError("cancelled"))
            return
        exc = task.exception()
        if exc is None:
            done(task.result())
        elif isinstance(exc, UpstreamError):
            done(exc)
        else:
            done(UpstreamError(f"failed: {exc!r}"))

    async def resolve(
        self,
        question: bytes,
        options: bytes = b"",
        deadline: float | None = None,
        skip: Upstream | None = None,
        last: UpstreamError | None = None,
    ) -> bytes:
        """The first good answer to ``question`` (lower case), asked with the given EDNS options,
        by ``deadline`` (monotonic; default: ``resolve_timeout`` from now), ``skip`` not asked again."""
        query = make_query(question, self.payload, options)
        if deadline is None:
            deadline = time.monotonic() + self.total_timeout
        if last is None:
            last = UpstreamError("no upstream configured")
        for upstream in self.order():
            if upstream is skip:
                continue
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
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(u.close() for u in self.upstreams), return_exceptions=True)
