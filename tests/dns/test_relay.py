"""The wire miss path (relay.canonical) gives the entry the dnslib path gives, byte for byte;
it declines what only dnslib handles; forwarded queries carry only the options that may leave."""

from __future__ import annotations

import ipaddress
import struct

import dns.edns
import dns.flags
import dns.message
import dns.rdatatype
import pytest
from dnslib import DNSRecord

from filterproxy.dns import relay, wire
from filterproxy.dns.cache import Entry
from filterproxy.dns.request import Request
from filterproxy.dns.settings import DnsSettings
from filterproxy.dns.stages.bypass import strip_ech
from filterproxy.dns.stages.upstream import UpstreamStage
from filterproxy.dns.upstream import make_query
from filterproxy.dns.wire import parse_query
from tests.dns.stub import answer as stub_answer

CLIENT = ipaddress.ip_address("127.0.0.1")
SETTINGS = DnsSettings(upstreams=["127.0.0.1:53"], cache_min_ttl=5, cache_max_ttl=200, cache_negative_ttl=90)


def request(name: str, rdtype: str, edns: int = 0) -> Request:
    q = parse_query(dns.message.make_query(name, rdtype, use_edns=edns).to_wire())
    assert q is not None
    return Request(q, CLIENT, "udp")


def upstream_reply(req: Request, with_opt: bool = True) -> bytes:
    """What the stub upstream answers to the query the resolver sends for ``req``."""
    query = make_query(wire.lower_question(req.q.question), 1232)
    reply = stub_answer(b"\x12\x34" + query[2:], tcp=True)
    assert reply is not None
    if with_opt:  # upstreams answer EDNS with an OPT of their own, last in the message
        reply = reply[:10] + struct.pack("!H", struct.unpack_from("!H", reply, 10)[0] + 1) + reply[12:]
        reply += wire.opt_record(4096, b"\x00\x03\x00\x04nsid")
    return reply


def dnslib_entry(req: Request, reply: bytes) -> Entry:
    stage = UpstreamStage(None, SETTINGS, filters=[strip_ech])  # type: ignore[arg-type]
    return stage.canonical(req, DNSRecord.parse(reply))


FIELDS = ("flags", "counts", "body", "ttl_offsets", "ttls", "lifetime", "aliases", "addresses")


@pytest.mark.parametrize(
    "name,rdtype",
    [
        ("ok.example", "A"),
        ("Ok.EXAMPLE", "AAAA"),
        ("alias.example", "A"),  # CNAME chain to a blocked name: aliases for the re-check
        ("clean-alias.example", "A"),
        ("nothing.example", "A"),  # NXDOMAIN with SOA: negative lifetime from the SOA
        ("ok.example", "MX"),  # NODATA
        ("short.example", "A"),  # TTL 1 raised to cache_min_ttl
        ("big.example", "TXT"),
        ("www.google.com", "A"),
    ],
)
@pytest.mark.parametrize("with_opt", [True, False])
def test_wire_entry_equals_dnslib(name: str, rdtype: str, with_opt: bool) -> None:
    req = request(name, rdtype)
    reply = upstream_reply(req, with_opt)
    fast = relay.canonical(reply, len(req.q.question), SETTINGS, 100.0)
    assert fast is not None
    reference = dnslib_entry(req, reply)
    for field in FIELDS:
        assert getattr(fast, field) == getattr(reference, field), field
    for client in (request(name, rdtype, -1), request(name.upper(), rdtype, 0)):
        for age in (0, 3):
            fast.stored = reference.stored = 100.0
            assert fast.render(client.q, 100.0 + age, 1232) == reference.render(client.q, 100.0 + age, 1232, fast=False)


def test_ech_is_left_to_dnslib() -> None:
    req = request("ech.example", "HTTPS")
    reply = upstream_reply(req)
    assert relay.canonical(reply, len(req.q.question), SETTINGS, 100.0) is None
    rendered = dns.message.from_wire(dnslib_entry(req, reply).render(req.q, 100.0, 1232))
    params = rendered.answer[0][0].params
    assert 5 not in params and 1 in params  # ech gone, alpn kept


@pytest.mark.parametrize(
    "mangle",
    [
        lambda r: r + b"\x00",  # trailing garbage
        lambda r: r[:-3],  # record cut short
        lambda r: r[:10] + b"\x00\x05" + r[12:],  # more additional records than there are
    ],
)
def test_malformed_is_declined(mangle: object) -> None:
    req = request("ok.example", "A")
    reply = mangle(upstream_reply(req))  # type: ignore[operator]
    assert relay.canonical(reply, len(req.q.question), SETTINGS, 100.0) is None


def test_opt_not_last_is_declined() -> None:
    req = request("ok.example", "A", -1)
    reply = upstream_reply(req, with_opt=False)
    # an OPT first, then an A record in the additional section
    opt = wire.opt_record(4096)
    extra = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x07"
    reply = reply[:10] + b"\x00\x02" + reply[12:] + opt + extra
    assert relay.canonical(reply, len(req.q.question), SETTINGS, 100.0) is None


def test_forwarded_options_drop_hop_by_hop_and_subnet() -> None:
    options = [
        dns.edns.GenericOption(10, b"\x01" * 8),  # cookie
        dns.edns.GenericOption(3, b""),  # NSID
        dns.edns.ECSOption("192.0.2.0", 24),
        dns.edns.GenericOption(12, b"\x00" * 4),  # padding
    ]
    query = dns.message.make_query("ok.example", "A", use_edns=0, options=options)
    q = parse_query(query.to_wire())
    assert q is not None
    forwarded = wire.forwardable_options(q.options)
    assert forwarded == b"\x00\x03\x00\x00"
    sent = dns.message.from_wire(make_query(wire.lower_question(q.question), 1232, forwarded))
    assert [o.otype for o in sent.options] == [dns.edns.NSID]
    assert sent.payload == 1232 and not sent.flags & dns.flags.CD
    assert dns.rdatatype.to_text(sent.question[0].rdtype) == "A"
