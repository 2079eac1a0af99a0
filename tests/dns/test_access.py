"""Client access control, per-client TCP caps, rate limiting and the FORMERR cases, over real sockets."""

from __future__ import annotations

import ipaddress
import socket
import struct
import time
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest
from prometheus_client import CollectorRegistry

from filterproxy.dns.access import ClientAccess, allowed_networks
from tests.dns.conftest import Resolver

OTHER = "127.0.0.2"  # a second loopback source address: another client


def ask(r: Resolver, name: str, source: str = "127.0.0.1", tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, "A")
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, r.host, port=r.port, timeout=3, source=source)  # type: ignore[no-any-return]


def raw_udp(r: Resolver, payload: bytes) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(payload, (r.host, r.port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def raw_tcp(r: Resolver, payload: bytes) -> bytes:
    with socket.create_connection((r.host, r.port), timeout=3) as sock:
        sock.sendall(struct.pack("!H", len(payload)) + payload)
        size = struct.unpack("!H", sock.recv(2))[0]
        data = b""
        while len(data) < size:
            data += sock.recv(size - len(data))
        return data


def test_default_networks_are_loopback_and_the_groups() -> None:
    group = [ipaddress.ip_network("10.10.0.0/16")]
    access = ClientAccess(allowed_networks([], group), CollectorRegistry())
    assert access.allows("127.0.0.1") and access.allows("::1") and access.allows("10.10.3.4")
    assert access.allows("::ffff:10.10.3.4")  # an IPv4 client on a dual-stack socket
    assert not access.allows("10.11.0.1") and not access.allows("192.0.2.7") and not access.allows("2001:db8::1")
    explicit = ClientAccess(allowed_networks([ipaddress.ip_network("192.0.2.0/24")], group), CollectorRegistry())
    assert explicit.allows("192.0.2.7") and not explicit.allows("127.0.0.1")


def test_clients_outside_are_refused_counted_and_never_an_incident(make_resolver: Any) -> None:
    r: Resolver = make_resolver(dns={"allow_networks": ["127.0.0.1/32"]}, block={"dns_answer": "nxdomain"})
    assert ask(r, "bet.example").rcode() == dns.rcode.NXDOMAIN  # inside: blocked as usual
    ask(r, "bet.example")  # and now in the hot lane for 127.0.0.1
    incidents, upstream = len(r.sink.events), r.stub.queries
    for tcp in (False, True):
        reply = ask(r, "bet.example", source=OTHER, tcp=tcp)
        assert reply.rcode() == dns.rcode.REFUSED
        assert reply.question[0].name.to_text() == "bet.example."
    assert ask(r, "ok.example", source=OTHER).rcode() == dns.rcode.REFUSED
    assert len(r.sink.events) == incidents  # a refusal is not an incident
    assert r.metric("filterproxy_dns_refused_clients_total") == 3
    assert r.stub.queries == upstream  # nor does it reach the upstreams
    assert ask(r, "ok.example").rcode() == dns.rcode.NOERROR


def test_one_client_cannot_take_every_tcp_connection(make_resolver: Any) -> None:
    r: Resolver = make_resolver(dns={"tcp_max_connections_per_client": 3})
    held = [socket.create_connection((r.host, r.port), timeout=3) for _ in range(3)]
    try:
        extra = socket.create_connection((r.host, r.port), timeout=3)
        extra.settimeout(3)
        assert extra.recv(1) == b""  # closed at once: the client's fourth connection
        extra.close()
        assert ask(r, "ok.example", source=OTHER, tcp=True).rcode() == dns.rcode.NOERROR  # others still get in
        assert r.metric("filterproxy_dns_tcp_refused_total", reason="per_client") == 1
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the slots come back when the connections close
        try:
            assert ask(r, "ok.example", tcp=True).rcode() == dns.rcode.NOERROR
            break
        except (ConnectionError, EOFError, dns.exception.DNSException):
            time.sleep(0.1)
    else:
        pytest.fail("the client's TCP slots never came back")


def test_rate_limit_drops_answers_over_the_rate_per_client(make_resolver: Any) -> None:
    r: Resolver = make_resolver(dns={"rate_limit": 5})
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        for i in range(30):  # blocked names (chain and hot lane alike) and allowed ones
            query = dns.message.make_query("bet.example" if i % 2 else "ok.example", "A")
            sock.sendto(query.to_wire(), (r.host, r.port))
        try:
            while True:
                sock.recv(65535)
                answered += 1
        except TimeoutError:
            pass
    assert 5 <= answered <= 8  # the burst, and what refilled while the queries were sent
    assert r.metric("filterproxy_dns_rate_limited_total") == 30 - answered
    assert ask(r, "ok.example", source=OTHER).rcode() == dns.rcode.NOERROR  # another client: its own bucket


def _query(name: str = "ok.example", edns: bool = False) -> bytes:
    return dns.message.make_query(name, "A", use_edns=0 if edns else -1).to_wire()  # type: ignore[no-any-return]


def _opt_owned_by(owner: bytes) -> bytes:
    base = bytearray(_query())
    base[10:12] = b"\x00\x01"
    return bytes(base) + owner + b"\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"


@pytest.mark.parametrize(
    "payload",
    [
        _query() + b"\x00garbage",  # trailing bytes after the question
        _query(edns=True) + b"\xff" * 7,  # after the OPT record
        _opt_owned_by(b"\x01a\x00"),  # an OPT record whose owner is not the root
        _query() + b"\x00" * (65000 - len(_query())),  # a 65 KB datagram
    ],
    ids=["trailing", "after-opt", "opt-owner", "65k"],
)
def test_formerr_for_what_rfc_1035_and_6891_reject(resolver: Resolver, payload: bytes) -> None:
    for reply in (raw_udp(resolver, payload), raw_tcp(resolver, payload)):
        assert reply is not None
        message = dns.message.from_wire(reply, question_only=True)
        assert message.rcode() == dns.rcode.FORMERR
        assert message.flags & dns.flags.QR and message.id == struct.unpack("!H", payload[:2])[0]
    assert ask(resolver, "ok.example").rcode() == dns.rcode.NOERROR  # and the resolver serves on
