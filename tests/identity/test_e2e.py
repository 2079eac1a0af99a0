"""Done-when, end to end: the real service (resolver, proxy, RADIUS listener, SQLite incidents) with
Debian's radclient as the Wi-Fi controller and a real slapd behind proxy authentication.

Addresses (all loopback, told apart by source address):
  127.0.0.5  RADIUS maps it to the pupil p.smith (Class "pupil"), later Accounting-Stop
  127.0.0.6  a shared laptop whose users sign in at the proxy
  127.0.0.7  an address a forged Accounting-Start (wrong secret) tried to claim
The network group of 127.0.0.0/8 is "guests": gambling allowed, adult blocked. The pupil
policy blocks gambling too; the staff policy allows it.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import pytest
from prometheus_client import generate_latest

from filterproxy.config.loader import load_config
from filterproxy.http.server import ProxyServer
from filterproxy.identity import radius
from filterproxy.incidents.model import Incident, IncidentFilter
from filterproxy.incidents.store import open_store
from filterproxy.service import Service, build_service
from tests.http.origin import Origin, UpstreamMap
from tests.http.pki import make_pki
from tests.identity.radclient import radclient, start, stop
from tests.identity.slapd import PUPIL_GROUP, SERVICE, SERVICE_PASSWORD, STAFF_GROUP, SUFFIX, Slapd
from tests.support import Loop, free_port, free_udp_tcp_port
from tests.test_serve import upstream  # noqa: F401  (the upstream DNS stub fixture)

PUPIL_IP, LAPTOP_IP, FORGED_IP = "127.0.0.5", "127.0.0.6", "127.0.0.7"


def write_config(tmp: Path, upstream_port: int, slapd: Slapd) -> tuple[Path, dict[str, int]]:
    ports = {"dns": free_udp_tcp_port(), "proxy": free_port(), "radius": free_port()}
    (tmp / "gambling.txt").write_text("bet.example\n")
    (tmp / "adult.txt").write_text("adult.example\n")
    (tmp / "data").mkdir()
    (tmp / "data" / "ldap-password").write_text(SERVICE_PASSWORD + "\n")
    config = tmp / "filterproxy.yaml"
    config.write_text(f"""
data_dir: data
lists:
  sources:
    - {{id: t/gambling, category: gambling, path: gambling.txt}}
    - {{id: t/adult, category: adult, path: adult.txt}}
policy:
  default_group: guests
  groups:
    guests: {{networks: ["127.0.0.0/8"], categories: {{adult: block, gambling: allow}}}}
    pupils: {{directory_groups: ["{PUPIL_GROUP}", "pupil"], categories: {{adult: block, gambling: block}}}}
    staff: {{directory_groups: ["{STAFF_GROUP}"], categories: {{adult: block, gambling: allow}}}}
dns:
  listen: 127.0.0.1:{ports['dns']}
  upstreams: ["127.0.0.1:{upstream_port}"]
proxy:
  listen: 127.0.0.1:{ports['proxy']}
  allow_internal: [127.0.0.0/8, "bet.example:80", "bet.example:443"]  # the local origin stands in for them
metrics: {{enabled: false}}
incidents: {{dedup_window: 0}}
identity:
  radius:
    listen: 127.0.0.1:{ports['radius']}
    clients: [{{address: 127.0.0.1/32, secret: wifi-secret}}]
  proxy_auth:
    enabled: true
    source: ldap
    groups: [guests]
    ldap:
      url: {slapd.url}
      bind_dn: "{SERVICE}"
      bind_password_file: ldap-password
      base_dn: "ou=people,{SUFFIX}"
      timeout: 1
""")
    return config, ports


class Running:
    def __init__(self, config: Path, origin: Origin) -> None:
        self.config = load_config(config)
        self.loop = Loop()
        self.service: Service = build_service(self.config)
        proxy = next(c for c in self.service.components if isinstance(c, ProxyServer))
        proxy.extra_addons = (UpstreamMap(origin),)  # the proxy reaches the local origin, never the internet
        self.loop.run(self.service.start(), timeout=60)

    def metric(self, name: str, **labels: str) -> float:
        return self.service.registry.get_sample_value(name, labels) or 0.0

    def close(self) -> list[Incident]:
        try:
            self.loop.run(self.service.stop(), timeout=60)  # the queue drains into SQLite
        finally:
            self.loop.close()
        store = open_store(self.config.incidents, self.config.data_dir)
        try:
            return store.query(IncidentFilter())
        finally:
            store.close()


@pytest.fixture
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Origin]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    server = Origin(pki[1], pki[2])
    yield server
    server.close()


def ask(port: int, name: str, source: str) -> tuple[list[str], float]:
    started = time.monotonic()
    reply = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=3, source=source)
    return [r.to_text() for rr in reply.answer for r in rr], time.monotonic() - started


def basic(user: str, password: str) -> dict[str, str]:
    return {"Proxy-Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


class Reply:
    def __init__(self, raw: bytes) -> None:
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status_code = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        self.text = body.decode("utf-8", "replace")


def get(port: int, url: str, source: str, headers: dict[str, str] | None = None) -> tuple[Reply, float]:
    """A plain HTTP request through the proxy from ``source`` (httpx cannot bind a proxy connection)."""
    host = url.split("/")[2]
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(source, 0)) as sock:
        sock.sendall(f"GET {url} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n{extra}Connection: close\r\n\r\n"
                     .encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    return Reply(raw), time.monotonic() - started


def connect(port: int, host: str, source: str, headers: dict[str, str]) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as sock:
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n{extra}\r\n".encode())
        return sock.recv(4096).split(b"\r\n", 1)[0].decode()


@pytest.mark.slow
def test_who_is_behind_each_block(tmp_path: Path, upstream: int, origin: Origin) -> None:  # noqa: F811
    slapd = Slapd(tmp_path / "slapd")
    slapd.start()
    config, ports = write_config(tmp_path, upstream, slapd)
    running = Running(config, origin)
    try:
        _scenario(running, ports, slapd)
    finally:
        slapd.stop()
        incidents = running.close()
    _check_incidents(incidents)


def _scenario(running: Running, ports: dict[str, int], slapd: Slapd) -> None:
    dns_port, proxy_port, radius_port = ports["dns"], ports["proxy"], ports["radius"]
    # before any accounting: the address policy (guests) allows gambling; the repeat is a cache hit
    # that the resolver's hot lane remembers for this address, so the lane must forget it on Start
    for _ in range(3):
        assert ask(dns_port, "bet.example", PUPIL_IP)[0] == ["192.0.2.66"]
    assert lane_hits(running) >= 1
    ok, out = radclient(radius_port, "wifi-secret", start("p.smith", PUPIL_IP, Class="0x" + b"pupil".hex()))
    assert ok, out
    assert ask(dns_port, "bet.example", PUPIL_IP)[0] != ["192.0.2.66"]  # the pupil policy blocks it now
    # a forged Start (wrong secret) is refused, counted, and changes nothing
    ok, _ = radclient(radius_port, "guessed-secret", start("t.jones", FORGED_IP, Class="0x" + b"pupil".hex()))
    assert not ok
    assert running.metric("filterproxy_identity_radius_packets_total", outcome="bad_authenticator") == 1
    assert ask(dns_port, "bet.example", FORGED_IP)[0] == ["192.0.2.66"]
    _flood_does_not_stall_dns(running, dns_port, radius_port)
    ok, out = radclient(radius_port, "wifi-secret", stop("p.smith", PUPIL_IP))
    assert ok, out
    assert ask(dns_port, "bet.example", PUPIL_IP)[0] == ["192.0.2.66"]  # back to the address policy
    assert ask(dns_port, "adult.example", PUPIL_IP)[0] != ["192.0.2.66"]  # blocked, and nobody named

    # the proxy: the guests network must sign in
    response, _ = get(proxy_port, "http://bet.example/", LAPTOP_IP)
    assert response.status_code == 407 and "Basic" in response.headers["proxy-authenticate"]
    response, _ = get(proxy_port, "http://bet.example/", LAPTOP_IP, basic("t.jones", "wrong"))
    assert response.status_code == 407
    response, _ = get(proxy_port, "http://bet.example/", LAPTOP_IP, basic("t.jones", "staff-pass"))
    assert response.status_code == 200, response.text[:300]  # staff: gambling allowed
    assert "proxy-authorization" not in {k.lower() for k in origin_headers(running)}  # never forwarded
    response, _ = get(proxy_port, "http://bet.example/", LAPTOP_IP, basic("p.smith", "pupil-pass"))
    assert response.status_code == 403 and "Gambling" in response.text  # the pupil policy at the same laptop
    assert connect(proxy_port, "bet.example", LAPTOP_IP, basic("p.smith", "pupil-pass")).split()[1] == "403"
    assert connect(proxy_port, "bet.example", LAPTOP_IP, basic("t.jones", "staff-pass")).split()[1] == "200"

    # the directory goes down: clear error, counted, the address policy applies, nothing stalls
    slapd.stop()
    response, took = get(proxy_port, "http://bet.example/", LAPTOP_IP, basic("p.smith", "new-password"))
    assert response.status_code == 200 and took < 5  # guests policy: gambling allowed
    assert running.metric("filterproxy_identity_proxy_auth_total", outcome="directory_error") == 1
    response, took = get(proxy_port, "http://bet.example/", LAPTOP_IP, basic("x.other", "pw"))  # no wait now
    assert response.status_code == 200 and took < 1
    assert running.metric("filterproxy_identity_proxy_auth_total", outcome="directory_error") == 2
    answers, took = ask(dns_port, "adult.example", LAPTOP_IP)
    assert answers != ["192.0.2.66"] and took < 1
    response, _ = get(proxy_port, "http://adult.example/", LAPTOP_IP, basic("t.jones", "staff-pass"))  # cached
    assert response.status_code == 403
    exposition = generate_latest(running.service.registry).decode()
    assert "filterproxy_identity_radius_packets_total" in exposition
    for secret in ("p.smith", "t.jones", PUPIL_IP, LAPTOP_IP, "cn=staff"):
        assert secret not in exposition, f"{secret} leaked into metrics"


def _flood_does_not_stall_dns(running: Running, dns_port: int, radius_port: int) -> None:
    """Forged accounting packets as fast as a thread can send them, while DNS keeps answering."""
    forged = radius.request([(radius.ACCT_STATUS_TYPE, b"\x00\x00\x00\x01"), (radius.USER_NAME, b"x"),
                             (radius.FRAMED_IP_ADDRESS, bytes([127, 0, 0, 5]))], b"not-the-secret")
    done = threading.Event()

    def flood() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while not done.is_set():
                for n in range(200):
                    sock.sendto(forged[:1] + bytes([n]) + forged[2:], ("127.0.0.1", radius_port))
                time.sleep(0.001)

    before = running.metric("filterproxy_identity_radius_packets_total", outcome="bad_authenticator")
    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        slowest = max(ask(dns_port, f"n{n}.bet.example", PUPIL_IP)[1] for n in range(40))
    finally:
        done.set()
        thread.join(5)
    refused = running.metric("filterproxy_identity_radius_packets_total", outcome="bad_authenticator") - before
    assert refused > 500 and slowest < 1.0, (refused, slowest)
    assert ask(dns_port, "bet.example", PUPIL_IP)[0] != ["192.0.2.66"]


def lane_hits(running: Running) -> int:
    from filterproxy.dns.server import DnsServer

    server = next(c for c in running.service.components if isinstance(c, DnsServer))
    assert server.lane is not None
    return server.lane.hits()


def origin_headers(running: Running) -> dict[str, str]:
    proxy = next(c for c in running.service.components if isinstance(c, ProxyServer))
    origin: Any = proxy.extra_addons[0].origin  # type: ignore[attr-defined]
    return origin.seen[-1][3] if origin.seen else {}


def _check_incidents(incidents: list[Incident]) -> None:
    def one(host: str, client: str, protocol: str, user: str | None) -> Incident:
        found = [i for i in incidents if i.host == host and i.client == client and i.protocol == protocol
                 and i.user == user]
        assert found, [(i.host, i.client, i.protocol, i.user, i.group) for i in incidents]
        return found[0]

    pupil = one("bet.example", PUPIL_IP, "dns", "p.smith")
    assert (pupil.group, pupil.identified_by) == ("pupils", "radius") and pupil.identified_at is not None
    assert pupil.identified_at <= pupil.first_seen
    after_stop = one("adult.example", PUPIL_IP, "dns", None)
    assert (after_stop.group, after_stop.identified_by) == ("guests", None)
    http_pupil = one("bet.example", LAPTOP_IP, "http", "p.smith")
    assert (http_pupil.group, http_pupil.identified_by) == ("pupils", "proxy_auth")
    assert one("bet.example", LAPTOP_IP, "https", "p.smith").group == "pupils"
    staff = one("adult.example", LAPTOP_IP, "http", "t.jones")
    assert (staff.group, staff.identified_by) == ("staff", "proxy_auth")
    assert not [i for i in incidents if i.user == "t.jones" and i.category == "gambling"]
    assert not [i for i in incidents if i.client == FORGED_IP]
