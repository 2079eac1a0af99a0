"""The last stage: forward to the upstream pool and turn the reply into a cacheable entry.

The query carries the client's question (in lower case) and the EDNS options that may leave
the school (:func:`wire.forwardable_options`). The reply becomes a cacheable entry on the wire
(:mod:`filterproxy.dns.relay`: TTLs clamped in place, the upstream's OPT dropped, no parse or
repack); what the wire path declines (an ECH parameter to strip, odd OPT placement, anything
malformed) is parsed with dnslib, reduced to the same canonical form (lower-case question, no
OPT, TTLs clamped, answer filters applied) and packed. Either way the entry is the template
every client gets, from this answer and from the cache.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Sequence

from dnslib import DNSError, DNSHeader, DNSQuestion, DNSRecord

from filterproxy.dns import relay, wire
from filterproxy.dns.answers import question_label, servfail
from filterproxy.dns.cache import Entry
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.request import Answer, Handler, Pending, Reply, Request
from filterproxy.dns.settings import DnsSettings
from filterproxy.dns.upstream import UpstreamPool
from filterproxy.errors import UpstreamError
from filterproxy.model import IPAddress

Filter = Callable[[DNSRecord], object]


class UpstreamStage:
    def __init__(
        self,
        pool: UpstreamPool,
        settings: DnsSettings,
        filters: Sequence[Filter] = (),
        metrics: DnsMetrics | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.filters = tuple(filters)
        self.metrics = metrics
        self.pending = 0  # queries waiting on the upstreams now
        self.overloaded = 0  # misses answered SERVFAIL because too many were waiting

    def __call__(self, req: Request, next: Handler) -> Reply:
        if self.pending >= self.settings.max_pending:  # a flood of misses must not grow memory without bound
            self.overloaded += 1
            if self.metrics is not None:  # rare (only under a flood), so a locked prometheus Counter is fine
                self.metrics.upstream_overloaded.inc()
            return Answer(servfail(req, self.settings.edns_payload), failed=True, source="error")
        self.pending += 1
        pending = Pending()
        question = wire.lower_question(req.q.question)
        self.pool.ask(
            question, wire.forwardable_options(req.q.options), lambda reply: self._answered(req, pending, reply)
        )
        return pending

    def _answered(self, req: Request, pending: Pending, reply: bytes | UpstreamError) -> None:
        self.pending -= 1
        try:
            pending.settle(self.answer(req, reply))
        except Exception as exc:  # a bug here must still answer the client (SERVFAIL, counted)
            pending.settle(exc)

    def answer(self, req: Request, reply: bytes | UpstreamError) -> Answer:
        """The client's answer from the upstream's reply: on the wire when it can, else via dnslib."""
        settings = self.settings
        if isinstance(reply, UpstreamError):
            return Answer(servfail(req, settings.edns_payload), failed=True, source="error")
        now = time.monotonic()
        entry = relay.canonical(reply, len(req.q.question), settings, now) if settings.fast_path else None
        if entry is None:  # declined by the wire path (or fast_path off): dnslib parses and repacks
            try:
                entry = self.canonical(req, DNSRecord.parse(reply))
            except DNSError:
                return Answer(servfail(req, settings.edns_payload), failed=True, source="error")
        wire_ = entry.render(req.q, now, settings.edns_payload, fast=settings.fast_path)
        return Answer(wire_, entry.aliases, entry, source="upstream")

    def canonical(self, req: Request, record: DNSRecord) -> Entry:
        for apply in self.filters:
            apply(record)
        lifetime = self._clamp_ttls(record)
        rcode = record.header.rcode
        out = DNSRecord(
            DNSHeader(id=0, bitmap=0x8000 | wire.RA | rcode),
            q=DNSQuestion(question_label(req.q, lower=True), req.q.qtype, req.q.qclass),
        )
        out.rr, out.auth = record.rr, record.auth
        out.ar = [rr for rr in record.ar if rr.rtype != wire.T_OPT]
        packed = wire.pack(out)
        return Entry.from_wire(
            packed, len(req.q.question), lifetime, aliases(record), time.monotonic(), addresses(record)
        )

    def _clamp_ttls(self, record: DNSRecord) -> int:
        """Clamp every TTL to the configured bounds; return how long the answer may be cached."""
        s = self.settings
        negative = record.header.rcode == wire.NXDOMAIN or not record.rr
        high = s.cache_negative_ttl if negative else s.cache_max_ttl
        for rr in [*record.rr, *record.auth, *record.ar]:
            if rr.rtype != wire.T_OPT:
                rr.ttl = min(max(rr.ttl, s.cache_min_ttl), high)
        if negative:
            soa = [rr for rr in record.auth if rr.rtype == wire.T_SOA]
            return int(min((min(rr.ttl, rr.rdata.times[4]) for rr in soa), default=min(high, 60)))
        return int(min(rr.ttl for rr in [*record.rr, *record.auth] if rr.rtype != wire.T_OPT))


def aliases(record: DNSRecord) -> tuple[str, ...]:
    """CNAME and DNAME targets in the answer, normalised, for the blocking stage to re-check."""
    return tuple(
        str(rr.rdata.label).rstrip(".").lower() for rr in record.rr if rr.rtype in (wire.T_CNAME, wire.T_DNAME)
    )


def addresses(record: DNSRecord) -> tuple[IPAddress, ...]:
    return tuple(ipaddress.ip_address(str(rr.rdata)) for rr in record.rr if rr.rtype in (wire.T_A, wire.T_AAAA))
