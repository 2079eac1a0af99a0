"""`filterproxy gateway up` + `filterproxy serve` as the school gateway, in network namespaces.

The same lab as test_e2e.py, but the gateway runs the real service from a configuration file
(lists from files, incidents in SQLite, metrics on the namespace's loopback), as an admin runs it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from bench.gateway import lab as L

from .conftest import NETNS_REFUSAL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NETNS_REFUSAL is not None, reason=str(NETNS_REFUSAL)),
    pytest.mark.skipif(L.available() is not None, reason=str(L.available())),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[L.Lab]:
    world = L.Lab(tmp_path_factory.mktemp("gateway-serve"))
    try:
        world.create()
        world.start_origin()
        world.start_public_dns()
        world.start_serve(world.serve_config("steered"))
        yield world
    finally:
        world.destroy()


def _dig(lab: L.Lab, name: str) -> str:
    return lab.sh(lab.client, "dig", "+short", "+time=3", "+tries=1", f"@{L.PUBLIC_DNS}", name).stdout.strip()


def _get(lab: L.Lab, url: str, address: str) -> tuple[str, str]:
    host = url.split("/")[2]
    argv = ["curl", "-s", "-m", "5", "-w", "\n%{http_code}", "--resolve", f"{host}:80:{address}", url]
    body, _, code = lab.sh(lab.client, *argv).stdout.rpartition("\n")
    return code, body


def _sources(lab: L.Lab, path: str) -> list[str]:
    return [line.split()[0] for line in lab.access_log() if line.split()[4] == path]


def test_serve_filters_dns_even_for_a_hard_coded_resolver(served: L.Lab) -> None:
    assert _dig(served, "allowed.example") == L.ORIGIN
    assert _dig(served, "bet.example") == L.GW_LAN  # the block page address, not 10.213.3.12


def test_serve_forwards_allowed_traffic_without_the_proxy(served: L.Lab) -> None:
    before = served.metrics().get("filterproxy_http_requests_total", 0.0)
    assert _get(served, "http://allowed.example/serve-allowed", _dig(served, "allowed.example")) == (
        "200", "origin allowed.example /serve-allowed\n"
    )
    assert _sources(served, "/serve-allowed") == [L.CLIENT]
    assert served.metrics().get("filterproxy_http_requests_total", 0.0) == before


def test_serve_steers_url_level_names_to_the_proxy(served: L.Lab) -> None:
    address = _dig(served, "mixed.example")
    assert address == L.STEERED
    deadline = time.monotonic() + 5
    while L.STEERED not in served.must(served.gateway, "nft", "list", "set", "inet", "filterproxy", "steer4"):
        assert time.monotonic() < deadline, "serve never steered the address"
        time.sleep(0.05)
    assert _get(served, "http://mixed.example/serve-ok", address)[0] == "200"
    assert _sources(served, "/serve-ok") == [L.GW_WAN]  # through the proxy
    code, body = _get(served, "http://mixed.example/bad/serve", address)
    assert code == "403" and "origin" not in body
    assert _sources(served, "/bad/serve") == []


def test_gateway_status_reports_the_steered_address(served: L.Lab) -> None:
    _dig(served, "mixed.example")
    cli = [sys.executable, "-m", "filterproxy.cli", "--config", str(served.workdir / "serve-steered.yaml")]
    status = served.must(served.gateway, *cli, "gateway", "status")
    assert "steer4       2 elements" in status  # the block page (pinned) and mixed.example's address
