"""The self-test through the proxy as well as the resolver (mitmproxy really running)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from filterproxy.model import Category
from filterproxy.selftest.runner import run_group
from filterproxy.selftest.settings import Probe, SelftestSettings
from tests.selftest.service import Loop, Service


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
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


def test_unreachable_proxy_is_an_error(service: Service, tmp_path: Path) -> None:
    proxy = service.config.proxy.model_copy(update={"listen": "127.0.0.1:9"})
    config = service.config.model_copy(update={"proxy": proxy})
    settings = SelftestSettings(categories=[Category.ADULT], educational=[], dns=False, timeout=1)
    run = run_group(config, settings, "pupils")
    assert [p.observed for p in run.probes] == ["error"] and not run.passed
