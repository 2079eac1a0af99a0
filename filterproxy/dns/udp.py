"""The UDP socket, read straight from the event loop's readiness callback.

asyncio's datagram transport costs about 15 us per datagram on the default loop and about
0.6 us more than this on uvloop (measured with a bare echo server). Here one readiness
callback reads up to :data:`BATCH` datagrams until the socket is empty, so a busy resolver
makes one loop iteration per burst instead of one per datagram, on either loop.

On Linux the datagrams are read with one ``recvmmsg`` and the ready answers (``quick``) sent
with one ``sendmmsg`` per burst (:mod:`filterproxy.dns.mmsg`); elsewhere, with
``FILTERPROXY_DNS_MMSG=0``, or after any failure of those calls (logged once), one
``recvfrom`` and one ``sendto`` per datagram. Replies made later (``sendto``) always go at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any, Protocol

from filterproxy.dns.mmsg import MAX_DATAGRAM, MmsgSocket, open_mmsg
from filterproxy.dns.mmsgabi import MmsgError

log = logging.getLogger(__name__)

BATCH = 64  # datagrams per readiness callback at most, so TCP and timers still get their turn


class Quick(Protocol):
    """Ready answers asked for before ``on_datagram``: the resolver's hot lane."""

    def answer(self, data: bytes, host: str, now: float) -> bytes | None:
        """The answer for a datagram of the burst received at ``now`` (``perf_counter``), None to
        pass it on, or ``b""`` to send nothing."""

    def answered(self, now: float) -> None:
        """The burst received at ``now`` is answered (its replies queued or sent)."""


SOCKET_BUFFER = 4 << 20  # bytes: a burst of hundreds of datagrams must not overflow the kernel's queue


def enlarge_buffers(sock: socket.socket, size: int = SOCKET_BUFFER) -> None:
    """Ask for ``size``-byte receive and send buffers (beyond ``rmem_max`` when privileged).

    With the default of about 208 kB a loopback socket holds only some 270 datagrams: a client
    burst, or the upstream's answers to one, is dropped while the loop is busy elsewhere.
    """
    for forced, plain in ((getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF), (None, socket.SO_SNDBUF)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, forced if forced is not None else plain, size)
        except OSError:
            with contextlib.suppress(OSError):  # else the system's default stays
                sock.setsockopt(socket.SOL_SOCKET, plain, size)


def mmsg_default() -> bool:
    """Batching is on unless ``FILTERPROXY_DNS_MMSG`` is ``0`` / ``false`` / ``no`` / ``off``."""
    return os.environ.get("FILTERPROXY_DNS_MMSG", "1").strip().lower() not in ("0", "false", "no", "off")


class UdpEndpoint:
    """A bound non-blocking UDP socket; ``on_datagram(data, addr)`` is called for each datagram."""

    def __init__(
        self,
        sock: socket.socket,
        on_datagram: Callable[[bytes, Any], None],
        quick: Quick | None,
        mmsg: bool | None = None,
    ) -> None:
        self.sock = sock
        self._on_datagram = on_datagram
        self._quick = quick
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._writing = False
        self._batching = False  # inside a burst: replies are queued and sent together at its end
        self._flushing = False  # a send of queued replies is scheduled for this loop iteration
        self.mmsg: MmsgSocket | None = open_mmsg(sock) if (mmsg_default() if mmsg is None else mmsg) else None

    @classmethod
    def bind(
        cls,
        host: str,
        port: int,
        reuse_port: bool,
        on_datagram: Callable[[bytes, Any], None],
        quick: Quick | None,
        mmsg: bool | None = None,
    ) -> UdpEndpoint:
        family, _type, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.setblocking(False)
            enlarge_buffers(sock)
        except OSError:
            sock.close()
            raise
        return cls(sock, on_datagram, quick, mmsg)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self) -> None:
        if self.mmsg is not None:
            try:
                self._readable_mmsg(self.mmsg)
                return
            except MmsgError as exc:
                self._give_up_mmsg(exc)
        self._readable_plain()

    def _readable_mmsg(self, mm: MmsgSocket) -> None:
        """One ``recvmmsg``; ready answers queued and sent with one ``sendmmsg``."""
        if mm.pending:
            mm.flush()
        quick, now = self._quick, time.perf_counter()
        try:
            rest = mm.answer(quick.answer if quick is not None else None, now)
        finally:
            if quick is not None:
                quick.answered(now)
        self._batching = True  # replies the chain has at once join the burst's sendmmsg
        try:
            handle = self._on_datagram
            for data, addr in rest:
                handle(data, addr)
        finally:
            self._batching = False
            self._send_queued()

    def _send_queued(self) -> None:
        """Send what is queued with one ``sendmmsg``; wait for the socket to drain if it is full."""
        self._flushing = False
        mm = self.mmsg
        if mm is None or not mm.pending or self._closed:
            return
        mm.flush()
        if mm.pending and not self._writing and self._loop is not None:
            self._writing = True  # the kernel's buffer is full: send the rest when it drains
            self._loop.add_writer(self.sock.fileno(), self._writable)

    def _guarded_send(self) -> None:
        try:
            self._send_queued()
        except MmsgError as exc:
            self._give_up_mmsg(exc)

    def _writable(self) -> None:
        mm = self.mmsg
        try:
            if mm is not None:
                mm.flush()
        except MmsgError as exc:
            self._give_up_mmsg(exc)
        if self.mmsg is None or not self.mmsg.pending:
            self._writing = False
            if self._loop is not None:
                self._loop.remove_writer(self.sock.fileno())

    def _give_up_mmsg(self, exc: OSError) -> None:
        """Back to one system call per datagram for good; queued replies go out that way."""
        mm, self.mmsg = self.mmsg, None
        log.warning("recvmmsg/sendmmsg failed (%s): reading the DNS UDP socket one datagram at a time", exc)
        if mm is not None:
            for reply, addr in mm.drain():
                self.sendto(reply, addr)

    def _readable_plain(self) -> None:
        recv, send, handle, quick = self.sock.recvfrom, self.sock.sendto, self._on_datagram, self._quick
        for _ in range(BATCH):
            try:
                data, addr = recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. an ICMP error queued for an earlier send
                log.debug("UDP receive error (client gone?): %s", exc)
                return
            reply = None
            if quick is not None:
                now = time.perf_counter()
                try:
                    reply = quick.answer(data, addr[0], now)
                finally:
                    quick.answered(now)
            if reply is None:
                handle(data, addr)
                continue
            if not reply:
                continue  # an empty reply: send nothing (rate limited)
            try:
                send(reply, addr)
            except OSError as exc:
                log.debug("UDP send to %s failed: %s", addr, exc)

    def sendto(self, data: bytes, addr: Any) -> None:
        """Send ``data`` to ``addr``: with batching, queued and sent with the other replies made in
        this loop iteration (one ``sendmmsg``); else at once. A datagram the kernel cannot take
        (buffer full, client gone) is dropped, as UDP may."""
        mm = self.mmsg
        if mm is not None and not self._closed:
            try:
                queued = mm.queue_to(data, addr)
            except MmsgError as exc:
                self._give_up_mmsg(exc)
                queued = False
            if queued:
                if not self._batching and not self._flushing and self._loop is not None:
                    self._flushing = True
                    self._loop.call_soon(self._guarded_send)
                return
        try:
            self.sock.sendto(data, addr)
        except OSError as exc:
            log.debug("UDP send to %s failed: %s", addr, exc)

    def get_extra_info(self, name: str) -> Any:
        return self.sock.getsockname() if name == "sockname" else None

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            if self._writing:
                self._loop.remove_writer(self.sock.fileno())
        self.sock.close()
