"""Upstream transports against the local stub: source-port rotation, ID and question matching."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from dnslib import DNSRecord

from filterproxy.dns.transport import UdpTransport
from filterproxy.dns.upstream import make_query
from filterproxy.errors import UpstreamError
from tests.dns.conftest import Loop
from tests.dns.stub import Stub


def _question(name: str) -> bytes:
    wire = make_query(b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00\x00\x01\x00\x01", 1232)
    return wire[12:-11]


def test_udp_source_port_rotates_and_concurrent_queries_all_answer() -> None:
    loop = Loop()
    stub = Stub()
    try:
        loop.run(stub.start())

        async def run() -> list[str]:
            transport = UdpTransport("127.0.0.1", stub.port, rotate_after=3)
            names = ["ok.example", "www.ok.example", "bet.example"] * 4
            questions = [_question(n) for n in names]
            replies = await asyncio.gather(*(transport.query(q, make_query(q, 1232), 2) for q in questions))
            await transport.close()
            return [str(DNSRecord.parse(r).q.qname) for r in replies]

        got = loop.run(run())
        assert got == ["ok.example.", "www.ok.example.", "bet.example."] * 4
        assert len(stub.source_ports) >= 3  # 12 queries, a new socket every 3
    finally:
        loop.run(stub.stop())
        loop.close()


@pytest.mark.parametrize("batched", ["1", "0"])
def test_udp_batched_and_plain_fail_fast_on_a_closed_port(batched: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upstream port nobody listens on answers ICMP: every waiting query fails at once, with
    recvmmsg/sendmmsg batching as without it (no waiting for the timeout)."""
    monkeypatch.setenv("FILTERPROXY_DNS_MMSG", batched)
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    loop = Loop()

    async def run() -> list[object]:
        transport = UdpTransport("127.0.0.1", port)
        q = _question("ok.example")
        results = await asyncio.gather(
            *(transport.query(q, make_query(q, 1232), 5) for _ in range(3)), return_exceptions=True
        )
        await transport.close()
        return results

    try:
        started = time.monotonic()
        results = loop.run(run())
        assert all(isinstance(r, UpstreamError) for r in results), results  # refused or unreachable
        assert time.monotonic() - started < 1.0
    finally:
        loop.close()
