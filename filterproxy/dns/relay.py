"""Upstream answers made cacheable on the wire: no dnslib parse, no repack.

An upstream's reply to our query already has the layout every cached answer needs: header,
our question (the same length as every client's), then its records, whose compression
pointers only point backwards into bytes that stay where they are. :func:`canonical` reads
that reply once: it clamps each TTL in place, drops the OPT record the upstream added (the
last additional record), sets the flags the cache keeps (QR, RA and the RCODE, as
:meth:`UpstreamStage.canonical` does) and collects what later stages need (CNAME/DNAME targets
for the blocking stage's re-check, A/AAAA addresses for gateway steering). The body after the
question becomes the cache :class:`Entry` as it is.

It declines (returns None) what the dnslib path must handle: an answer an answer filter must
change (HTTPS/SVCB with an ``ech`` parameter), an OPT that is not the last record or not
owned by the root, more than one OPT, and anything malformed. The two paths give the same
entry byte for byte whenever the upstream compresses names as dnslib does (tests check it).
"""

from __future__ import annotations

import ipaddress
import struct

from filterproxy.dns import wire
from filterproxy.dns.cache import Entry
from filterproxy.dns.settings import DnsSettings
from filterproxy.model import IPAddress

_TTL = struct.Struct("!I")
_RR = struct.Struct("!HHIH")
_SVCB_TYPES = (wire.T_HTTPS, wire.T_SVCB)
KEY_ECH = 5


def canonical(reply: bytes, qlen: int, settings: DnsSettings, now: float) -> Entry | None:
    """The cache entry for an upstream ``reply`` to a question of ``qlen`` bytes, or None to decline."""
    if len(reply) < 12 + qlen:
        return None
    an, ns, ar = struct.unpack_from("!HHH", reply, 6)
    rcode = reply[3] & 0x0F
    negative = rcode == wire.NXDOMAIN or an == 0
    high = settings.cache_negative_ttl if negative else settings.cache_max_ttl
    low = settings.cache_min_ttl
    start = 12 + qlen
    body = bytearray(reply[start:])
    offsets: list[int] = []
    ttls: list[int] = []
    aliases: list[str] = []
    addresses: list[IPAddress] = []
    lifetime: float = high if not negative else -1
    soa_lifetime = -1
    end_of_records = start
    opt = False
    try:
        for index, (rtype, ttl_at, end) in enumerate(wire.records(reply, start, an + ns + ar)):
            if rtype == wire.T_OPT:
                if index != an + ns + ar - 1 or ttl_at - 5 != end_of_records or reply[end_of_records] != 0:
                    return None  # not the last record, or not owned by the root
                if end != len(reply):
                    return None
                opt = True
                break
            end_of_records = end
            ttl = min(max(_TTL.unpack_from(reply, ttl_at)[0], low), high)
            _TTL.pack_into(body, ttl_at - start, ttl)
            offsets.append(ttl_at - start)
            ttls.append(ttl)
            rdata = ttl_at + 6
            if index < an:
                if not negative:
                    lifetime = min(lifetime, ttl)
                if rtype in (wire.T_CNAME, wire.T_DNAME):
                    aliases.append(read_name(reply, rdata))
                elif rtype == wire.T_A and end - rdata == 4:
                    addresses.append(ipaddress.IPv4Address(reply[rdata:end]))
                elif rtype == wire.T_AAAA and end - rdata == 16:
                    addresses.append(ipaddress.IPv6Address(reply[rdata:end]))
                elif rtype in _SVCB_TYPES and has_ech(reply, rdata, end):
                    return None  # the ECH filter must rewrite it: the dnslib path does
            elif index < an + ns:
                if not negative:
                    lifetime = min(lifetime, ttl)
                elif rtype == wire.T_SOA and end - rdata >= 22:
                    minimum = _TTL.unpack_from(reply, end - 4)[0]
                    soa_lifetime = min(ttl, minimum) if soa_lifetime < 0 else min(soa_lifetime, ttl, minimum)
                if rtype in _SVCB_TYPES and has_ech(reply, rdata, end):
                    return None
            elif rtype in _SVCB_TYPES and has_ech(reply, rdata, end):
                return None
        if not opt and end_of_records != len(reply):
            return None  # trailing bytes after the last record
    except (ValueError, IndexError):
        return None
    kept_ar = ar - 1 if opt else ar
    del body[end_of_records - start :]
    if negative:
        lifetime = soa_lifetime if soa_lifetime >= 0 else min(high, 60)
    flags = 0x8000 | wire.RA | rcode
    counts = struct.pack("!HHHH", 1, an, ns, kept_ar)
    return Entry(
        flags,
        counts,
        bytes(body),
        tuple(offsets),
        tuple(ttls),
        now,
        int(lifetime),
        tuple(aliases),
        tuple(addresses),
        (0, bytes(body)),
    )


def read_name(data: bytes, pos: int) -> str:
    """The (possibly compressed) name at ``pos``, lower case, no trailing dot; ValueError if malformed."""
    labels: list[bytes] = []
    jumps = 0
    while True:
        if pos >= len(data):
            raise ValueError("name runs past the end")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            jumps += 1
            if jumps > 32 or pos + 1 >= len(data):
                raise ValueError("compression loop")
            pos = ((length & 0x3F) << 8) | data[pos + 1]
            continue
        if length > 63:
            raise ValueError("bad label length")
        if length == 0:
            return b".".join(labels).decode("latin-1").lower()
        labels.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length


def has_ech(data: bytes, pos: int, end: int) -> bool:
    """Whether the SVCB/HTTPS rdata in ``data[pos:end]`` carries an ``ech`` SvcParam (RFC 9460)."""
    pos += 2  # SvcPriority
    pos = wire.skip_name(data, pos)
    while pos + 4 <= end:
        key = int.from_bytes(data[pos : pos + 2], "big")
        if key == KEY_ECH:
            return True
        pos += 4 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return False
