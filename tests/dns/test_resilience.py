"""Failure paths: upstream down (stale / SERVFAIL in time), DoT, reload under load, bad input, fuzz."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filterproxy.lists.testing import make_classifier
from tests.dns.conftest import Resolver, policy
from tests.dns.test_server import addresses, ask


def raw(r: Resolver, data: bytes, timeout: float = 0.5) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(data, (r.host, r.port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def test_upstream_down_serves_stale_then_servfail_within_a_second(make_resolver: object) -> None:
    r = make_resolver(dns={"cache_max_ttl": 1, "cache_min_ttl": 1})  # type: ignore[operator]
    assert addresses(ask(r, "ok.example")) == ["192.0.2.1"]
    r.stub.silent = True
    time.sleep(1.1)  # the cached answer expires
    started = time.monotonic()
    stale = ask(r, "ok.example")
    assert time.monotonic() - started < 1.0
    assert addresses(stale) == ["192.0.2.1"] and stale.answer[0].ttl == 30
    started = time.monotonic()
    never_cached = ask(r, "www.ok.example")
    assert time.monotonic() - started < 1.0
    assert never_cached.rcode() == dns.rcode.SERVFAIL
    assert r.metric("filterproxy_dns_upstream_up", upstream=r.config.dns.upstreams[0]) == 0


def test_failover_to_the_second_upstream(make_resolver: object) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{closed.getsockname()[1]}"
    r = make_resolver()  # type: ignore[operator]
    good = r.config.dns.upstreams[0]
    r2 = make_resolver(dns={"upstreams": [dead, good]})  # type: ignore[operator]
    started = time.monotonic()
    assert addresses(ask(r2, "ok.example")) == ["192.0.2.1"]
    assert time.monotonic() - started < 1.0
    assert r2.metric("filterproxy_dns_upstream_errors_total", upstream=dead) == 1


def test_dns_over_tls_upstream(make_resolver: object) -> None:
    r = make_resolver(tls=True)  # type: ignore[operator]
    assert addresses(ask(r, "ok.example")) == ["192.0.2.1"]
    assert addresses(ask(r, "www.ok.example")) == ["192.0.2.2"]  # same TLS connection, reused


def test_dig_against_the_resolver(resolver: Resolver) -> None:
    dig = shutil.which("dig")
    if dig is None:
        pytest.skip("dig (dnsutils) is not installed; scripts/bootstrap.sh test installs it")

    def run_dig(*args: str) -> str:
        command = [dig, "@127.0.0.1", "-p", str(resolver.port), "+time=2", "+tries=1", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout

    assert run_dig("+short", "ok.example").split() == ["192.0.2.1"]
    out = run_dig("+tcp", "bet.example")
    assert "127.0.0.1" in out and "EDE: 15 (Blocked): (gambling)" in out


def test_list_reload_under_load_loses_no_query(resolver: Resolver) -> None:
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            for name, want in (("ok.example", "192.0.2.1"), ("bet.example", "127.0.0.1")):
                try:
                    got = addresses(ask(resolver, name))
                    if got not in ([want], ["127.0.0.1"]):
                        failures.append(f"{name}: {got}")
                except Exception as exc:
                    failures.append(f"{name}: {exc!r}")

    workers = [threading.Thread(target=load) for _ in range(3)]
    for w in workers:
        w.start()
    for i in range(6):
        deny = {"gambling": ["bet.example"], "social": ["chat.example"]}
        if i % 2:
            deny["adult"] = ["ok.example"]
        resolver.engine.swap(make_classifier(deny, policy=policy()))
        time.sleep(0.1)
    stop.set()
    for w in workers:
        w.join(10)
    assert failures == []
    resolver.engine.swap(make_classifier({"adult": ["ok.example"]}, policy=policy()))
    assert addresses(ask(resolver, "ok.example")) == ["127.0.0.1"]  # the new lists hold at once


@pytest.mark.parametrize(
    ("packet", "expect"),
    [
        (b"\x12", None),  # shorter than a header: drop
        (b"\x12\x34\x81\x80" + b"\x00" * 8, None),  # a response: never answered
        (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05abc", 1),  # truncated question: FORMERR
        (
            dns.message.make_query("ok.example", "A").to_wire()[:12].replace(b"\x00\x01", b"\x00\x02", 1)
            + b"\x02ok\x07example\x00\x00\x01\x00\x01" * 2,
            1,
        ),  # two questions: FORMERR
        (b"\x12\x34\x29\x00" + dns.message.make_query("ok.example", "A").to_wire()[4:], 4),  # UPDATE: NOTIMP
        (dns.message.make_query("ok.example", "TXT", rdclass="CH").to_wire(), 4),  # class CH: NOTIMP
    ],
)
def test_bad_input(resolver: Resolver, packet: bytes, expect: int | None) -> None:
    got = raw(resolver, packet, timeout=0.3 if expect is None else 2)
    if expect is None:
        assert got is None
    else:
        assert got is not None and got[3] & 0x0F == expect and got[:2] == packet[:2]
    assert addresses(ask(resolver, "ok.example")) == ["192.0.2.1"]  # still serving


def test_edns_version_1_gets_badvers(resolver: Resolver) -> None:
    query = dns.message.make_query("ok.example", "A", use_edns=1)
    reply = dns.message.from_wire(raw(resolver, query.to_wire()) or b"")
    assert reply.rcode() == dns.rcode.BADVERS


def test_oversized_answer_is_truncated_for_edns_clients_too(resolver: Resolver) -> None:
    msg = ask(resolver, "big.example", "TXT", use_edns=0)
    assert msg.flags & dns.flags.TC


mutations = st.binary(min_size=0, max_size=600)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutations, seed=st.integers(0, 2**32 - 1), flips=st.integers(0, 8))
def test_fuzz_random_and_mutated_packets(resolver: Resolver, data: bytes, seed: int, flips: int) -> None:
    import random

    rng = random.Random(seed)
    base = bytearray(
        dns.message.make_query(
            rng.choice(["ok.example", "bet.example", "ech.example"]),
            rng.choice(["A", "AAAA", "HTTPS", "TXT"]),
            use_edns=0,
        ).to_wire()
    )
    for _ in range(flips):
        base[rng.randrange(len(base))] = rng.randrange(256)
    for packet in (data, bytes(base)):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(packet, (resolver.host, resolver.port))
    assert addresses(ask(resolver, "ok.example")) == ["192.0.2.1"]  # still answering
    exceptions = [
        s
        for m in resolver.registry.collect()
        if m.name == "filterproxy_dns_stage_exceptions"
        for s in m.samples
        if s.name.endswith("_total")
    ]
    assert all(s.value == 0 for s in exceptions)


def test_still_answering_after_fuzz(resolver: Resolver) -> None:
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(bytes(range(256))[:40], (resolver.host, resolver.port))
    assert addresses(ask(resolver, "ok.example")) == ["192.0.2.1"]
    assert addresses(ask(resolver, "ok.example", tcp=True)) == ["192.0.2.1"]


class _Broken:
    """A classifier that fails for one name: an unexpected exception inside the blocking stage."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.policy = inner.policy  # type: ignore[attr-defined]

    def classify(self, query: object) -> object:
        if query.host == "boom.example":  # type: ignore[attr-defined]
            raise RuntimeError("simulated bug")
        return self.inner.classify(query)  # type: ignore[attr-defined]


def test_a_failing_stage_gives_servfail_and_a_count_not_a_dead_server(resolver: Resolver) -> None:
    resolver.engine.swap(_Broken(resolver.engine.current))  # type: ignore[arg-type]
    assert ask(resolver, "boom.example").rcode() == dns.rcode.SERVFAIL
    assert ask(resolver, "boom.example", tcp=True).rcode() == dns.rcode.SERVFAIL
    assert resolver.metric("filterproxy_dns_stage_exceptions_total", stage="blocking") == 2
    assert addresses(ask(resolver, "ok.example")) == ["192.0.2.1"]
    assert addresses(ask(resolver, "bet.example")) == ["127.0.0.1"]


def test_fast_path_and_dnslib_path_servers_send_the_same_bytes(make_resolver: object) -> None:
    fast = make_resolver()  # type: ignore[operator]
    slow = make_resolver(dns={"fast_path": False})  # type: ignore[operator]
    for name, rdtype in [
        ("bet.example", "A"),
        ("Bet.Example", "AAAA"),
        ("ok.example", "A"),
        ("OK.example", "A"),
        ("mask.icloud.com", "A"),
        ("ech.example", "HTTPS"),
        ("nothing.example", "A"),
    ]:
        for edns in (None, 0):
            query = dns.message.make_query(name, rdtype, use_edns=edns)
            query.id = 4242
            got = [raw(r, query.to_wire(), timeout=2) for r in (fast, slow, fast, slow)]
            assert got[2] == got[3], (name, rdtype, edns)  # the second answers (cache / template) agree


def test_misses_beyond_max_pending_get_servfail_at_once(make_resolver: object) -> None:
    r = make_resolver(dns={"max_pending": 1, "upstream_timeout": 0.5, "resolve_timeout": 0.5})  # type: ignore[operator]
    r.stub.silent = True
    queries = [dns.message.make_query(f"n{i}.ok.example", "A") for i in range(3)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        started = time.monotonic()
        for query in queries:
            sock.sendto(query.to_wire(), (r.host, r.port))
        first_two = [dns.message.from_wire(sock.recv(4096)) for _ in range(2)]
        fast = time.monotonic() - started
        last = dns.message.from_wire(sock.recv(4096))
    assert fast < 0.3  # the two beyond the limit did not wait for the silent upstream
    assert [m.rcode() for m in (*first_two, last)] == [dns.rcode.SERVFAIL] * 3
    # the two turned away (not the one that timed out upstream) are counted for Prometheus
    assert r.metric("filterproxy_dns_upstream_overloaded_total") == 2.0
