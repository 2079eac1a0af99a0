"""DNS answers what content analysis found: after a content finding, the name is blocked over DNS too."""

from __future__ import annotations

import dns.message
import dns.query

from filterproxy.classify.siteverdicts import SiteFinding
from filterproxy.model import Category, Reason
from tests.dns.conftest import Resolver


def addresses(r: Resolver, name: str) -> list[str]:
    answer = dns.query.udp(dns.message.make_query(name, "A"), r.host, port=r.port, timeout=3)
    return [rd.to_text() for rrset in answer.answer for rd in rrset if rrset.rdtype == 1]


def test_a_content_finding_blocks_the_name_over_dns(resolver: Resolver) -> None:
    assert addresses(resolver, "ok.example") == ["192.0.2.1"]  # unlisted: answered from upstream
    assert addresses(resolver, "ok.example") == ["192.0.2.1"]  # now remembered (memo, cache, hot lane)
    finding = SiteFinding(Category.GAMBLING, 420.0, 0.81, ("free spins",), "content/gambling@1", "420 points >= 100")
    resolver.engine.sites.record("ok.example", finding)
    assert addresses(resolver, "ok.example") == ["127.0.0.1"]  # the block page address
    assert addresses(resolver, "www.ok.example") == ["127.0.0.1"]
    [event, *_] = [e for e in resolver.sink.events if e.verdict.host == "ok.example"]
    assert event.verdict.reason is Reason.CONTENT and event.verdict.category is Category.GAMBLING
    assert event.verdict.rule == "420 points >= 100" and event.protocol == "dns"
