"""Talking to one upstream: UDP multiplexed on one socket, and length-framed TCP or TLS streams.

Every reply is matched on ID *and* question bytes (a spoofed or late answer to another query is
ignored), so concurrent queries share one socket or connection.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from typing import Any

from filterproxy.dns.udp import enlarge_buffers
from filterproxy.dns.wire import LENGTH, frame, lower_question
from filterproxy.errors import UpstreamError


def _matches(reply: bytes, ident: int, question: bytes) -> bool:
    return (
        len(reply) >= 12 + len(question)
        and int.from_bytes(reply[0:2], "big") == ident
        and reply[2] & 0x80 != 0
        and lower_question(reply[12 : 12 + len(question)]) == question
    )


class _Pending:
    """Futures waiting for replies, keyed by ID."""

    def __init__(self) -> None:
        self.waiting: dict[int, tuple[bytes, asyncio.Future[bytes]]] = {}

    def new_id(self) -> int:
        while True:
            ident = random.getrandbits(16)
            if ident not in self.waiting:
                return ident

    def deliver(self, reply: bytes) -> None:
        if len(reply) < 12:
            return
        ident = int.from_bytes(reply[0:2], "big")
        item = self.waiting.get(ident)
        if item is not None and _matches(reply, ident, item[0]) and not item[1].done():
            item[1].set_result(reply)

    def fail_all(self, exc: BaseException) -> None:
        for _q, fut in self.waiting.values():
            if not fut.done():
                fut.set_exception(exc)


async def _exchange(pending: _Pending, send: Any, question: bytes, query: bytes, timeout: float) -> bytes:
    """Send ``query`` (its ID is set here) and wait for the matching reply."""
    ident = pending.new_id()
    fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    pending.waiting[ident] = (question, fut)
    try:
        send(ident.to_bytes(2, "big") + query[2:])
        return await asyncio.wait_for(fut, timeout)
    except TimeoutError as exc:
        raise UpstreamError("timed out") from exc
    except OSError as exc:
        raise UpstreamError(exc.strerror or str(exc)) from exc
    finally:
        pending.waiting.pop(ident, None)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, pending: _Pending) -> None:
        self.pending = pending

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.pending.deliver(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable on a connected socket: the upstream is down, fail fast.
        self.pending.fail_all(UpstreamError(f"unreachable: {exc}"))


class _UdpSocket:
    """One connected UDP socket and the queries waiting on it."""

    def __init__(self, transport: asyncio.DatagramTransport, pending: _Pending) -> None:
        self.transport = transport
        self.pending = pending
        self.used = 0


class UdpTransport:
    """Connected UDP sockets to one upstream, a fresh one (new source port) every ``rotate_after`` queries.

    Changing the source port adds its entropy to the 16-bit ID an off-path spoofer must guess;
    a retired socket stays open until the replies it waits for have arrived.
    """

    def __init__(self, host: str, port: int, rotate_after: int = 512) -> None:
        self.address = (host, port)
        self.rotate_after = rotate_after
        self._current: _UdpSocket | None = None
        self._retired: set[_UdpSocket] = set()
        self._opening = asyncio.Lock()

    async def query(self, question: bytes, query: bytes, timeout: float) -> bytes:
        sock = self._current
        if sock is None or sock.used >= self.rotate_after or sock.transport.is_closing():
            async with self._opening:  # one rotation at a time; the others use its socket
                sock = self._current
                if sock is None or sock.used >= self.rotate_after or sock.transport.is_closing():
                    sock = await self._open()
        sock.used += 1
        try:
            return await _exchange(sock.pending, sock.transport.sendto, question, query, timeout)
        finally:
            if sock in self._retired and not sock.pending.waiting:
                self._retired.discard(sock)
                sock.transport.close()

    async def _open(self) -> _UdpSocket:
        pending = _Pending()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(pending), remote_addr=self.address)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            enlarge_buffers(sock)  # the answers to a burst of misses arrive as a burst
        old, self._current = self._current, _UdpSocket(transport, pending)
        if old is not None:
            if old.pending.waiting:
                self._retired.add(old)
            else:
                old.transport.close()
        return self._current

    async def close(self) -> None:
        for sock in [self._current, *self._retired]:
            if sock is not None:
                sock.transport.close()
        self._retired.clear()


class StreamTransport:
    """A TCP or TLS connection (RFC 7766 / RFC 7858), reused and pipelined; reconnects when lost."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None = None, server_name: str | None = None):
        self.address = (host, port)
        self.tls = tls
        self.server_name = server_name
        self._pending = _Pending()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def query(self, question: bytes, query: bytes, timeout: float) -> bytes:
        try:
            writer = await asyncio.wait_for(self._connection(), timeout)
        except TimeoutError as exc:
            raise UpstreamError("connect timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamError(f"connect failed: {exc}") from exc
        return await _exchange(self._pending, lambda m: writer.write(frame(m)), question, query, timeout)

    async def _connection(self) -> asyncio.StreamWriter:
        async with self._lock:
            if self._writer is None or self._writer.is_closing():
                host, port = self.address
                reader, self._writer = await asyncio.open_connection(
                    host, port, ssl=self.tls, server_hostname=self.server_name if self.tls else None
                )
                self._reader_task = asyncio.create_task(self._read(reader, self._writer))
            return self._writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = LENGTH.unpack(await reader.readexactly(2))[0]
                self._pending.deliver(await reader.readexactly(size))
        except (asyncio.IncompleteReadError, OSError, ssl.SSLError) as exc:
            self._pending.fail_all(UpstreamError(f"connection lost: {exc}"))
        finally:
            writer.close()

    async def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()
