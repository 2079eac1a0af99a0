"""Talking to one upstream: UDP multiplexed on one socket, and length-framed TCP or TLS streams.

Every reply is matched on ID *and* question bytes (a spoofed or late answer to another query is
ignored), so concurrent queries share one socket or connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
import socket
import ssl
from collections.abc import Callable
from typing import Any

from filterproxy.dns.mmsg import open_mmsg
from filterproxy.dns.mmsgabi import MmsgError, encode_sockaddr
from filterproxy.dns.udp import enlarge_buffers, mmsg_default
from filterproxy.dns.wire import LENGTH, frame, lower_question
from filterproxy.errors import UpstreamError

log = logging.getLogger(__name__)
UNREACHABLE = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH)  # the upstream is not there


def _matches(reply: bytes, ident: int, question: bytes) -> bool:
    return (
        len(reply) >= 12 + len(question)
        and int.from_bytes(reply[0:2], "big") == ident
        and reply[2] & 0x80 != 0
        and lower_question(reply[12 : 12 + len(question)]) == question
    )


Done = Callable[[bytes | UpstreamError], None]  # called once: the reply, or why there is none


class _Pending:
    """Queries waiting for replies, keyed by ID, each with its callback and timeout timer."""

    def __init__(self) -> None:
        self.waiting: dict[int, tuple[bytes, Done, asyncio.TimerHandle]] = {}

    def new_id(self) -> int:
        while True:
            ident = random.getrandbits(16)
            if ident not in self.waiting:
                return ident

    def start(self, send: Callable[[bytes], object], question: bytes, query: bytes, timeout: float, done: Done) -> int:
        """Send ``query`` under a fresh ID; ``done`` gets the matching reply or an UpstreamError."""
        ident = self.new_id()
        timer = asyncio.get_running_loop().call_later(timeout, self._expire, ident)
        self.waiting[ident] = (question, done, timer)
        try:
            send(ident.to_bytes(2, "big") + query[2:])
        except OSError as exc:
            self.finish(ident, UpstreamError(exc.strerror or str(exc)))
        return ident

    def finish(self, ident: int, result: bytes | UpstreamError) -> None:
        item = self.waiting.pop(ident, None)
        if item is not None:
            item[2].cancel()
            item[1](result)

    def _expire(self, ident: int) -> None:
        self.finish(ident, UpstreamError("timed out"))

    def deliver(self, reply: bytes) -> None:
        if len(reply) < 12:
            return
        ident = int.from_bytes(reply[0:2], "big")
        item = self.waiting.get(ident)
        if item is not None and _matches(reply, ident, item[0]):
            self.finish(ident, reply)

    def fail_all(self, exc: UpstreamError) -> None:
        for ident in list(self.waiting):
            self.finish(ident, exc)


async def _exchange(
    pending: _Pending, send: Callable[[bytes], object], question: bytes, query: bytes, timeout: float
) -> bytes:
    """Send ``query`` (its ID is set here) and wait for the matching reply."""
    fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    ident = pending.start(send, question, query, timeout, lambda result: _settle(fut, result))
    try:
        return await fut
    finally:
        pending.waiting.pop(ident, (None, None, _NO_TIMER))[2].cancel()  # cancelled: forget it


def _settle(fut: asyncio.Future[bytes], result: bytes | UpstreamError) -> None:
    if fut.done():
        return
    if isinstance(result, bytes):
        fut.set_result(result)
    else:
        fut.set_exception(result)


class _NoTimer:
    def cancel(self) -> None:
        return None


_NO_TIMER: Any = _NoTimer()


class _UdpSocket:
    """One connected non-blocking UDP socket, read from the loop's readiness callback.

    On Linux the queries made in one loop iteration leave with one ``sendmmsg`` and the replies
    are read with ``recvmmsg`` (:mod:`filterproxy.dns.mmsg`), as on the client socket; elsewhere,
    or after a failure of those calls, one ``send`` and ``recv`` per datagram.
    """

    def __init__(self, address: tuple[str, int]) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            self.sock.connect(address)
            enlarge_buffers(self.sock)  # the answers to a burst of misses arrive as a burst
        except OSError:
            self.sock.close()
            raise
        self.pending = _Pending()
        self.used = 0
        self.closed = False
        self.loop = asyncio.get_running_loop()
        self.mm = open_mmsg(self.sock) if mmsg_default() else None
        self._peer = encode_sockaddr(family, self.sock.getpeername()) if self.mm is not None else b""
        self._flushing = False
        self.loop.add_reader(self.sock.fileno(), self._readable)

    def send(self, data: bytes) -> None:
        mm = self.mm
        if mm is not None:
            try:
                if mm.queue(data, self._peer):
                    if not self._flushing:
                        self._flushing = True
                        self.loop.call_soon(self._flush)
                    return
            except MmsgError as exc:
                self._plain(exc)
        self.sock.send(data)

    def _flush(self) -> None:
        self._flushing = False
        mm = self.mm
        if mm is None or self.closed:
            return
        try:
            mm.dropped = 0
            mm.flush()
        except MmsgError as exc:
            self._plain(exc)
            return
        if mm.dropped in UNREACHABLE:
            self.pending.fail_all(UpstreamError(f"unreachable: {errno.errorcode[mm.dropped]}"))
        if mm.pending:  # the kernel's buffer is full: what is left goes one by one (rare)
            for data, _addr in mm.drain():
                with contextlib.suppress(OSError):
                    self.sock.send(data)

    def _plain(self, exc: OSError) -> None:
        """Back to one system call per datagram on this socket; queued queries go out that way."""
        mm, self.mm = self.mm, None
        log.warning("recvmmsg/sendmmsg failed on an upstream socket (%s): one datagram at a time", exc)
        if mm is not None:
            for data, _addr in mm.drain():
                with contextlib.suppress(OSError):
                    self.sock.send(data)

    def _readable(self) -> None:
        deliver = self.pending.deliver
        mm = self.mm
        if mm is not None:
            try:
                mm.dropped = 0
                replies = mm.answer(None)
            except MmsgError as exc:
                self._plain(exc)
            else:
                for data, _addr in replies:
                    deliver(data)
                if mm.dropped in UNREACHABLE:  # the error recvmmsg took off the socket
                    self.pending.fail_all(UpstreamError(f"unreachable: {errno.errorcode[mm.dropped]}"))
                if replies or mm.dropped:
                    return
        recv = self.sock.recv  # nothing batched: see what the socket says (an ICMP error, say)
        for _ in range(256):
            try:
                deliver(recv(65535))
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # ICMP port unreachable on a connected socket: the upstream is down
                self.pending.fail_all(UpstreamError(f"unreachable: {exc}"))
                return

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.pending.fail_all(UpstreamError("connection closed"))


class UdpTransport:
    """Connected UDP sockets to one upstream, a fresh one (new source port) every ``rotate_after`` queries.

    Changing the source port adds its entropy to the 16-bit ID an off-path spoofer must guess;
    a retired socket stays open until the replies it waits for have arrived. :meth:`start` asks
    without a coroutine (the resolver's miss path); :meth:`query` awaits the same.
    """

    def __init__(self, host: str, port: int, rotate_after: int = 512) -> None:
        self.address = (host, port)
        self.rotate_after = rotate_after
        self._current: _UdpSocket | None = None
        self._retired: set[_UdpSocket] = set()

    def start(self, question: bytes, query: bytes, timeout: float, done: Done) -> None:
        sock = self._current
        if sock is None or sock.used >= self.rotate_after or sock.closed:
            try:
                sock = self._open()
            except OSError as exc:
                done(UpstreamError(exc.strerror or str(exc)))
                return
        sock.used += 1

        def finished(result: bytes | UpstreamError) -> None:
            if sock in self._retired and not sock.pending.waiting:
                self._retired.discard(sock)
                sock.close()
            done(result)

        sock.pending.start(sock.send, question, query, timeout, finished)

    async def query(self, question: bytes, query: bytes, timeout: float) -> bytes:
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.start(question, query, timeout, lambda result: _settle(fut, result))
        return await fut

    def _open(self) -> _UdpSocket:
        old, self._current = self._current, _UdpSocket(self.address)
        if old is not None:
            if old.pending.waiting:
                self._retired.add(old)
            else:
                old.close()
        return self._current

    async def close(self) -> None:
        for sock in [self._current, *self._retired]:
            if sock is not None:
                sock.close()
        self._retired.clear()
        self._current = None


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
