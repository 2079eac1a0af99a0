"""The wire fast path gives byte-for-byte what the dnslib path gives; stages tested with a recording next."""

from __future__ import annotations

import ipaddress

import dns.message
import pytest
from dnslib import DNSRecord
from prometheus_client import CollectorRegistry

from filterproxy.config.block import BlockSettings
from filterproxy.dns.answers import DnsAnswers, block_maker
from filterproxy.dns.cache import Entry
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.request import Answer, Request
from filterproxy.dns.stages.blocking import BlockingStage
from filterproxy.dns.stages.bypass import BypassStage
from filterproxy.dns.wire import Question, pack, parse_query
from tests.dns.conftest import engine_for_tests
from tests.dns.stub import answer as stub_answer

CLIENT = ipaddress.ip_address("127.0.0.1")


def request(name: str, rdtype: str = "A", edns: int = -1) -> Request:
    q = parse_query(dns.message.make_query(name, rdtype, use_edns=edns).to_wire())
    assert q is not None
    return Request(q, CLIENT, "udp")


class Recorder:
    """A ``next`` that records what reached it and answers with a fixed answer."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, req: Request) -> Answer:
        self.seen.append(req.name)
        return Answer(b"\x00" * 12, source="upstream")


@pytest.mark.parametrize("mode", ["nxdomain", "nodata", "null", "blockpage"])
@pytest.mark.parametrize("rdtype", ["A", "AAAA", "HTTPS"])
@pytest.mark.parametrize("edns", [-1, 0])
def test_block_template_equals_dnslib(mode: str, rdtype: str, edns: int) -> None:
    settings = BlockSettings(dns_answer=mode, blockpage_ipv6="2001:db8::b")  # type: ignore[arg-type]
    verdict = engine_for_tests().classify(_query("bet.example"))
    fast = DnsAnswers(1232, fast=True)
    for name in ("bet.example", "BeT.Example", "www.bet.example", "WWW.BET.EXAMPLE"):
        req = request(name, rdtype, edns)
        key, maker = block_maker(settings, req.qtype, verdict)
        got = fast.respond(req, key, maker)
        assert got == DnsAnswers(1232, fast=False).dnslib(req.q, maker)
        assert dns.message.from_wire(got).question[0].name.to_text() == name + "."


@pytest.mark.parametrize(
    "name,rdtype",
    [
        ("ok.example", "A"),
        ("alias.example", "A"),
        ("ech.example", "HTTPS"),
        ("nothing.example", "A"),
        ("ok.example", "TXT"),
    ],
)
@pytest.mark.parametrize("age", [0, 7])
def test_cache_template_equals_dnslib(name: str, rdtype: str, age: int) -> None:
    upstream = DNSRecord.parse(stub_answer(dns.message.make_query(name, rdtype).to_wire(), tcp=False))
    upstream.header.id, upstream.header.bitmap = 0, 0x8080 | upstream.header.rcode
    canonical = pack(upstream)
    q0 = parse_query(dns.message.make_query(name, rdtype).to_wire())
    assert q0 is not None
    entry = Entry.from_wire(canonical, len(q0.question), 300, (), now=100.0)
    for client_name in (name, name.upper(), name.title()):
        for edns in (-1, 0):
            q = request(client_name, rdtype, edns).q
            assert entry.render(q, 100.0 + age, 1232) == _dnslib_render(canonical, q, age)


def _dnslib_render(canonical: bytes, q: Question, age: int) -> bytes:
    """The dnslib path: a fresh entry from the same canonical answer, rendered by dnslib."""
    return Entry.from_wire(canonical, len(q.question), 300, (), now=100.0).render(q, 100.0 + age, 1232, fast=False)


def _query(name: str) -> object:
    from datetime import UTC, datetime

    from filterproxy.model import Query

    return Query(CLIENT, name, datetime.now(UTC))


def test_blocking_stage_stops_blocked_and_passes_allowed() -> None:
    stage = BlockingStage(engine_for_tests(), BlockSettings(), DnsAnswers(1232), DnsMetrics(CollectorRegistry()))
    nxt = Recorder()
    blocked = request("sub.bet.example")
    answer = stage(blocked, nxt)
    assert isinstance(answer, Answer) and answer.source == "block" and blocked.verdict is not None
    assert nxt.seen == []
    allowed = stage(request("ok.example"), nxt)
    assert isinstance(allowed, Answer) and allowed.source == "upstream" and nxt.seen == ["ok.example"]


def test_blocking_stage_rechecks_cname_targets() -> None:
    stage = BlockingStage(engine_for_tests(), BlockSettings(), DnsAnswers(1232), DnsMetrics(CollectorRegistry()))

    def via_alias(req: Request) -> Answer:
        return Answer(b"\x00" * 12, aliases=("hop.example", "bet.example"), source="upstream")

    answer = stage(request("alias.example"), via_alias)
    assert isinstance(answer, Answer) and answer.source == "block"


def test_bypass_stage_answers_canaries_itself() -> None:
    stage = BypassStage(DnsAnswers(1232), 60)
    nxt = Recorder()
    for name in ("use-application-dns.net", "mask.icloud.com", "_dns.resolver.arpa", "ok.example"):
        stage(request(name), nxt)
    assert nxt.seen == ["ok.example"]


def test_parse_query_refuses_the_unusual() -> None:
    plain = dns.message.make_query("ok.example", "A").to_wire()
    assert parse_query(plain) is not None
    assert parse_query(plain + b"\x00") is None  # trailing bytes
    assert parse_query(plain[:-1]) is None  # truncated
    assert parse_query(dns.message.make_query("o k.example", "A").to_wire()) is None  # odd character
    assert parse_query(dns.message.make_query("ok.example", "A", use_edns=1).to_wire()) is None  # EDNS v1
