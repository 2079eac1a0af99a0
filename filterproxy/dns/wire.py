"""Wire-format helpers for the fast path: a strict question parser and dnslib packing.

The fast path never builds dnslib objects: :func:`parse_query` reads the header, the one
question and an optional OPT record straight from the bytes and refuses (returns ``None``)
anything unusual, which then takes the dnslib path. :func:`pack` is dnslib's own packing with
one change: name compression compares names case-insensitively (RFC 1035 4.1.4 compares
names as names), so a template packed with a lower-case question and then given the client's
question bytes is byte-for-byte what dnslib packs for the client's question.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dnslib import DNSBuffer, DNSLabel, DNSLabelError, DNSRecord

from filterproxy.selftest.marker import DNS_OPTION as PROBE_OPTION

QR = 0x8000
AA = 0x0400
TC = 0x0200
RD = 0x0100
RA = 0x0080
CD = 0x0010
OPCODE_MASK = 0x7800

NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
RCODE_NAMES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

T_A, T_NS, T_CNAME, T_SOA, T_PTR, T_MX, T_TXT, T_AAAA = 1, 2, 5, 6, 12, 15, 16, 28
T_SRV, T_DNAME, T_OPT, T_DS, T_SVCB, T_HTTPS, T_ANY = 33, 39, 41, 43, 64, 65, 255
CLASS_IN = 1

MAX_NAME_WIRE = 255
_HEADER = struct.Struct("!HHHHHH")
LENGTH = struct.Struct("!H")  # the length prefix of a DNS message over a stream
_TYPE_CLASS = struct.Struct("!HH")
_RR_FIXED = struct.Struct("!HHIH")
_NAME_CHARS = re.compile(rb"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


@dataclass(slots=True)
class Question:
    """What the fast path reads from a query packet."""

    id: int
    flags: int
    name: str  # lower-case, no trailing dot; "" is the root
    qtype: int
    qclass: int
    question: bytes  # the question section exactly as the client sent it
    edns: bool
    payload: int  # the client's EDNS UDP payload size (512 without EDNS)
    do: bool  # DNSSEC OK bit
    probe: bytes | None = None  # the self-test probe option's data, if the query carries one
    options: bytes = b""  # the client's EDNS options as sent (the OPT record's RDATA)


def parse_query(data: bytes) -> Question | None:
    """Parse a plain query (one IN question, optional OPT); ``None`` for anything else."""
    if len(data) < 17:
        return None
    ident, flags, qd, an, ns, ar = _HEADER.unpack_from(data)
    if flags & (QR | OPCODE_MASK) or qd != 1 or an or ns or ar > 1:
        return None
    labels, end = _plain_labels(data)
    if end < 0 or end + 4 > len(data):
        return None
    qtype, qclass = _TYPE_CLASS.unpack_from(data, end)
    end += 4
    if qclass != CLASS_IN:
        return None
    payload, do, probe, options = 512, False, None, b""
    if ar:
        opt = _parse_opt(data, end)
        if opt is None:
            return None
        payload, do, probe = opt
        options = data[end + 11 :]
    elif end != len(data):
        return None
    dotted = b".".join(labels)
    if dotted and not _NAME_CHARS.fullmatch(dotted):
        return None
    name = dotted.decode("ascii").lower()
    return Question(ident, flags, name, qtype, qclass, data[12:end], bool(ar), payload, do, probe, options)


def _plain_labels(data: bytes) -> tuple[list[bytes], int]:
    """The labels of the uncompressed name at offset 12 and the offset after it (-1: not one)."""
    labels: list[bytes] = []
    pos, size = 12, len(data)
    while pos < size:
        length = data[pos]
        if length == 0:
            return labels, (pos + 1 if pos - 11 <= MAX_NAME_WIRE else -1)
        if length > 63:
            return labels, -1
        labels.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return labels, -1


def _parse_opt(data: bytes, pos: int) -> tuple[int, bool, bytes | None] | None:
    """Validate a root-owned OPT record (version 0, well-formed options) ending the packet;
    the payload size, the DO bit and the self-test probe option's data (if any)."""
    if pos + 11 > len(data) or data[pos] != 0:
        return None
    rtype, payload, ttl, rdlen = _RR_FIXED.unpack_from(data, pos + 1)
    pos += 11
    if rtype != T_OPT or (ttl >> 16) & 0xFF or pos + rdlen != len(data):
        return None
    probe = None
    while pos < len(data):
        if pos + 4 > len(data):
            return None
        size = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if int.from_bytes(data[pos : pos + 2], "big") == PROBE_OPTION:
            probe = data[pos + 4 : pos + 4 + size]
        pos += 4 + size
    if pos != len(data):
        return None
    return max(payload, 512), bool(ttl & 0x8000), probe


#: EDNS options a client's query may carry to the upstreams (RFC 6891 section 6.1.2): not the
#: hop-by-hop ones (COOKIE 10, TCP keepalive 11, padding 12, chain 13), not client subnet (8:
#: pupils' addresses stay here, and the shared cache holds one answer per name), not EDE (15), and
#: never the self-test's probe token.
HOP_OPTIONS = frozenset({8, 10, 11, 12, 13, 15, PROBE_OPTION})


def forwardable_options(options: bytes) -> bytes:
    """The client's EDNS options that may go upstream, in the order sent."""
    out, pos = [], 0
    while pos + 4 <= len(options):
        code, size = struct.unpack_from("!HH", options, pos)
        if code not in HOP_OPTIONS:
            out.append(options[pos : pos + 4 + size])
        pos += 4 + size
    return b"".join(out)


def lower_question(question: bytes) -> bytes:
    """A question section with its name in lower case (type and class bytes untouched)."""
    return question[:-4].lower() + question[-4:]


def frame(message: bytes) -> bytes:
    """A message with the two-byte length prefix DNS uses over TCP and TLS (RFC 1035 4.2.2, RFC 7858)."""
    return LENGTH.pack(len(message)) + message


def header(ident: int, flags: int, qd: int, an: int, ns: int, ar: int) -> bytes:
    return _HEADER.pack(ident, flags, qd, an, ns, ar)


def opt_record(payload: int, options: bytes = b"", ext_rcode: int = 0) -> bytes:
    """An OPT pseudo-record owned by the root."""
    return b"\x00" + _RR_FIXED.pack(T_OPT, payload, ext_rcode << 24, len(options)) + options


class _FoldingBuffer(DNSBuffer):  # type: ignore[misc]
    """dnslib's buffer, compressing names case-insensitively."""

    def encode_name(self, name: object) -> None:
        label: Any = name if isinstance(name, DNSLabel) else DNSLabel(name)
        if len(label) > 253:
            raise DNSLabelError(f"Domain label too long: {label!r}")
        labels = list(label.label)
        while labels:
            key = tuple(label.lower() for label in labels)
            if key in self.names:
                self.pack("!H", self.names[key] | 0xC000)
                return
            self.names[key] = self.offset
            element = labels.pop(0)
            if len(element) > 63:
                raise DNSLabelError(f"Label component too long: {element!r}")
            self.pack("!B", len(element))
            self.append(element)
        self.append(b"\x00")


def pack(record: DNSRecord) -> bytes:
    """Pack a dnslib record as dnslib does, with case-insensitive name compression."""
    record.set_header_qa()
    buffer = _FoldingBuffer()
    record.header.pack(buffer)
    for section in (record.questions, record.rr, record.auth, record.ar):
        for item in section:
            item.pack(buffer)
    return bytes(buffer.data)


def skip_name(data: bytes, pos: int) -> int:
    """Offset after a possibly compressed name at ``pos``; raises ValueError if malformed."""
    while True:
        if pos >= len(data):
            raise ValueError("name runs past the end")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length > 63:
            raise ValueError("bad label length")
        if length == 0:
            return pos + 1
        pos += 1 + length


def records(data: bytes, pos: int, count: int) -> Iterator[tuple[int, int, int]]:
    """Yield ``(rtype, ttl_offset, end)`` for ``count`` resource records from ``pos``."""
    for _ in range(count):
        pos = skip_name(data, pos)
        if pos + 10 > len(data):
            raise ValueError("record runs past the end")
        rtype, _cls, _ttl, rdlen = _RR_FIXED.unpack_from(data, pos)
        end = pos + 10 + rdlen
        if end > len(data):
            raise ValueError("rdata runs past the end")
        yield rtype, pos + 4, end
        pos = end
