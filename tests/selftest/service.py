"""A running filterproxy for integration tests: real resolver, real lists, real incident queue, exporter.

Everything listens on 127.0.0.1 with ephemeral ports; the only "internet" is a local UDP stub
that answers A queries for every name with an address from 192.0.2.0/24 (TEST-NET-1), except
names under ``nx.example``, which do not exist (NXDOMAIN).
Shared by the self-test tests and the Prometheus/Grafana tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from tests.support import Loop

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "filterproxy.yaml"


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.queries = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queries += 1
        query = DNSRecord.parse(data)
        reply = query.reply()
        if str(query.q.qname).rstrip(".").endswith("nx.example"):
            reply.header.rcode = RCODE.NXDOMAIN
        elif query.q.qtype == QTYPE.A:
            octet = 1 + sum(str(query.q.qname).encode()) % 250
            reply.add_answer(RR(query.q.qname, QTYPE.A, rdata=A(f"192.0.2.{octet}"), ttl=300))
        assert self.transport is not None
        self.transport.sendto(reply.pack(), addr)


class Upstream:
    """The local stand-in for the internet's resolvers."""

    def __init__(self) -> None:
        self.protocol = _Upstream()
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: self.protocol, local_addr=("127.0.0.1", 0))
        self.port = self._transport.get_extra_info("sockname")[1]

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()


def shipped_config(data_dir: Path, upstreams: list[str], overrides: dict[str, str] | None = None) -> Config:
    """The shipped config/filterproxy.yaml with loopback listeners, local upstreams and a temp data dir."""
    env = {
        "FILTERPROXY__DNS__LISTEN": "127.0.0.1:0",
        "FILTERPROXY__DNS__UPSTREAMS": "[" + ", ".join(upstreams) + "]",
        "FILTERPROXY__METRICS__LISTEN": "127.0.0.1:0",
        "FILTERPROXY__LISTS__WATCH": "false",
        "FILTERPROXY__LISTS__OFFLINE": "true",  # the shipped sources are public lists: never fetched in tests
        "FILTERPROXY__PROXY__ENABLED": "false",
        "FILTERPROXY__PROXY__LISTEN": "127.0.0.1:0",
        # the probes' local origin listens on loopback: reaching it through the proxy is allowed explicitly
        "FILTERPROXY__PROXY__ALLOW_INTERNAL": '["127.0.0.0/8"]',
        **(overrides or {}),
    }
    return load_config(SHIPPED, env=env, data_dir=data_dir)


class Service:
    """``filterproxy serve`` as the lead composes it (build_service), minus the proxy, on loopback."""

    def __init__(
        self,
        loop: Loop,
        data_dir: Path,
        overrides: dict[str, str] | None = None,
        extra_upstreams: tuple[str, ...] = (),
        proxy: bool = False,
    ) -> None:
        from filterproxy.dns.server import DnsServer
        from filterproxy.metrics.exporter import MetricsServer
        from filterproxy.service import build_service

        self.loop = loop
        self.upstream = Upstream()
        loop.run(self.upstream.start())
        upstreams = [*extra_upstreams, f"127.0.0.1:{self.upstream.port}"]
        self.config = shipped_config(data_dir, upstreams, overrides)
        self.service = build_service(self.config, proxy=proxy)
        self.registry = self.service.registry  # build_service registers the self-test and incident-status metrics
        loop.run(self.service.start())
        self.dns = next(c for c in self.service.started if isinstance(c, DnsServer))
        self.exporter = next(c for c in self.service.started if isinstance(c, MetricsServer))
        self.dns_port = self.dns.address[1]
        proxies = [c for c in self.service.started if type(c).__name__ == "ProxyServer"]  # no mitmproxy import
        self.proxy_port = int(getattr(proxies[0], "port", 0)) if proxies else 0
        # what a client (the self-test) reads: the bound ports instead of port 0
        bound = {
            "dns": self.config.dns.model_copy(update={"listen": f"127.0.0.1:{self.dns_port}"}),
            "metrics": self.config.metrics.model_copy(update={"listen": f"127.0.0.1:{self.exporter.port}"}),
            "proxy": self.config.proxy.model_copy(update={"listen": f"127.0.0.1:{self.proxy_port}"}),
        }
        self.config = self.config.model_copy(update=bound)

    def close(self) -> None:
        self.loop.run(self.service.stop())
        self.loop.run(self.upstream.stop())
