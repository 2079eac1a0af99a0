"""Answers filterproxy makes itself: blocks, bypass refusals and errors.

Each answer is described once, as dnslib records (:data:`Maker`), and packed by dnslib the first
time. With the fast path on, the packed bytes for a lower-case copy of the question become a
template: later answers of the same kind and question length are the template with the
client's ID, flags and question spliced in (names in the template point at the question or at
offsets that only move with its length, so nothing else changes).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace

from dnslib import (
    AAAA,
    CNAME,
    EDNS0,
    RR,
    SOA,
    A,
    DNSBuffer,
    DNSHeader,
    DNSLabel,
    DNSQuestion,
    DNSRecord,
    EDNSOption,
)

from filterproxy.config.block import BlockSettings
from filterproxy.dns import wire
from filterproxy.dns.request import Request
from filterproxy.dns.wire import Question
from filterproxy.model import Reason, Verdict

#: Builds (rcode, answer RRs, authority RRs, EDNS options) for a question name.
Maker = Callable[[DNSLabel], tuple[int, list[RR], list[RR], list[EDNSOption]]]

#: RFC 8914 section 4: 15 Blocked is the operator's own policy (the school runs this resolver and
#: decides its categories and deny list); 16 Censored is a requirement of someone else (the
#: IWF/CTIRU-style illegal feeds the law and the provider impose). 17 Filtered means filtering the
#: client asked for, which pupils never did, so it is not used. See docs/dns.md.
EDE_BLOCKED = 15
EDE_CENSORED = 16
SOA_MNAME = "filterproxy.invalid"


def question_label(q: Question, lower: bool = False) -> DNSLabel:
    """The question name in the client's own case (or lower case)."""
    return DNSBuffer(wire.lower_question(q.question) if lower else q.question).decode_name()


class DnsAnswers:
    """Packs local answers with dnslib, and from templates once a kind has been seen."""

    def __init__(self, payload: int, fast: bool = True, limit: int = 4096) -> None:
        self.payload = payload
        self.fast = fast
        self._templates: dict[Hashable, tuple[int, bytes, bytes]] = {}
        self._limit = limit

    def respond(self, req: Request, key: Hashable, make: Maker) -> bytes:
        q = req.q
        if not self.fast:
            return self.dnslib(q, make)
        template = self._templates.get((key, q.edns, len(q.question)))
        if template is None:
            template = self._learn(q, make)
            if len(self._templates) < self._limit:
                self._templates[(key, q.edns, len(q.question))] = template
        flags, counts, rest = template
        return wire.header(q.id, flags | (q.flags & (wire.RD | wire.CD)), 0, 0, 0, 0)[:4] + counts + q.question + rest

    def dnslib(self, q: Question, make: Maker) -> bytes:
        """The reference: the whole answer built and packed by dnslib."""
        label = question_label(q)
        rcode, answer, auth, options = make(label)
        flags = 0x8000 | wire.RA | (q.flags & (wire.RD | wire.CD)) | rcode
        record = DNSRecord(DNSHeader(id=q.id, bitmap=flags), q=DNSQuestion(label, q.qtype, q.qclass))
        record.rr, record.auth = list(answer), list(auth)
        if q.edns:
            record.add_ar(EDNS0(udp_len=self.payload, opts=list(options)))
        return wire.pack(record)

    def _learn(self, q: Question, make: Maker) -> tuple[int, bytes, bytes]:
        canonical = replace(q, id=0, flags=0, question=wire.lower_question(q.question))
        packed = self.dnslib(canonical, make)
        flags = int.from_bytes(packed[2:4], "big")
        return flags, packed[4:12], packed[12 + len(q.question) :]


def rcode_only(rcode: int) -> Maker:
    """NXDOMAIN, NODATA (NOERROR, empty), REFUSED... with nothing in the sections."""
    return lambda _label: (rcode, [], [], [])


def negative(rcode: int, ttl: int, options: list[EDNSOption] | None = None) -> Maker:
    """NXDOMAIN or NODATA with an SOA in the authority section, for negative caching (RFC 2308)."""

    def make(label: DNSLabel) -> tuple[int, list[RR], list[RR], list[EDNSOption]]:
        soa = SOA(SOA_MNAME, f"hostmaster.{SOA_MNAME}", (1, 3600, 600, 86400, ttl))
        return rcode, [], [RR(label, wire.T_SOA, rdata=soa, ttl=ttl)], list(options or [])

    return make


def ede_for(verdict: Verdict) -> EDNSOption:
    """EDE 16 (Censored) for illegal content, 15 (Blocked) for every other block (the school's policy)."""
    code = EDE_CENSORED if verdict.reason is Reason.ILLEGAL else EDE_BLOCKED
    return EDNSOption(15, code.to_bytes(2, "big") + verdict.what.encode())


def block_maker(settings: BlockSettings, qtype: int, verdict: Verdict) -> tuple[Hashable, Maker]:
    """The block answer per ``config.block`` and its template key."""
    ede = ede_for(verdict)
    key = ("block", settings.dns_answer, qtype, ede.data)
    mode, ttl = settings.dns_answer, settings.ttl
    if mode == "nxdomain":
        return key, negative(wire.NXDOMAIN, ttl, [ede])
    address: A | AAAA | None = None
    if qtype == wire.T_A:
        address = A("0.0.0.0" if mode == "null" else str(settings.blockpage_ipv4))
    elif qtype == wire.T_AAAA and mode == "null":
        address = AAAA("::")
    elif qtype == wire.T_AAAA and mode == "blockpage" and settings.blockpage_ipv6 is not None:
        address = AAAA(str(settings.blockpage_ipv6))
    if mode == "nodata" or address is None:
        return key, negative(wire.NOERROR, ttl, [ede])
    rdata = address

    def make(label: DNSLabel) -> tuple[int, list[RR], list[RR], list[EDNSOption]]:
        return wire.NOERROR, [RR(label, qtype, rdata=rdata, ttl=ttl)], [], [ede]

    return key, make


def cname_maker(target: str, ttl: int, rest: list[RR], rcode: int, auth: list[RR]) -> Maker:
    """A CNAME to ``target`` followed by the target's own records (SafeSearch)."""

    def make(label: DNSLabel) -> tuple[int, list[RR], list[RR], list[EDNSOption]]:
        return rcode, [RR(label, wire.T_CNAME, rdata=CNAME(target), ttl=ttl), *rest], auth, []

    return make


def error_wire(data: bytes, rcode: int, payload: int) -> bytes | None:
    """A header-only error (FORMERR, NOTIMP) for a packet we could not use; None means drop.

    RFC 1035 4.1.1: answer what has a readable header and is a query; never answer a response
    (that would let two servers bounce errors at each other).
    """
    if len(data) < 12 or data[2] & 0x80:
        return None
    flags = 0x8000 | (int.from_bytes(data[2:4], "big") & (wire.OPCODE_MASK | wire.RD)) | rcode
    return wire.header(int.from_bytes(data[0:2], "big"), flags, 0, 0, 0, 0)


def servfail(req: Request, payload: int) -> bytes:
    """SERVFAIL echoing the question: what a failing stage or upstream gives the client."""
    q = req.q
    tail = wire.opt_record(payload) if q.edns else b""
    return wire.header(q.id, req.reply_flags(wire.SERVFAIL), 1, 0, 0, 1 if q.edns else 0) + q.question + tail
