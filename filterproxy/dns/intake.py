"""Turning a packet into a :class:`Question`: the fast parser first, dnslib for anything unusual.

What cannot be a query gets what RFC 1035 (and RFC 6891 for EDNS) says: FORMERR for a
malformed query, NOTIMP for an opcode or class we do not serve, BADVERS for an EDNS version
we do not speak, and silence for responses and packets too short to have a header.
"""

from __future__ import annotations

from dnslib import DNSBuffer, DNSError, DNSRecord

from filterproxy.dns import wire
from filterproxy.dns.answers import error_wire
from filterproxy.dns.wire import Question, parse_query
from filterproxy.selftest.marker import DNS_OPTION as PROBE_OPTION

BADVERS_EXT = 1  # extended RCODE 16 = (1 << 4) | 0


MAX_QUERY = 4096  # bytes: one question and an OPT fit many times over; a larger "query" is not one


def intake(data: bytes, payload: int) -> Question | bytes | None:
    """A question to answer, error bytes to send back, or None to drop the packet."""
    q = parse_query(data)
    if q is not None:
        return q
    if len(data) > MAX_QUERY or not _ends_where_it_should(data):
        # RFC 1035 4.1: a message is its sections and nothing more; dnslib would ignore the rest
        return error_wire(data, wire.FORMERR, payload)
    try:
        record = DNSRecord.parse(data)
    except (DNSError, ValueError, IndexError, UnicodeError):
        return error_wire(data, wire.FORMERR, payload)
    return _unusual(data, record, payload)


def _ends_where_it_should(data: bytes) -> bool:
    """Whether the sections the header counts end exactly at the end of the packet."""
    if len(data) < 12:
        return True  # too short for a header: dropped or answered by the checks that follow
    qd, an, ns, ar = (int.from_bytes(data[i : i + 2], "big") for i in (4, 6, 8, 10))
    try:
        pos = 12
        for _ in range(qd):
            pos = wire.skip_name(data, pos) + 4
        for _rtype, _ttl_at, end in wire.records(data, pos, an + ns + ar):
            pos = end
    except ValueError:
        return True  # malformed inside: dnslib's parse says FORMERR
    return pos == len(data)


def _unusual(data: bytes, record: DNSRecord, payload: int) -> Question | bytes | None:
    head = record.header
    if head.qr:
        return None
    if head.opcode != 0:
        return error_wire(data, wire.NOTIMP, payload)
    if len(record.questions) != 1 or record.rr or record.auth:
        return error_wire(data, wire.FORMERR, payload)
    question = record.questions[0]
    if question.qclass != wire.CLASS_IN:
        return error_wire(data, wire.NOTIMP, payload)
    opts = [rr for rr in record.ar if rr.rtype == wire.T_OPT]
    if len(opts) > 1 or (opts and opts[0].rname.label):
        return error_wire(data, wire.FORMERR, payload)  # RFC 6891 6.1.1: one OPT, owned by the root
    if opts and (opts[0].ttl >> 16) & 0xFF:
        return _badvers(data, payload)
    buffer = DNSBuffer()
    try:
        buffer.encode_name_nocompress(question.qname)
    except Exception:  # dnslib raises several types for names it cannot encode
        return error_wire(data, wire.FORMERR, payload)
    encoded = bytes(buffer.data) + question.qtype.to_bytes(2, "big") + question.qclass.to_bytes(2, "big")
    name = ".".join(label.decode("latin-1") for label in question.qname.label).lower()
    opt_payload = max(opts[0].rclass, 512) if opts else 512
    do = bool(opts and opts[0].ttl & 0x8000)
    probe = next((bytes(o.data) for o in (opts[0].rdata if opts else []) if o.code == PROBE_OPTION), None)
    return Question(
        head.id,
        int.from_bytes(data[2:4], "big"),
        name,
        question.qtype,
        question.qclass,
        encoded,
        bool(opts),
        opt_payload,
        do,
        probe,
    )


def _badvers(data: bytes, payload: int) -> bytes:
    flags = 0x8000 | (int.from_bytes(data[2:4], "big") & wire.RD)
    return wire.header(int.from_bytes(data[0:2], "big"), flags, 0, 0, 0, 1) + wire.opt_record(payload, b"", BADVERS_EXT)


def truncate(q: Question, answer: bytes, payload: int) -> bytes:
    """The answer as it must go over UDP: whole if it fits, else header and question with TC set."""
    limit = max(512, min(q.payload, payload)) if q.edns else 512
    if len(answer) <= limit:
        return answer
    flags = int.from_bytes(answer[2:4], "big") | wire.TC
    tail = wire.opt_record(payload) if q.edns else b""
    return wire.header(q.id, flags, 1, 0, 0, 1 if q.edns else 0) + q.question + tail
