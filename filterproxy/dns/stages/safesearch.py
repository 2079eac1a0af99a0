"""SafeSearch and YouTube restricted mode, per client group, by answering a CNAME to the
provider's enforcing host plus that host's own addresses (the method Google, Microsoft and
DuckDuckGo document for networks).

Which hosts and which enforcing host is the provider table's (:mod:`filterproxy.classify.safesearch`),
the same table the proxy applies as URL parameters and headers; this stage only answers."""

from __future__ import annotations

from dnslib import DNSRecord

from filterproxy.classify.safesearch import mode_for, provider_of
from filterproxy.dns.answers import DnsAnswers, cname_maker
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Handler, Reply, Request, then

CNAME_TTL = 300


def encode_question(name: str, qtype: int, qclass: int) -> bytes:
    labels = b"".join(len(p).to_bytes(1, "big") + p.encode("ascii") for p in name.split(".") if p)
    return labels + b"\x00" + qtype.to_bytes(2, "big") + qclass.to_bytes(2, "big")


class SafeSearchStage:
    def __init__(self, engine: EngineLike, responder: DnsAnswers) -> None:
        self.engine = engine
        self.responder = responder

    def __call__(self, req: Request, next: Handler) -> Reply:
        provider = provider_of(req.name)  # the provider table the HTTP path applies too
        if provider is None:
            return next(req)
        who = req.identity
        name = self.engine.group_of(req.client) if who is None else self.engine.group_for(req.client, who.directory)
        mode = mode_for(provider, self.engine.current.policy.group(name))
        if mode is None:
            return next(req)
        target = provider.cname[mode]
        req.lane_left = 0.0  # composed per group from another name's answer: never replayed by the hot lane
        sub = req.derive(target, encode_question(target, req.qtype, req.q.qclass))
        return then(next(sub), lambda answer: self._compose(req, target, answer))

    def _compose(self, req: Request, target: str, answer: Answer) -> Answer:
        record = DNSRecord.parse(answer.wire)
        auth = [] if record.rr else record.auth
        maker = cname_maker(target, CNAME_TTL, record.rr, record.header.rcode, auth)
        wire_ = self.responder.dnslib(req.q, maker)
        return Answer(wire_, (target, *answer.aliases), answer.entry, answer.failed, answer.source)
