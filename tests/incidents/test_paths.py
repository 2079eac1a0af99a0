"""Blocks through the real DNS resolver and the real proxy become incidents with every field."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import dns.message
import dns.query
import pytest
from prometheus_client import CollectorRegistry

from filterproxy.config.model import Config
from filterproxy.incidents.model import IncidentFilter
from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.incidents.store import IncidentStore
from filterproxy.lists.testing import make_engine
from tests.support import Loop

from .conftest import open_store

T = TypeVar("T")


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


def queue_for(tmp_path: Path, registry: CollectorRegistry, window: float = 600.0) -> IncidentQueue:
    settings = IncidentSettings(store=f"sqlite:{tmp_path / 'incidents.db'}", flush_interval=0.05, dedup_window=window)
    return IncidentQueue(settings, tmp_path, registry, node="n1")


def reader(tmp_path: Path) -> IncidentStore:
    return open_store(f"sqlite:{tmp_path / 'incidents.db'}", tmp_path)


def test_dns_blocks_become_one_incident_with_every_reference(loop: Loop, tmp_path: Path) -> None:
    from filterproxy.dns.server import DnsServer
    from tests.dns.stub import Stub

    stub = Stub()
    loop.run(stub.start(None))
    config = Config.model_validate(
        {"data_dir": str(tmp_path), "dns": {"listen": "127.0.0.1:0", "upstreams": [f"127.0.0.1:{stub.port}"]}}
    )
    registry = CollectorRegistry()
    queue = queue_for(tmp_path, registry)
    server = DnsServer(config, make_engine(deny={"gambling": ["bet.example"]}), queue, registry)
    loop.run(queue.start())
    loop.run(server.start())
    try:
        host, port = server.address
        for qtype in ("A", "A", "AAAA"):
            reply = dns.query.udp(dns.message.make_query("www.bet.example", qtype), host, port=port, timeout=5)
            assert reply.answer or reply.rcode() or reply.authority  # answered (blocked), not dropped
        ok = dns.query.udp(dns.message.make_query("ok.example", "A"), host, port=port, timeout=5)
        assert ok.answer
    finally:
        loop.run(server.stop())
        loop.run(queue.stop())
        loop.run(stub.stop())
    store = reader(tmp_path)
    (listed,) = store.query(IncidentFilter())
    incident = store.get(listed.id)
    assert (incident.client, incident.group, incident.protocol, incident.qtype) == (
        "127.0.0.1",
        "pupils",
        "dns",
        "A",
    )
    assert (incident.host, incident.site, incident.category, incident.verdict) == (
        "www.bet.example",
        "bet.example",
        "gambling",
        "block",
    )
    assert incident.rule == "bet.example" and incident.source
    assert incident.count == 3 and len(incident.references) == 3
    for reference in incident.references:
        assert store.by_reference(reference).id == incident.id


def test_proxy_block_page_reference_finds_its_incident(loop: Loop, tmp_path: Path) -> None:
    from filterproxy.http.server import ProxyServer

    config = Config.model_validate({"data_dir": str(tmp_path)})
    registry = CollectorRegistry()
    queue = queue_for(tmp_path, registry, window=0)
    engine = make_engine(deny={"gambling": ["bet.example"]})
    server = ProxyServer(config, engine, queue, registry, listen="127.0.0.1:0")
    loop.run(queue.start())
    loop.run(server.start())
    proxy = f"http://127.0.0.1:{server.port}"
    try:
        result = curl("-i", "-x", proxy, "-A", "Pupil Browser/1.0", "-H", "Accept: text/html",
                      "http://www.bet.example/casino?game=1")  # fmt: skip
        curl("-x", proxy, "https://www.bet.example/")  # refused at CONNECT: an https incident without a page
    finally:
        loop.run(server.stop())
        loop.run(queue.stop())
    assert result.stdout.startswith("HTTP/1.1 403"), result.stderr
    reference = next(
        line.split(": ", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.lower().startswith("x-filterproxy-reference")
    )
    incident = reader(tmp_path).by_reference(reference)
    assert (incident.protocol, incident.method, incident.user_agent) == ("http", "GET", "Pupil Browser/1.0")
    assert incident.url == "http://www.bet.example/casino?game=1"
    assert (incident.client, incident.site, incident.category) == ("127.0.0.1", "bet.example", "gambling")
    assert incident.reference == reference and incident.severity == "low"
    (tls,) = [i for i in reader(tmp_path).query(IncidentFilter()) if i.id != incident.id]  # window 0: no folding
    assert (tls.protocol, tls.method, tls.site, tls.category) == ("https", "CONNECT", "bet.example", "gambling")
    assert tls.url is not None and tls.url.startswith("https://") and tls.reference != reference


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    """curl that never picks up proxy settings from the environment."""
    command = ["curl", "-sS", "--noproxy", "", "--max-time", "15", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=20, env={"PATH": "/usr/bin:/bin"})
