"""DNS and HTTP give the same verdict for a name only the model categorises (real resolver, real proxy)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dns.message
import dns.query
import pytest
from prometheus_client import CollectorRegistry

from filterproxy.categorise.judge import NameJudge
from filterproxy.categorise.metrics import register_model_metrics
from filterproxy.categorise.scorer import HostModel
from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.dns.server import DnsServer
from filterproxy.lists.testing import make_engine
from filterproxy.model import Action, Query, Reason
from tests.dns.conftest import ListSink
from tests.dns.stub import Stub
from tests.http.conftest import RunningProxy, curl, make_config, origin, pki, policy_for_tests
from tests.support import Loop

__all__ = ["origin", "pki"]  # fixtures used from the proxy tests

MODEL_ONLY = ("freexxxp0rnclips.example", "royal-casino-jackpot-spins.example")


@pytest.fixture(scope="module")
def engine(shipped: HostModel) -> Engine:
    return make_engine({"gambling": ["bet.example"]}, policy=policy_for_tests(), judge=NameJudge(shipped))


@pytest.fixture(scope="module")
def resolver(engine: Engine) -> Iterator[tuple[DnsServer, ListSink]]:
    loop = Loop()
    stub = Stub()
    loop.run(stub.start(None))
    config = Config.model_validate({"dns": {"listen": "127.0.0.1:0", "upstreams": [f"127.0.0.1:{stub.port}"]},
                                    "policy": policy_for_tests().model_dump()})
    sink = ListSink()
    server = DnsServer(config, engine, sink, CollectorRegistry())
    loop.run(server.start())
    yield server, sink
    loop.run(server.stop())
    loop.run(stub.stop())
    loop.close()


@pytest.fixture(scope="module")
def proxy(engine: Engine, origin: object, pki: tuple[Path, ...],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProxy]:
    config = make_config(tmp_path_factory.mktemp("data"))
    running = RunningProxy(config, engine, origin, options={"ssl_verify_upstream_trusted_ca": str(pki[0])})  # type: ignore[arg-type]
    yield running
    running.close()


def ask(server: DnsServer, name: str) -> list[str]:
    host, port = server.address
    msg = dns.query.udp(dns.message.make_query(name, "A"), host, port=port, timeout=5)
    return [rd.to_text() for rrset in msg.answer for rd in rrset if rrset.rdtype == 1]


@pytest.mark.parametrize("name", MODEL_ONLY)
def test_dns_and_http_block_a_model_categorised_name_alike(
    resolver: tuple[DnsServer, ListSink], proxy: RunningProxy, name: str
) -> None:
    server, dns_sink = resolver
    assert ask(server, name) == ["127.0.0.1"]  # the block page address
    dns_verdict = dns_sink.events[-1].verdict
    assert (dns_verdict.reason, dns_verdict.action) == (Reason.MODEL, Action.BLOCK)
    result = curl("-i", "-x", proxy.url, f"http://{name}/page")
    assert result.stdout.startswith("HTTP/1.1 403")
    assert f"X-Filterproxy-Category: {dns_verdict.category}" in result.stdout
    http_verdict = proxy.sink.events[-1].verdict
    assert http_verdict == dns_verdict  # same action, category, score, evidence, source and rule
    page = curl("-H", "Accept: text/html", "-x", proxy.url, f"http://{name}/").stdout
    assert "categorised automatically" in page and "ask for a review" in page


def test_an_unlisted_benign_name_passes_both_paths(resolver: tuple[DnsServer, ListSink], proxy: RunningProxy) -> None:
    server, _ = resolver
    assert ask(server, "ok.example") != ["127.0.0.1"]
    assert curl("-i", "-x", proxy.url, "http://ok.example/").stdout.startswith("HTTP/1.1 200")


def test_model_verdicts_are_counted_per_category_and_action(engine: Engine) -> None:
    registry = CollectorRegistry()
    register_model_metrics(registry, engine)
    engine.current.classify(Query(ipaddress.ip_address("127.0.0.1"), "hotxxxpornvids.example", datetime.now(UTC)))
    assert (registry.get_sample_value("filterproxy_model_verdicts_total", {"category": "adult", "action": "block"})
            or 0) >= 1
    assert (registry.get_sample_value("filterproxy_model_scored_total") or 0) >= 1
    assert (registry.get_sample_value("filterproxy_model_cached_names") or 0) >= 1
