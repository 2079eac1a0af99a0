"""The self-test through the proxy as well as the resolver (mitmproxy really running)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from filterproxy.incidents.model import IncidentFilter
from filterproxy.incidents.store import open_store
from filterproxy.model import Category
from filterproxy.selftest.marker import HTTP_HEADER
from filterproxy.selftest.runner import run_group
from filterproxy.selftest.settings import Probe, SelftestSettings
from tests.selftest.service import Loop, Service
from tests.selftest.test_selftest_record import recorded_hosts
from tests.support import free_port

SEEN_HEADERS: list[str] = []  # header names the origin received


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN_HEADERS.extend(k.lower() for k in self.headers)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def service(loop: Loop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(
        loop, tmp_path_factory.mktemp("proxy") / "var", {"FILTERPROXY__PROXY__ENABLED": "true"}, proxy=True
    )
    yield running
    running.close()


def test_both_paths_pass_on_the_shipped_config(service: Service, origin: str) -> None:
    # educational sites are reached through the local origin only: the test never leaves 127.0.0.1
    run = run_group(service.config, SelftestSettings(educational=[origin]), "pupils")
    paths = {(p.path, p.kind) for p in run.probes}
    assert paths == {("dns", "category"), ("http", "category"), ("http", "educational")}
    assert run.passed, [p for p in run.failures]
    http_blocks = [p for p in run.probes if p.path == "http" and p.kind == "category"]
    assert len(http_blocks) == len(Category) - 1 and all("block page" in p.detail for p in http_blocks)
    assert [p.detail for p in run.probes if p.kind == "educational"] == ["HTTP 200"]


def test_a_custom_probe_that_is_not_blocked_fails(service: Service, origin: str) -> None:
    settings = SelftestSettings(
        categories=[],
        educational=[],
        probes=[
            Probe(target=origin + "exam-answers", expect="blocked", groups=["pupils"]),
            Probe(target=origin, expect="allowed", groups=["staff"]),
        ],
    )
    run = run_group(service.config, settings, "pupils")
    assert [(p.kind, p.path, p.observed) for p in run.probes] == [("custom", "http", "allowed")]
    assert not run.passed


def test_http_probes_leave_no_incident_and_their_token_never_reaches_the_origin(service: Service, origin: str) -> None:
    SEEN_HEADERS.clear()
    labels = {"category": "extremism", "group": "pupils", "protocol": "http"}

    def count(name: str) -> float:
        return service.registry.get_sample_value(name, labels) or 0.0

    probes_before = count("filterproxy_http_probe_blocks_total")
    run = run_group(service.config, SelftestSettings(categories=[Category.EXTREMISM], educational=[origin]), "pupils")
    assert run.passed, run.failures
    assert SEEN_HEADERS and "x-filterproxy-probe" not in SEEN_HEADERS
    assert count("filterproxy_http_probe_blocks_total") == probes_before + 1
    assert count("filterproxy_http_blocks_total") == 0  # no probe of this module's runs counted as a block
    # a pupil's forged token is no probe: recorded and counted like any block
    proxy = f"http://127.0.0.1:{service.proxy_port}"
    with httpx.Client(proxy=proxy, timeout=10) as client:
        page = client.get("http://extremism.filterproxy-selftest.example/x", headers={HTTP_HEADER: "00" * 24})
    assert page.status_code == 403
    assert count("filterproxy_http_blocks_total") == 1
    hosts = recorded_hosts(service, {"extremism.filterproxy-selftest.example"})
    store = open_store(service.config.incidents, service.config.data_dir)
    try:
        found = store.query(IncidentFilter(protocol="http"))
    finally:
        store.close()
    assert hosts == {"extremism.filterproxy-selftest.example"}  # every probe of this module's runs left none
    assert [i.url for i in found if i.category == "extremism"] == ["http://extremism.filterproxy-selftest.example/x"]


def test_an_https_probe_refused_at_connect_is_blocked_and_not_recorded(service: Service, origin: str) -> None:
    settings = SelftestSettings(categories=[], educational=[], dns=False, probes=[
        Probe(target="https://hate.filterproxy-selftest.example/", expect="blocked"),
    ])
    before = service.registry.get_sample_value(
        "filterproxy_http_probe_blocks_total", {"category": "hate", "group": "pupils", "protocol": "https"}
    ) or 0.0
    run = run_group(service.config, settings, "pupils")
    assert [(p.observed, p.detail) for p in run.probes] == [("blocked", "CONNECT refused (403)")] and run.passed
    labels = {"category": "hate", "group": "pupils", "protocol": "https"}
    assert service.registry.get_sample_value("filterproxy_http_probe_blocks_total", labels) == before + 1
    assert not service.registry.get_sample_value("filterproxy_http_blocks_total", labels)


def test_a_502_is_not_reachable(service: Service) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    run = run_group(service.config, SelftestSettings(categories=[], educational=[closed], dns=False), "pupils")
    assert [(p.observed, p.detail) for p in run.probes] == [("unreachable", "HTTP 502")] and not run.passed


def test_unreachable_proxy_is_an_error(service: Service, tmp_path: Path) -> None:
    proxy = service.config.proxy.model_copy(update={"listen": "127.0.0.1:9"})
    config = service.config.model_copy(update={"proxy": proxy})
    settings = SelftestSettings(categories=[Category.ADULT], educational=[], dns=False, timeout=1)
    run = run_group(config, settings, "pupils")
    assert [p.observed for p in run.probes] == ["error"] and not run.passed
