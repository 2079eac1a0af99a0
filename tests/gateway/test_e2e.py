"""End to end in network namespaces: a pupil client, the filterproxy gateway, a small internet.

The lab (bench/gateway/lab.py) exists only inside namespaces made here and is torn down after.
The origin's access log says who connected: the pupil's own address means the kernel forwarded
the connection; the gateway's WAN address means it went through filterproxy's proxy. The
internet namespace counts what reaches it, which proves what the gateway dropped.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lab lives in bench/gateway

from bench.gateway import lab as L

from .conftest import NETNS_REFUSAL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NETNS_REFUSAL is not None, reason=str(NETNS_REFUSAL)),
    pytest.mark.skipif(L.available() is not None, reason=str(L.available())),
]

PROBE = """table inet probe {
    counter quic {}
    counter quic_control {}
    counter dot {}
    counter doh {}
    counter doh6 {}
    counter dns6 {}
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 443 counter name quic
        udp dport 4443 counter name quic_control
        tcp dport 853 counter name dot
        ip daddr 9.9.9.9 tcp dport 443 counter name doh
        ip6 daddr 2620:fe::fe tcp dport 443 counter name doh6
        ip6 daddr 2620:fe::fe meta l4proto { tcp, udp } th dport 53 counter name dns6
    }
}
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[L.Lab]:
    world = L.Lab(tmp_path_factory.mktemp("gateway-lab"))
    try:
        world.create()
        world.start_origin()
        world.start_public_dns()
        world.must(world.internet, "nft", "-f", "-", text=PROBE)
        world.load_gateway("steered")
        world.start_node("steered")
        yield world
    finally:
        world.destroy()


@pytest.fixture
def steered(lab: L.Lab) -> L.Lab:
    lab.load_gateway("steered")  # also empties the steering sets
    return lab


@pytest.fixture
def strict(lab: L.Lab) -> Iterator[L.Lab]:
    lab.load_gateway("strict")
    yield lab
    lab.load_gateway("steered")


def _curl(lab: L.Lab, url: str, address: str) -> tuple[int, str]:
    """(exit code, body) of the pupil fetching URL with its host resolved to ADDRESS."""
    host = url.split("/")[2]
    port = "443" if url.startswith("https") else "80"
    done = lab.sh(lab.client, "curl", "-sk", "-m", "5", "--resolve", f"{host}:{port}:{address}", url)
    return done.returncode, done.stdout


def _dig(lab: L.Lab, name: str, server: str = L.PUBLIC_DNS, tcp: bool = False) -> str:
    argv = ["dig", "+short", "+time=3", "+tries=1", *(["+tcp"] if tcp else []), f"@{server}", name]
    return lab.sh(lab.client, *argv).stdout.strip()


def _seen_by_origin(lab: L.Lab, path: str) -> list[str]:
    """Source addresses of the origin's requests for PATH."""
    return [line.split()[0] for line in lab.access_log() if line.split()[4] == path]


def _probe(lab: L.Lab, name: str) -> int:
    listing = json.loads(lab.must(lab.internet, "nft", "-j", "list", "counter", "inet", "probe", name))
    return int(next(i["counter"]["packets"] for i in listing["nftables"] if "counter" in i))


def _steer4(lab: L.Lab) -> str:
    return lab.must(lab.gateway, "nft", "list", "set", "inet", "filterproxy", "steer4")


def _proxy_seen(lab: L.Lab) -> float:
    m = lab.metrics()
    names = ("filterproxy_http_requests_total", "filterproxy_http_tls_connections_total")
    return sum(m.get(name, 0.0) for name in names)


def test_steered_allowed_traffic_never_reaches_the_proxy(steered: L.Lab) -> None:
    before = _proxy_seen(steered)
    code, body = _curl(steered, "http://allowed.example/steered-http", L.ORIGIN)
    assert (code, body) == (0, "origin allowed.example /steered-http\n")
    code, body = _curl(steered, "https://allowed.example/steered-tls", L.ORIGIN)
    assert (code, body) == (0, "origin allowed.example /steered-tls\n")
    assert _seen_by_origin(steered, "/steered-http") == [L.CLIENT]  # forwarded by the kernel, not proxied
    assert _seen_by_origin(steered, "/steered-tls") == [L.CLIENT]
    assert _proxy_seen(steered) == before  # the proxy's own counters did not move


def test_strict_mode_sends_everything_through_the_proxy(strict: L.Lab) -> None:
    before = _proxy_seen(strict)
    assert _curl(strict, "http://allowed.example/strict-http", L.ORIGIN)[0] == 0
    assert _curl(strict, "https://allowed.example/strict-tls", L.ORIGIN)[0] == 0
    assert _seen_by_origin(strict, "/strict-http") == [L.GW_WAN]  # the proxy connected, not the pupil
    assert _seen_by_origin(strict, "/strict-tls") == [L.GW_WAN]
    assert _proxy_seen(strict) >= before + 2


def test_strict_mode_blocks_by_sni_even_with_a_hard_coded_address(strict: L.Lab) -> None:
    code, _ = _curl(strict, "https://bet.example/sni-strict", L.OTHER)
    assert code != 0  # refused at the ClientHello
    assert _seen_by_origin(strict, "/sni-strict") == []
    assert _curl(strict, "http://bet.example/host-strict", L.OTHER)[1] != "origin bet.example /host-strict\n"
    assert _seen_by_origin(strict, "/host-strict") == []


def test_steered_address_is_inspected_shared_cdn_names_blocked_by_sni(steered: L.Lab) -> None:
    steered.must(steered.gateway, "nft", "add", "element", "inet", "filterproxy", "steer4",
                 f"{{ {L.STEERED} timeout 60s }}")
    assert _curl(steered, "http://mixed.example/fine", L.STEERED)[0] == 0
    assert _seen_by_origin(steered, "/fine") == [L.GW_WAN]  # steered: through the proxy
    code, body = _curl(steered, "http://mixed.example/bad/page", L.STEERED)
    assert code == 0 and "origin" not in body  # the proxy's block page
    assert _seen_by_origin(steered, "/bad/page") == []  # URL-level block, decided by the proxy
    # another name on the same (CDN) address: the proxy sees its SNI and refuses it
    assert _curl(steered, "https://bet.example/cdn-sni", L.STEERED)[0] != 0
    assert _seen_by_origin(steered, "/cdn-sni") == []


def test_full_interception_group_is_proxied_whatever_the_address(steered: L.Lab) -> None:
    staff = {"networks": [f"{L.CLIENT}/32"], "intercept": True}
    steered.load_gateway("steered", policy={"groups": {"pupils": {}, "staff": staff}})
    try:
        assert _curl(steered, "http://allowed.example/intercepted", L.ORIGIN)[0] == 0
        assert _seen_by_origin(steered, "/intercepted") == [L.GW_WAN]  # not steered by address: by client
    finally:
        steered.load_gateway("steered")


def test_quic_is_dropped(steered: L.Lab) -> None:
    # three datagrams of one flow: the first is dropped, so the flow never becomes established
    send = "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n" \
        "for _ in range(3): s.sendto(b'q' * 1200, ('{}', {}))"
    before = _probe(steered, "quic"), _probe(steered, "quic_control")
    steered.must(steered.client, "python3", "-c", send.format(L.ORIGIN, 443))
    steered.must(steered.client, "python3", "-c", send.format(L.ORIGIN, 4443))
    time.sleep(0.2)
    assert _probe(steered, "quic") == before[0]
    assert _probe(steered, "quic_control") == before[1] + 3  # other UDP does get through


def test_dns_over_tls_is_dropped(steered: L.Lab) -> None:
    connect = "import socket; socket.create_connection(('{}', 853), 1)"
    before = _probe(steered, "dot")
    assert steered.sh(steered.client, "python3", "-c", connect.format(L.PUBLIC_DNS)).returncode != 0
    assert _probe(steered, "dot") == before


def test_doh_endpoints_are_refused(steered: L.Lab) -> None:
    before = _probe(steered, "doh")
    done = steered.sh(steered.client, "curl", "-sk", "-m", "5", f"https://{L.PUBLIC_DNS}/dns-query")
    assert done.returncode == 7  # connection refused: a TCP reset from the gateway
    assert _probe(steered, "doh") == before
    # control: the endpoint is up (the gateway itself, not a LAN client, may reach it)
    assert steered.sh(steered.gateway, "curl", "-sk", "-m", "5", f"https://{L.PUBLIC_DNS}/").returncode == 0


@pytest.mark.parametrize("tcp", [False, True])
def test_hard_coded_public_dns_is_answered_by_the_filter(steered: L.Lab, tcp: bool) -> None:
    assert _dig(steered, "allowed.example", tcp=tcp) == L.ORIGIN
    assert _dig(steered, "bet.example", tcp=tcp) == L.GW_LAN  # the block page, not the real address
    assert _dig(steered, "bet.example", server=L.GW_LAN, tcp=tcp) == L.GW_LAN


def test_blocked_name_shows_the_block_page(steered: L.Lab) -> None:
    address = _dig(steered, "bet.example")
    assert address == L.GW_LAN
    code, body = _curl(steered, "http://bet.example/page", address)
    assert code == 0 and "origin" not in body
    assert _seen_by_origin(steered, "/page") == []


def test_resolver_steers_names_needing_a_decision(steered: L.Lab) -> None:
    assert _dig(steered, "mixed.example") == L.STEERED
    deadline = time.monotonic() + 5
    while L.STEERED not in _steer4(steered):
        assert time.monotonic() < deadline, "the resolver's answer never reached the steering set"
        time.sleep(0.05)
    assert _curl(steered, "http://mixed.example/resolved-ok", L.STEERED)[0] == 0
    assert _seen_by_origin(steered, "/resolved-ok") == [L.GW_WAN]
    assert _curl(steered, "http://mixed.example/bad/resolved", L.STEERED)[0] == 0
    assert _seen_by_origin(steered, "/bad/resolved") == []
    assert _dig(steered, "allowed.example") == L.ORIGIN
    assert L.ORIGIN not in _steer4(steered)


def test_ipv6_is_guarded_and_forwarded_like_ipv4(steered: L.Lab) -> None:
    done = steered.sh(steered.client, "curl", "-s", "-m", "5", f"http://[{L.ORIGIN6}]/v6-allowed")
    assert done.returncode == 0, done.stderr
    assert _seen_by_origin(steered, "/v6-allowed") == [L.CLIENT6]  # forwarded by the kernel
    before = {name: _probe(steered, name) for name in ("quic", "doh6", "dns6")}
    send = "import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'q' * 1200, ('{}', 443))"
    steered.must(steered.client, "python3", "-c", send.format(L.ORIGIN6))
    doh = steered.sh(steered.client, "curl", "-sk", "-m", "5", f"https://[{L.PUBLIC_DNS6}]/dns-query")
    assert doh.returncode == 7  # reset by the gateway
    # a hard-coded IPv6 resolver: the query is redirected to the gateway and never reaches it
    steered.sh(steered.client, "dig", "+time=1", "+tries=1", f"@{L.PUBLIC_DNS6}", "allowed.example")
    time.sleep(0.2)
    assert {name: _probe(steered, name) for name in before} == before
    # control: the gateway itself reaches the same resolver over IPv6
    answer = steered.sh(steered.gateway, "dig", "+short", "+time=2", f"@{L.PUBLIC_DNS6}", "allowed.example")
    assert answer.stdout.strip() == L.ORIGIN
