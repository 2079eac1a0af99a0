"""Bad clients: malformed requests, absurd headers, slowloris, mid-way disconnects; others still served."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

import pytest

from tests.http.conftest import RunningProxy, curl


@pytest.fixture(scope="module")
def proxy(proxy_factory: Any) -> RunningProxy:
    return proxy_factory(max_header_bytes=16384)


def still_serving(proxy: RunningProxy) -> None:
    result = curl("-x", proxy.url, "http://ok.example/alive")
    assert result.returncode == 0 and '"path": "/alive"' in result.stdout


def exchange(proxy: RunningProxy, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(data)
        try:
            return sock.recv(65536)
        except OSError:
            return b""


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET http://ok.example/ HTTP/9.9\r\n\r\n",
        b"\x16\x03\x01\x00\x05hello",  # TLS bytes to an HTTP proxy port
        b"GET http://ok.example/ HTTP/1.1\r\nHost: ok.example\r\nContent-Length: -5\r\n\r\n",
        b"GET http:// HTTP/1.1\r\n\r\n",
        b"CONNECT :443 HTTP/1.1\r\n\r\n",
    ],
)
def test_malformed_requests_get_an_error_not_a_crash(proxy: RunningProxy, data: bytes) -> None:
    answer = exchange(proxy, data)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4") or answer.startswith(b"HTTP/1.1 5")
    still_serving(proxy)


def test_absurd_headers_are_refused_without_reaching_origin(proxy: RunningProxy) -> None:
    seen = len(proxy.origin.seen)
    big = b"X-Big: " + b"a" * 60000 + b"\r\n"
    answer = exchange(proxy, b"GET http://ok.example/big HTTP/1.1\r\nHost: ok.example\r\n" + big * 2 + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431")
    assert len(proxy.origin.seen) == seen
    still_serving(proxy)


def test_slowloris_clients_do_not_starve_others(proxy: RunningProxy) -> None:
    socks = [socket.create_connection(("127.0.0.1", proxy.port), timeout=5) for _ in range(40)]
    try:
        for sock in socks:
            sock.sendall(b"GET http://ok.example/slow HTTP/1.1\r\nHost: ok.ex")
        time.sleep(0.2)
        for sock in socks:
            sock.sendall(b"am")
        still_serving(proxy)
    finally:
        for sock in socks:
            sock.close()
    still_serving(proxy)


def test_clients_that_vanish_mid_request_leave_nothing_behind(proxy: RunningProxy) -> None:
    for data in (
        b"POST http://ok.example/up HTTP/1.1\r\nHost: ok.example\r\nContent-Length: 100000\r\n\r\nabc",
        b"CONNECT ok.example:443 HTTP/1.1\r\n\r\n\x16\x03\x01",
        b"GET http://bet.example/ HTTP/1.1\r\nHost: bet",
    ):
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(data)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    time.sleep(0.2)
    still_serving(proxy)
    assert proxy.server.addon._refused == {} and proxy.server.addon.responder._pending == {}


def test_one_client_cannot_hold_every_connection(proxy_factory: Any) -> None:
    limited = proxy_factory(max_client_connections=5)
    socks = [socket.create_connection(("127.0.0.1", limited.port), timeout=5) for _ in range(5)]
    try:
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", limited.port), timeout=5)
        with extra:
            extra.sendall(b"GET http://ok.example/ HTTP/1.1\r\nHost: ok.example\r\n\r\n")
            with contextlib.suppress(ConnectionResetError):
                assert extra.recv(100) == b""  # closed without an answer
        other = curl("--interface", "127.0.0.3", "-x", limited.url, "http://ok.example/other-client")
        assert '"path": "/other-client"' in other.stdout  # another client is still served
        assert limited.metric("filterproxy_http_connections_limited_total") >= 1
    finally:
        for sock in socks:
            sock.close()
    time.sleep(0.3)
    assert limited.server.addon.limit.open == {}  # closed connections give their slots back
    still_serving(limited)
