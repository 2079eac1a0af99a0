"""Query types we answer ourselves: zone transfers refused, ANY minimised (RFC 8482), meta types."""

from __future__ import annotations

from dnslib import RD, RR, DNSLabel, EDNSOption

from filterproxy.dns import wire
from filterproxy.dns.answers import DnsAnswers, Maker, rcode_only
from filterproxy.dns.request import Answer, Handler, Reply, Request

AXFR, IXFR, MAILB, MAILA, TKEY, TSIG = 252, 251, 253, 254, 249, 250
T_HINFO = 13
_RCODE_FOR = {
    AXFR: wire.REFUSED,
    IXFR: wire.REFUSED,
    MAILA: wire.NOTIMP,
    MAILB: wire.NOTIMP,
    TKEY: wire.NOTIMP,
    TSIG: wire.FORMERR,
    wire.T_OPT: wire.FORMERR,
    0: wire.FORMERR,
}


def _minimal_any(label: DNSLabel) -> tuple[int, list[RR], list[RR], list[EDNSOption]]:
    """RFC 8482 section 4.2: one synthesised HINFO record instead of everything."""
    return wire.NOERROR, [RR(label, T_HINFO, rdata=RD(b"\x07RFC8482\x00"), ttl=3600)], [], []


class QtypeStage:
    def __init__(self, responder: DnsAnswers) -> None:
        self.responder = responder
        self._makers: dict[int, Maker] = {t: rcode_only(r) for t, r in _RCODE_FOR.items()}

    def __call__(self, req: Request, next: Handler) -> Reply:
        qtype = req.qtype
        if qtype == wire.T_ANY:
            return Answer(self.responder.respond(req, "any", _minimal_any))
        maker = self._makers.get(qtype)
        if maker is not None:
            return Answer(self.responder.respond(req, ("qtype", qtype), maker))
        return next(req)
