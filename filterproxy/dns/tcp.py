"""DNS over TCP for clients (RFC 7766): length-framed messages, pipelined, answered out of order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from filterproxy.dns.request import Answer, Request
from filterproxy.dns.wire import LENGTH, frame

if TYPE_CHECKING:
    from filterproxy.dns.metrics import DnsMetrics
    from filterproxy.dns.server import DnsServer
    from filterproxy.dns.settings import DnsSettings

log = logging.getLogger(__name__)


class TcpListener:
    """Client TCP connections: at most ``tcp_max_connections`` in all and
    ``tcp_max_connections_per_client`` from one address (more are closed at once, counted), so
    one client's idle connections cannot lock everyone else out."""

    def __init__(self, server: DnsServer, settings: DnsSettings, metrics: DnsMetrics) -> None:
        self.server = server
        self.idle_timeout = settings.tcp_idle_timeout
        self.max_connections = settings.tcp_max_connections
        self.per_client = settings.tcp_max_connections_per_client
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._per_host: dict[str, int] = {}
        self._refused = metrics.tcp_refused

    async def start(self, host: str, port: int, reuse_port: bool) -> None:
        self._server = await asyncio.start_server(self._connection, host, port, reuse_port=reuse_port or None)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peer = writer.get_extra_info("peername")
        host = str(peer[0]) if peer else ""
        if len(self._connections) >= self.max_connections or task is None:
            self._refused.labels("total").inc()
            writer.close()
            return
        if self._per_host.get(host, 0) >= self.per_client:
            self._refused.labels("per_client").inc()
            writer.close()
            return
        self._connections.add(task)
        self._per_host[host] = self._per_host.get(host, 0) + 1
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            self._connections.discard(task)
            left = self._per_host.pop(host, 1) - 1
            if left > 0:
                self._per_host[host] = left
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = self.server.client(peer[0])
        allowed = self.server.access.allows(peer[0])
        pending: set[asyncio.Task[None]] = set()
        try:
            while True:
                size = LENGTH.unpack(await asyncio.wait_for(reader.readexactly(2), self.idle_timeout))[0]
                data = await asyncio.wait_for(reader.readexactly(size), self.idle_timeout)
                if allowed:
                    outcome = self.server.dispatch(data, client, "tcp")
                else:
                    outcome = self.server.access.refusal(data, self.server.settings.edns_payload)
                if outcome is None:
                    return  # not a query: close, as RFC 7766 section 6.2.4 allows
                if isinstance(outcome, bytes):
                    _write(writer, outcome)
                else:
                    req, reply = outcome
                    if isinstance(reply, Answer):
                        _write(writer, reply.wire)
                    else:
                        task = asyncio.create_task(self._later(writer, req, reply))
                        pending.add(task)
                        task.add_done_callback(pending.discard)
                await writer.drain()
        finally:
            if pending:
                await asyncio.wait(pending, timeout=self.idle_timeout)

    async def _later(self, writer: asyncio.StreamWriter, req: Request, reply: Awaitable[Answer]) -> None:
        answer = await self.server.finish(req, reply)
        if not writer.is_closing():
            _write(writer, answer.wire)


def _write(writer: asyncio.StreamWriter, message: bytes) -> None:
    if len(message) > 0xFFFF:
        log.warning("answer of %d bytes does not fit a TCP frame; dropped", len(message))
        return
    writer.write(frame(message))
