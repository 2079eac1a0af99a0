"""The SafeSearch stage alone, with a recording ``next``: which names it substitutes, and the answer it composes."""

from __future__ import annotations

import ipaddress

import pytest
from dnslib import QTYPE, RR, A, DNSRecord

from filterproxy.classify.safesearch import hosts, mode_for
from filterproxy.classify.settings import PolicySettings
from filterproxy.dns.answers import DnsAnswers
from filterproxy.dns.request import Answer, Request
from filterproxy.dns.stages.safesearch import CNAME_TTL, SafeSearchStage
from filterproxy.dns.wire import parse_query
from filterproxy.lists.testing import make_engine
from filterproxy.model import IPAddress

STAFF = ipaddress.ip_address("192.0.2.20")
PUPIL = ipaddress.ip_address("192.0.2.10")
POLICY = PolicySettings.model_validate(
    {
        "default_group": "pupils",
        "groups": {
            "pupils": {},
            "staff": {"networks": ["192.0.2.20/32"], "safesearch": False, "youtube": "moderate"},
        },
    }
)


class Recorder:
    """The rest of the chain: records the names asked and answers each with one A record."""

    def __init__(self) -> None:
        self.asked: list[Request] = []

    def __call__(self, req: Request) -> Answer:
        self.asked.append(req)
        record = DNSRecord.question(req.name, QTYPE[req.qtype])
        reply = record.reply()
        reply.add_answer(RR(req.name, QTYPE.A, rdata=A("198.51.100.7"), ttl=42))
        return Answer(bytes(reply.pack()), ("alias.example",), source="upstream")


def request(name: str, client: IPAddress = PUPIL) -> Request:
    q = parse_query(bytes(DNSRecord.question(name, "A").pack()))
    assert q is not None
    return Request(q, client, "udp")


@pytest.fixture
def stage() -> SafeSearchStage:
    return SafeSearchStage(make_engine(policy=POLICY), DnsAnswers(1232))


def test_a_provider_host_is_answered_with_a_cname_and_the_targets_records(stage: SafeSearchStage) -> None:
    recorder = Recorder()
    req = request("www.google.co.uk")
    req.lane_left = float("inf")  # as the blocking stage leaves it
    answer = stage(req, recorder)
    assert isinstance(answer, Answer)
    assert [r.name for r in recorder.asked] == ["forcesafesearch.google.com"]
    assert recorder.asked[0].client == PUPIL
    reply = DNSRecord.parse(answer.wire)
    assert str(reply.q.qname) == "www.google.co.uk."
    assert [(str(rr.rname), QTYPE[rr.rtype], str(rr.rdata), rr.ttl) for rr in reply.rr] == [
        ("www.google.co.uk.", "CNAME", "forcesafesearch.google.com.", CNAME_TTL),
        ("forcesafesearch.google.com.", "A", "198.51.100.7", 42),
    ]
    assert answer.aliases == ("forcesafesearch.google.com", "alias.example")  # re-checked by blocking
    assert answer.source == "upstream" and req.lane_left == 0.0  # never replayed by the hot lane


@pytest.mark.parametrize("name", ["ok.example", "google.org", "mail.google.com", "restrict.youtube.com"])
def test_other_names_pass_through_untouched(stage: SafeSearchStage, name: str) -> None:
    recorder = Recorder()
    req = request(name)
    assert stage(req, recorder) is not None
    assert recorder.asked == [req]


def test_the_group_setting_decides(stage: SafeSearchStage) -> None:
    recorder = Recorder()
    for name in ("www.bing.com", "www.youtube.com"):
        stage(request(name, STAFF), recorder)
    assert [r.name for r in recorder.asked] == ["www.bing.com", "restrictmoderate.youtube.com"]


def test_every_table_host_per_group(stage: SafeSearchStage) -> None:
    """The stage substitutes exactly the table's target for each host and group."""
    for client in (PUPIL, STAFF):
        group = POLICY.groups["pupils" if client == PUPIL else "staff"]
        for host, provider in hosts():
            recorder = Recorder()
            stage(request(host, client), recorder)
            mode = mode_for(provider, group)
            expected = host if mode is None else provider.cname[mode]
            assert [r.name for r in recorder.asked] == [expected], (host, client)
