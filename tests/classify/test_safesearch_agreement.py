"""DNS and HTTP agree on SafeSearch: every host of the provider table, asked of both paths, per group.

The DNS side is the real resolver (``DnsServer``, its whole chain) over a real UDP socket, with a
local stub as the internet; the HTTP side is the real addon's ``requestheaders`` hook on a flow, as
mitmproxy calls it in production. Each answer is reduced to what it enforces (blocked, or which mode:
strict, moderate, none) and both must equal what the group's settings ask for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import pytest
from mitmproxy import http
from mitmproxy.test import taddons, tflow
from prometheus_client import CollectorRegistry

from filterproxy.classify.engine import Engine
from filterproxy.classify.safesearch import Provider, hosts, provider_of
from filterproxy.classify.settings import Group, PolicySettings
from filterproxy.config.block import BlockSettings
from filterproxy.config.model import Config
from filterproxy.dns.server import DnsServer
from filterproxy.http.addon import FilterAddon
from filterproxy.http.decide import Decider
from filterproxy.http.metrics import ProxyMetrics
from filterproxy.http.responder import Responder
from filterproxy.http.settings import ProxySettings
from filterproxy.incidents.event import BlockEvent
from filterproxy.lists.testing import make_engine
from tests.dns.stub import Stub
from tests.support import Loop

# Every combination of the two settings that matter; clients told apart by source address.
GROUPS: dict[str, tuple[str, dict[str, Any]]] = {
    "pupils": ("127.0.0.1", {}),  # the defaults: SafeSearch on, YouTube strict
    "staff": ("127.0.0.2", {"safesearch": False, "youtube": "moderate"}),
    "open": ("127.0.0.3", {"safesearch": False, "youtube": "off"}),
    "mixed": ("127.0.0.4", {"safesearch": True, "youtube": "off"}),
}
NEAR_MISSES = [
    "google.org", "google.net", "google.xyz", "mail.google.com", "google.evil.example", "google.co.xx",
    "notyoutube.com", "studio.youtube.com", "cn.bing.com", "safe.duckduckgo.com", "restrict.youtube.com",
    "forcesafesearch.google.com", "ok.example",
]
Decision = tuple[bool, str | None]  # (blocked, enforced mode or None)


def policy() -> PolicySettings:
    groups: dict[str, Any] = {}
    for name, (address, settings) in GROUPS.items():
        networks = [] if name == "pupils" else [f"{address}/32"]
        groups[name] = {"networks": networks, "categories": {"social": "block"}, **settings}
    return PolicySettings.model_validate({"default_group": "pupils", "groups": groups})


class Paths:
    """One engine, asked through the real resolver and the real addon."""

    def __init__(self, loop: Loop, engine: Engine) -> None:
        self.loop = loop
        self.stub = Stub()
        loop.run(self.stub.start(None))
        config = Config.model_validate(
            {
                "dns": {"listen": "127.0.0.1:0", "upstreams": [f"127.0.0.1:{self.stub.port}"]},
                "block": {"dns_answer": "null"},
                "policy": policy().model_dump(),
            }
        )
        self.server = DnsServer(config, engine, _Sink(), CollectorRegistry())
        loop.run(self.server.start())
        self.host, self.port = self.server.address
        metrics = ProxyMetrics(CollectorRegistry())
        responder = Responder(_Sink(), metrics, BlockSettings())
        self.addon = FilterAddon(Decider(engine, ProxySettings()), responder, metrics)

    def dns(self, host: str, source: str, qtype: str = "A") -> Decision:
        query = dns.message.make_query(host, qtype)
        reply = dns.query.udp(query, self.host, port=self.port, source=source, timeout=5)
        records = [rr for rrset in reply.answer for rr in rrset]
        if any(rr.rdtype == dns.rdatatype.A and rr.address == "0.0.0.0" for rr in records) or any(
            rr.rdtype == dns.rdatatype.AAAA and rr.address == "::" for rr in records
        ):
            return True, None
        cnames = [str(rr.target).rstrip(".").lower() for rr in records if rr.rdtype == dns.rdatatype.CNAME]
        assert len(cnames) <= 1, (host, cnames)
        return False, _mode_of_target(cnames[0], provider_of(host.lower())) if cnames else None

    def http(self, host: str, source: str) -> Decision:
        provider = provider_of(host.lower())
        sample = provider.sample if provider is not None else "/search?q=test"
        flow = tflow.tflow()
        flow.client_conn.peername = (source, 50000)
        flow.request = http.Request.make("GET", f"https://{host}{sample}", b"", [(b"accept", b"text/html")])
        self.addon.requestheaders(flow)
        if flow.response is not None:
            assert flow.response.status_code == 403, host
            return True, None
        header = flow.request.headers.get("YouTube-Restrict")
        changed = flow.request.path != sample
        assert not (header and changed), host  # a provider is enforced by a parameter or by a header
        if changed:
            rule = provider.url if provider is not None else None
            assert rule is not None and f"{rule.param}={rule.value}" in flow.request.path, (host, flow.request.path)
            return False, "strict"
        return False, header.lower() if header else None

    def close(self) -> None:
        self.loop.run(self.server.stop())
        self.loop.run(self.stub.stop())


class _Sink:
    def __init__(self) -> None:
        self.events: list[BlockEvent] = []

    def submit(self, event: BlockEvent) -> None:
        self.events.append(event)


def _mode_of_target(target: str, provider: Provider | None) -> str:
    """The mode a CNAME target stands for, among the asked host's own provider's targets only."""
    modes: list[str] = [mode for mode, host in (provider.cname if provider else {}).items() if host == target]
    return modes[0] if modes else f"target {target} is not this host's provider's"


def expected(provider: Provider | None, group: Group) -> str | None:
    """What the group's settings ask for, read from the settings (not from the table's own lookup)."""
    if provider is None:
        return None
    if provider.name == "youtube":
        return None if group.youtube == "off" else group.youtube
    return "strict" if group.safesearch else None


@pytest.fixture(scope="module")
def paths(loop: Loop) -> Iterator[Paths]:
    running = Paths(loop, make_engine(policy=policy()))
    with taddons.context(running.addon):
        yield running
    running.close()


def test_the_table_is_not_empty() -> None:
    assert len(hosts()) > 350 and {p.name for _, p in hosts()} == {"google", "bing", "duckduckgo", "youtube"}


@pytest.mark.parametrize("group_name", list(GROUPS))
def test_both_paths_enforce_the_same_on_every_provider_host(paths: Paths, group_name: str) -> None:
    source = GROUPS[group_name][0]
    group = policy().groups[group_name]
    disagreements = []
    for host, provider in hosts():
        want: Decision = (False, expected(provider, group))
        got_dns, got_http = paths.dns(host, source), paths.http(host, source)
        if not got_dns == got_http == want:
            disagreements.append((host, want, got_dns, got_http))
    assert disagreements == []


@pytest.mark.parametrize("qtype", ["AAAA", "HTTPS"])
def test_other_query_types_get_the_same_rewrite(paths: Paths, qtype: str) -> None:
    """Browsers ask AAAA and HTTPS too: an unrewritten HTTPS record would be a way round the A rewrite."""
    for group_name in ("pupils", "open"):
        source = GROUPS[group_name][0]
        for host, _ in hosts():
            assert paths.dns(host, source, qtype) == paths.dns(host, source), (host, qtype, group_name)


@pytest.mark.parametrize("host", NEAR_MISSES)
def test_neither_path_touches_near_misses(paths: Paths, host: str) -> None:
    for source, _ in GROUPS.values():
        assert paths.dns(host, source) == paths.http(host, source) == (False, None)


@pytest.mark.parametrize(
    ("asked", "listed"), [("WWW.Google.CO.UK", "www.google.co.uk"), ("M.YouTube.com", "m.youtube.com")]
)
def test_names_are_matched_after_normalisation_on_both_paths(paths: Paths, asked: str, listed: str) -> None:
    for source, _ in GROUPS.values():
        assert paths.dns(asked, source) == paths.http(asked, source) == paths.http(listed, source)


def test_a_denied_provider_host_is_blocked_on_both_paths(loop: Loop) -> None:
    """The name asked is classified on DNS too, not only the enforcing host put in its place."""
    denied = {"social": ["www.bing.com", "lite.duckduckgo.com", "music.youtube.com"]}
    running = Paths(loop, make_engine(local_deny=denied, policy=policy()))
    try:
        with taddons.context(running.addon):
            for host in denied["social"]:
                for source, _ in GROUPS.values():
                    assert running.dns(host, source) == running.http(host, source) == (True, None), (host, source)
            assert running.dns("bing.com", "127.0.0.1") == running.http("bing.com", "127.0.0.1") == (False, "strict")
    finally:
        running.close()


def test_clients_are_where_the_groups_expect() -> None:
    engine = make_engine(policy=policy())
    for name, (address, _) in GROUPS.items():
        assert engine.group_of(ipaddress.ip_address(address)) == name
