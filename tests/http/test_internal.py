"""The proxy refuses the gateway itself: loopback, link-local, its own addresses and ports, by name and
after resolution (DNS rebinding), unless `proxy.allow_internal` names the destination."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import pytest

from filterproxy.http.internal import InternalGuard, local_addresses
from filterproxy.http.settings import ProxySettings
from tests.http.conftest import RunningProxy, curl

GATEWAY = ipaddress.ip_address("10.20.0.1")


def guard(allow: tuple[str, ...] = (), ports: tuple[int, ...] = (9153,)) -> InternalGuard:
    return InternalGuard(allow, ports, addresses=lambda: {GATEWAY})


@pytest.mark.parametrize(
    ("host", "port", "reason"),
    [
        ("127.0.0.1", 80, "loopback"),
        ("127.8.9.10", 8080, "loopback"),
        ("[::1]", 443, "loopback"),
        ("::ffff:127.0.0.1", 80, "loopback"),
        ("169.254.169.254", 80, "link_local"),  # cloud metadata
        ("fe80::1", 80, "link_local"),
        ("0.0.0.0", 80, "unspecified"),
        ("127.0.0.1", 9153, "service_port"),
        ("10.20.0.1", 3000, "gateway_address"),
        ("localhost", 8080, "loopback"),
        ("grafana.localhost.", 3000, "loopback"),
        ("10.20.0.2", 9153, None),  # another machine of the school, even on a port like ours
        ("93.184.216.34", 443, None),
        ("example.org", 443, None),  # names are checked again after resolution
    ],
)
def test_by_name_and_literal(host: str, port: int, reason: str | None) -> None:
    assert guard().check_name(host, port) == reason


def test_allow_networks_and_exact_pairs_but_never_the_service_ports() -> None:
    g = guard(("127.0.0.0/8", "10.20.0.1:8443", "printer.localhost:631"))
    assert g.check_name("127.0.0.1", 8080) is None
    assert g.check_name("127.0.0.1", 9153) == "service_port"  # a network entry never opens our ports
    assert g.check_name("10.20.0.1", 8443) is None and g.check_name("10.20.0.1", 8444) == "gateway_address"
    assert g.check_name("printer.localhost", 631) is None
    assert guard(("127.0.0.1:9153",)).check_name("127.0.0.1", 9153) is None  # only an exact pair does


def test_pin_resolves_checks_every_answer_and_returns_the_checked_address() -> None:
    g = guard()
    answers = {"ok.example": ["192.0.2.7"], "rebind.example": ["192.0.2.8", "127.0.0.1"], "gw.example": ["10.20.0.1"]}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such name")
        return answers[host]

    g.resolve = resolve
    run = asyncio.run
    assert run(g.pin("ok.example", 80)) == ("192.0.2.7", None)
    assert run(g.pin("rebind.example", 80)) == (None, "loopback")  # any internal answer refuses the name
    assert run(g.pin("gw.example", 80)) == (None, "gateway_address")
    assert run(g.pin("gone.example", 80)) == (None, "unresolved")
    assert run(g.pin("127.0.0.1", 80)) == (None, "loopback")


def test_local_addresses_include_loopback() -> None:
    assert ipaddress.ip_address("127.0.0.1") in local_addresses()


def test_allow_internal_is_validated() -> None:
    assert ProxySettings(allow_internal=["127.0.0.0/8", "[::1]:8080", "10.0.0.5:80"]).allow_internal
    with pytest.raises(ValueError, match="CIDR network or HOST:PORT"):
        ProxySettings(allow_internal=["not a network"])


@pytest.fixture
def strict(proxy_factory: Any) -> RunningProxy:
    """A proxy with the default: nothing inside the gateway allowed."""
    return proxy_factory(allow_internal=[])  # type: ignore[no-any-return]


def _refused(proxy: RunningProxy, reason: str) -> float:
    return proxy.metric("filterproxy_http_internal_refused_total", reason=reason)


def test_requests_and_connects_to_loopback_are_refused(strict: RunningProxy) -> None:
    seen = len(strict.origin.seen)
    before = _refused(strict, "loopback")
    plain = curl("-i", "-x", strict.url, f"http://127.0.0.1:{strict.origin.http_port}/metrics")
    assert plain.stdout.startswith("HTTP/1.1 403") and "gateway itself" in plain.stdout
    tunnel = curl("-p", "-x", strict.url, "-k", f"https://127.0.0.1:{strict.origin.https_port}/")
    assert tunnel.returncode == 56 and "403" in tunnel.stderr
    named = curl("-i", "-x", strict.url, f"http://localhost:{strict.origin.http_port}/")
    assert named.stdout.startswith("HTTP/1.1 403")
    assert len(strict.origin.seen) == seen  # nothing reached the local service
    assert _refused(strict, "loopback") == before + 3


def test_a_name_resolving_to_loopback_is_refused_after_resolution(strict: RunningProxy) -> None:
    strict.dns.names["rebind.example"] = ["127.0.0.1"]
    seen, connects = len(strict.origin.seen), strict.upstream.connects
    before = _refused(strict, "loopback")
    plain = curl("-i", "-x", strict.url, "http://rebind.example/metrics")
    assert plain.stdout.startswith("HTTP/1.1 502") and "inside the gateway" in plain.stdout
    tunnel = curl("-p", "-x", strict.url, "-k", "https://rebind.example/")
    assert tunnel.returncode != 0
    assert len(strict.origin.seen) == seen and strict.upstream.connects == connects  # never connected
    assert _refused(strict, "loopback") >= before + 2
    ok = curl("-x", strict.url, "http://ok.example/fine")  # a public answer goes through, pinned
    assert ok.returncode == 0 and '"path": "/fine"' in ok.stdout


def test_allowed_loopback_reaches_the_origin_but_not_the_service_ports(proxy_factory: Any) -> None:
    proxy: RunningProxy = proxy_factory()  # the fixtures' explicit allow_internal: 127.0.0.0/8
    allowed = curl("-x", proxy.url, f"http://127.0.0.1:{proxy.origin.http_port}/local")
    assert allowed.returncode == 0 and '"path": "/local"' in allowed.stdout
    own = curl("-i", "-x", proxy.url, f"http://127.0.0.1:{proxy.port}/")  # the proxy itself
    assert own.stdout.startswith("HTTP/1.1 403")
    metrics = curl("-i", "-x", proxy.url, "http://127.0.0.1:9153/metrics")  # metrics.listen's port
    assert metrics.stdout.startswith("HTTP/1.1 403")
    assert proxy.metric("filterproxy_http_internal_refused_total", reason="service_port") == 2
