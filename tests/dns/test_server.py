"""The resolver end to end: real sockets on 127.0.0.1, dnspython as the client, a stub upstream."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from tests.dns.conftest import Resolver


def ask(
    r: Resolver, name: str, rdtype: str = "A", *, tcp: bool = False, source: str = "127.0.0.1", use_edns: int = 0
) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, use_edns=use_edns)
    if tcp:
        return dns.query.tcp(query, r.host, port=r.port, timeout=3, source=source)
    return dns.query.udp(query, r.host, port=r.port, timeout=3, source=source)


def addresses(msg: dns.message.Message) -> list[str]:
    return [rd.to_text() for rrset in msg.answer for rd in rrset if rrset.rdtype in (1, 28)]


def test_allowed_name_is_answered_from_upstream(resolver: Resolver) -> None:
    msg = ask(resolver, "ok.example")
    assert msg.rcode() == dns.rcode.NOERROR
    assert addresses(msg) == ["192.0.2.1"]
    assert msg.flags & dns.flags.RA and msg.flags & dns.flags.RD


def test_blocked_name_gets_the_block_page_and_an_incident(resolver: Resolver) -> None:
    msg = ask(resolver, "bet.example", use_edns=0)
    assert addresses(msg) == ["127.0.0.1"]  # config.block default: blockpage at 127.0.0.1
    ede = [o for o in msg.options if o.otype == dns.edns.EDE]
    assert ede and ede[0].code == 15 and ede[0].text == "gambling"  # the school's policy: Blocked
    [event] = resolver.sink.events
    assert (event.protocol, event.qtype, event.client, event.verdict.host) == ("dns", "A", "127.0.0.1", "bet.example")
    assert resolver.stub.queries == 0  # a block never reaches the upstream
    assert resolver.metric("filterproxy_dns_blocks_total", category="gambling", group="pupils") == 1


def test_ede_says_whose_rule_blocked(resolver: Resolver) -> None:
    """RFC 8914: 15 Blocked for the school's own policy (lists, deny list), 16 Censored for illegal content."""
    def ede(name: str) -> tuple[int, str]:
        [option] = [o for o in ask(resolver, name, use_edns=0).options if o.otype == dns.edns.EDE]
        return option.code, option.text

    assert ede("www.bet.example") == (15, "gambling")
    assert ede("x.example") == (15, "adult")  # the school's deny list
    assert ede("abuse.example") == (16, "illegal")


def test_subdomain_of_a_blocked_name_is_blocked(resolver: Resolver) -> None:
    assert addresses(ask(resolver, "Sub.BET.example")) == ["127.0.0.1"]


def test_nxdomain_mode_has_soa_for_negative_caching(make_resolver: object) -> None:
    r = make_resolver(block={"dns_answer": "nxdomain", "ttl": 42})  # type: ignore[operator]
    msg = ask(r, "bet.example")
    assert msg.rcode() == dns.rcode.NXDOMAIN
    [soa] = msg.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa.ttl == 42 and soa[0].minimum == 42


def test_cname_chain_to_a_blocked_name_is_blocked(resolver: Resolver) -> None:
    msg = ask(resolver, "alias.example")
    assert addresses(msg) == ["127.0.0.1"]
    assert resolver.sink.events[0].verdict.host == "bet.example"
    clean = ask(resolver, "clean-alias.example")
    assert addresses(clean) == ["192.0.2.1"]


def test_cached_answer_is_served_without_upstream_and_echoes_case(resolver: Resolver) -> None:
    ask(resolver, "ok.example")
    before = resolver.stub.queries
    msg = ask(resolver, "OK.Example")
    assert resolver.stub.queries == before
    assert msg.question[0].name.to_text() == "OK.Example."
    assert addresses(msg) == ["192.0.2.1"]
    assert resolver.metric("filterproxy_dns_cache_hits_total") == 1


def test_log_only_category_answers_normally_but_records(resolver: Resolver) -> None:
    msg = ask(resolver, "chat.example")
    assert msg.rcode() == dns.rcode.NXDOMAIN  # the stub does not know it: upstream's answer, not a block
    [event] = resolver.sink.events
    assert event.verdict.action.value == "log"


def test_safesearch_per_group(resolver: Resolver) -> None:
    pupil = ask(resolver, "www.google.co.uk")
    assert [rr.to_text().split()[-1] for rr in pupil.answer if rr.rdtype == 5] == ["forcesafesearch.google.com."]
    assert addresses(pupil) == ["216.239.38.120"]
    staff = ask(resolver, "www.google.co.uk", source="127.0.0.2")
    assert addresses(staff) == ["142.250.1.2"]  # staff group: safesearch off
    yt_staff = ask(resolver, "www.youtube.com", source="127.0.0.2")
    assert addresses(yt_staff) == ["216.239.38.119"]  # restrictmoderate for staff
    assert addresses(ask(resolver, "www.youtube.com")) == ["216.239.38.120"]  # strict for pupils


def test_bypass_canaries(resolver: Resolver) -> None:
    for name in ("use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com"):
        assert ask(resolver, name).rcode() == dns.rcode.NXDOMAIN
    ddr = ask(resolver, "_dns.resolver.arpa", "SVCB")
    assert ddr.rcode() == dns.rcode.NOERROR and not ddr.answer
    assert resolver.stub.queries == 0


def test_ech_is_stripped_from_https_records(resolver: Resolver) -> None:
    for _ in range(2):  # from upstream, then from the cache
        msg = ask(resolver, "ech.example", "HTTPS")
        [rrset] = msg.answer
        text = rrset[0].to_text()
        assert "ech" not in text and "alpn" in text and "ipv4hint" in text


def test_tcp_and_pipelining(resolver: Resolver) -> None:
    assert addresses(ask(resolver, "ok.example", tcp=True)) == ["192.0.2.1"]
    import socket
    import struct

    with socket.create_connection((resolver.host, resolver.port), timeout=3) as sock:
        names = ["ok.example", "bet.example", "www.ok.example"]
        for i, name in enumerate(names):
            wire = dns.message.make_query(name, "A", id=100 + i).to_wire()
            sock.sendall(struct.pack("!H", len(wire)) + wire)
        got = {}
        for _ in names:
            size = struct.unpack("!H", _recv(sock, 2))[0]
            msg = dns.message.from_wire(_recv(sock, size))
            got[msg.id] = addresses(msg)
    assert got == {100: ["192.0.2.1"], 101: ["127.0.0.1"], 102: ["192.0.2.2"]}


def _recv(sock: object, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))  # type: ignore[attr-defined]
        assert chunk
        data += chunk
    return data


def test_truncation_and_tcp_fallback(resolver: Resolver) -> None:
    udp = ask(resolver, "big.example", "TXT")  # upstream truncates over UDP; we fetch it over TCP
    assert udp.flags & dns.flags.TC and not udp.answer  # too big for a 512-byte client
    tcp = ask(resolver, "big.example", "TXT", tcp=True)
    assert len(tcp.answer[0]) == 1 and len(tcp.to_wire()) > 1232


def test_any_is_minimised_and_axfr_refused(resolver: Resolver) -> None:
    msg = ask(resolver, "ok.example", "ANY")
    assert msg.answer[0].rdtype == dns.rdatatype.HINFO
    assert ask(resolver, "ok.example", "AXFR", tcp=True).rcode() == dns.rcode.REFUSED


def test_identical_misses_in_flight_cost_one_upstream_query(resolver: Resolver) -> None:
    import socket

    queries = [dns.message.make_query("www.ok.example", "A") for _ in range(20)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        for query in queries:
            sock.sendto(query.to_wire(), (resolver.host, resolver.port))
        replies = [dns.message.from_wire(sock.recv(4096)) for _ in queries]
    assert sorted(r.id for r in replies) == sorted(q.id for q in queries)
    assert all(addresses(r) == ["192.0.2.2"] for r in replies)
    assert resolver.stub.queries == 1
