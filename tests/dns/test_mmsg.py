"""recvmmsg/sendmmsg batching: real sockets on 127.0.0.1 and ::1, compared with the plain path."""

from __future__ import annotations

import ctypes
import errno
import logging
import socket
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest

from filterproxy.dns.mmsg import MmsgSocket, open_mmsg
from filterproxy.dns.mmsgabi import decode_sockaddr, load_libc
from filterproxy.dns.udp import UdpEndpoint
from tests.dns.conftest import Loop, Resolver

pytestmark = pytest.mark.skipif(load_libc() is None, reason="recvmmsg/sendmmsg need Linux and its libc")
HOSTS = ["127.0.0.1", "::1"]


def family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


@pytest.fixture
def server_sock(request: pytest.FixtureRequest) -> Iterator[socket.socket]:
    host = request.param
    sock = socket.socket(family(host), socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def clients(host: str, count: int) -> list[socket.socket]:
    made = []
    for _ in range(count):
        client = socket.socket(family(host), socket.SOCK_DGRAM)
        client.bind((host, 0))
        client.settimeout(3)
        made.append(client)
    return made


def echo(data: bytes, host: str, now: float = 0.0) -> bytes:
    return b"re:" + host.encode() + b":" + data


@pytest.mark.parametrize("server_sock", HOSTS, indirect=True)
def test_one_call_receives_a_burst_with_each_sender(server_sock: socket.socket) -> None:
    mm = open_mmsg(server_sock)
    assert mm is not None
    host, port = server_sock.getsockname()[:2]
    senders = clients(host, 3)
    expected = []
    for n in range(10):
        for k, client in enumerate(senders):
            payload = f"{k}-{n}".encode() * (n + 1)
            client.sendto(payload, (host, port))
            expected.append((payload, client.getsockname()))
    assert mm.receive() == 30  # one system call
    got = [(mm.datagram(i), mm.address(mm.raw_sender(i))) for i in range(30)]
    assert got == expected  # the same (data, address) tuples recvfrom would give, in order
    assert mm.receive() == 0
    for client in senders:
        client.close()


@pytest.mark.parametrize("server_sock", HOSTS, indirect=True)
def test_replies_go_to_each_client_in_one_send(server_sock: socket.socket) -> None:
    mm = open_mmsg(server_sock)
    assert mm is not None
    host, port = server_sock.getsockname()[:2]
    senders = clients(host, 4)
    for n in range(5):
        for client in senders:
            client.sendto(f"q{n}".encode(), (host, port))
    rest = mm.answer(lambda data, who, now: None if data == b"q4" else echo(data, who), 1.5)
    assert mm.pending == 16
    mm.flush()
    assert mm.pending == 0
    assert [(data, addr) for data, addr in rest] == [(b"q4", c.getsockname()) for c in senders]
    for client in senders:
        assert [client.recvfrom(100) for _ in range(4)] == [
            (echo(f"q{n}".encode(), host), server_sock.getsockname()) for n in range(4)
        ]
        client.close()


class FlakySend:
    """The real libc, except that ``sendmmsg`` takes at most ``per_call`` messages, or says EAGAIN on the
    calls numbered in ``eagain_on`` (as when the socket's send buffer is full)."""

    def __init__(self, per_call: int, eagain_on: frozenset[int] = frozenset()) -> None:
        libc = load_libc()
        assert libc is not None
        self.recvmmsg, self._send = libc.recvmmsg, libc.sendmmsg
        self.per_call, self.eagain_on, self.calls = per_call, eagain_on, 0

    def sendmmsg(self, fd: int, msgs: int, vlen: int, flags: int) -> int:
        self.calls += 1
        if self.calls in self.eagain_on:
            ctypes.set_errno(errno.EAGAIN)
            return -1
        return int(self._send(fd, msgs, min(vlen, self.per_call), flags))


@pytest.mark.parametrize("server_sock", ["127.0.0.1"], indirect=True)
def test_partial_and_blocked_sends_keep_the_rest_in_order(server_sock: socket.socket) -> None:
    libc = FlakySend(per_call=3, eagain_on=frozenset({1}))
    mm = MmsgSocket(server_sock, libc)
    host, port = server_sock.getsockname()
    [client] = clients(host, 1)
    for n in range(10):
        client.sendto(b"%d" % n, (host, port))
    assert mm.answer(echo) == []
    mm.flush()  # EAGAIN: everything stays queued
    assert mm.pending == 10
    for n in range(10, 12):  # later replies queue behind the unsent ones
        client.sendto(b"%d" % n, (host, port))
    assert mm.answer(echo) == []
    mm.flush()  # 3 per call until done
    assert mm.pending == 0 and libc.calls == 1 + 4
    assert [client.recv(100) for _ in range(12)] == [echo(b"%d" % n, host) for n in range(12)]
    client.close()


@pytest.mark.parametrize("server_sock", ["127.0.0.1"], indirect=True)
def test_blocked_sends_are_compacted_and_sent_later(server_sock: socket.socket) -> None:
    libc = FlakySend(per_call=2, eagain_on=frozenset({2}))
    mm = MmsgSocket(server_sock, libc)
    host, port = server_sock.getsockname()
    [client] = clients(host, 1)
    for n in range(5):
        client.sendto(b"%d" % n, (host, port))
    assert mm.answer(echo) == []
    mm.flush()  # two go, then EAGAIN: the other three move to the front
    assert (mm.first, mm.count) == (0, 3)
    mm.flush()
    assert [client.recv(100) for _ in range(5)] == [echo(b"%d" % n, host) for n in range(5)]
    client.close()


def test_sockaddr_decoding_matches_the_socket_module() -> None:
    v4 = socket.AF_INET.to_bytes(2, "little") + (5353).to_bytes(2, "big") + bytes([10, 1, 2, 3]) + bytes(8)
    assert decode_sockaddr(v4) == ("10.1.2.3", 5353)
    v6 = (
        socket.AF_INET6.to_bytes(2, "little")
        + (53).to_bytes(2, "big")
        + (7).to_bytes(4, "big")
        + socket.inet_pton(socket.AF_INET6, "2001:db8::1")
        + bytes(4)
    )
    assert decode_sockaddr(v6) == ("2001:db8::1", 53, 7, 0)


# --- the endpoint: batching on, off, and falling back ---------------------------------------------


class Endpoint:
    """A UdpEndpoint in the test loop: datagrams starting with ``q`` answered by quick, others later."""

    def __init__(self, loop: Loop, host: str, mmsg: bool | None, libc: Any = None) -> None:
        self.loop = loop
        self.slow: list[bytes] = []

        def on_datagram(data: bytes, addr: Any) -> None:
            self.slow.append(data)
            loop.loop.call_later(0.01, self.endpoint.sendto, b"slow:" + data, addr)

        class Quick:
            def __init__(self) -> None:
                self.bursts: list[float] = []  # the receive time of each burst settled by answered()

            def answer(self, data: bytes, who: str, now: float) -> bytes | None:
                return echo(data, who) if data.startswith(b"q") else None

            def answered(self, now: float) -> None:
                self.bursts.append(now)

        self.quick = quick = Quick()

        async def start() -> UdpEndpoint:
            endpoint = UdpEndpoint.bind(host, 0, False, on_datagram, quick, mmsg=mmsg)
            if libc is not None:
                assert endpoint.mmsg is not None
                endpoint.mmsg = MmsgSocket(endpoint.sock, libc)
            endpoint.start(loop.loop)
            return endpoint

        self.endpoint = loop.run(start())
        self.address = self.endpoint.get_extra_info("sockname")[:2]

    def exchange(self, host: str, rounds: int = 20) -> None:
        """Four clients each send ``rounds`` quick and slow datagrams at once; each gets its own answers."""
        senders = clients(host, 4)
        for n in range(rounds):
            for k, client in enumerate(senders):
                client.sendto(f"q{k}.{n}".encode(), self.address)
                client.sendto(f"s{k}.{n}".encode(), self.address)
        for k, client in enumerate(senders):
            got = {client.recv(200) for _ in range(2 * rounds)}
            quick = {echo(f"q{k}.{n}".encode(), host) for n in range(rounds)}
            assert got == quick | {f"slow:s{k}.{n}".encode() for n in range(rounds)}
            client.close()

    def close(self) -> None:
        async def close() -> None:
            self.endpoint.close()

        self.loop.run(close())


@pytest.fixture(scope="module")
def mmsg_loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("batching", [True, False])
def test_endpoint_answers_every_client_with_and_without_batching(mmsg_loop: Loop, host: str, batching: bool) -> None:
    endpoint = Endpoint(mmsg_loop, host, batching)
    try:
        assert (endpoint.endpoint.mmsg is not None) is batching
        endpoint.exchange(host)
        assert endpoint.quick.bursts == sorted(endpoint.quick.bursts) and len(endpoint.quick.bursts) >= 1
    finally:
        endpoint.close()


def test_environment_switch_turns_batching_off(mmsg_loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FILTERPROXY_DNS_MMSG", "0")
    endpoint = Endpoint(mmsg_loop, "127.0.0.1", None)
    try:
        assert endpoint.endpoint.mmsg is None
        endpoint.exchange("127.0.0.1", rounds=3)
    finally:
        endpoint.close()
    monkeypatch.setenv("FILTERPROXY_DNS_MMSG", "1")
    endpoint = Endpoint(mmsg_loop, "127.0.0.1", None)
    assert endpoint.endpoint.mmsg is not None
    endpoint.close()


class NoRecvmmsg(FlakySend):
    """As on a kernel or sandbox without the system call."""

    def __init__(self) -> None:
        super().__init__(per_call=64)
        self.recvmmsg = self.fail

    @staticmethod
    def fail(*_args: Any) -> int:
        ctypes.set_errno(errno.ENOSYS)
        return -1


def test_failing_calls_fall_back_to_plain_reads_logged_once(mmsg_loop: Loop, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="filterproxy.dns.udp")
    endpoint = Endpoint(mmsg_loop, "127.0.0.1", True, libc=NoRecvmmsg())
    try:
        endpoint.exchange("127.0.0.1", rounds=5)
        endpoint.exchange("127.0.0.1", rounds=5)
        assert endpoint.endpoint.mmsg is None
        assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
        assert "one datagram at a time" in caplog.records[0].message
    finally:
        endpoint.close()


# --- the resolver: malformed and oversized datagrams as before ------------------------------------


def raw_exchange(r: Resolver, payload: bytes) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(0.5)
        client.sendto(payload, (r.host, r.port))
        try:
            return client.recv(65535)
        except TimeoutError:
            return None


def test_malformed_and_oversized_datagrams_get_the_same_treatment(
    make_resolver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FILTERPROXY_DNS_MMSG", "1")
    batched = make_resolver()
    monkeypatch.setenv("FILTERPROXY_DNS_MMSG", "0")
    plain = make_resolver()
    assert batched.server._udp.mmsg is not None and plain.server._udp.mmsg is None
    query = dns.message.make_query("ok.example", "A").to_wire()
    samples = [
        b"\x12",  # shorter than a header: dropped
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff",  # malformed question: FORMERR
        query + bytes(5000),  # trailing garbage, larger than any EDNS payload
        query + bytes(60000),  # near the UDP maximum
        b"\x12\x34\x81\x80" + query[4:],  # a response: dropped
    ]
    for payload in samples:
        assert raw_exchange(batched, payload) == raw_exchange(plain, payload), payload[:16]
    assert raw_exchange(batched, samples[1]) is not None
    reply = dns.query.udp(dns.message.make_query("bet.example", "A"), batched.host, port=batched.port, timeout=3)
    assert reply.rcode() == dns.rcode.NOERROR and len(batched.sink.events) == 1
    # the resolver keeps serving after all of the above
    assert dns.query.udp(dns.message.make_query("ok.example", "A"), batched.host, port=batched.port, timeout=3)
