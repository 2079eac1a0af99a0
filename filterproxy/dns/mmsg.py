"""Linux ``recvmmsg(2)`` / ``sendmmsg(2)`` through ctypes: many UDP datagrams per system call.

Python's socket module makes one system call and several objects per datagram. A
:class:`MmsgSocket` receives up to :data:`SLOTS` datagrams with one ``recvmmsg`` into buffers
allocated once (anonymous memory, so pages are only touched as datagrams arrive) and queues
replies that go out together with one ``sendmmsg``. Each receive slot holds
:data:`MAX_DATAGRAM` bytes, what ``recvfrom(65535)`` reads, so a datagram is seen exactly as
the plain path sees it. Client addresses are decoded once per raw ``sockaddr`` and cached.

:func:`open_mmsg` returns None where the calls do not exist (not Linux, no libc symbol, an
unexpected ABI); callers then use the plain socket calls. The ctypes structures, libc loading
and sockaddr codecs live in :mod:`filterproxy.dns.mmsgabi`.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import mmap
import socket
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from filterproxy.dns.mmsgabi import (
    MMSGHDR_BYTES,
    MSG_DONTWAIT,
    Iovec,
    MmsgError,
    Mmsghdr,
    decode_sockaddr,
    load_libc,
)

log = logging.getLogger(__name__)

SLOTS = 64
MAX_DATAGRAM = 65535
SLOT_BYTES = 65536
ADDRESS_CACHE = 65536


class _Slots:
    """``count`` mmsghdr entries, each with one iovec over its own data slot and an address slot."""

    def __init__(self, count: int, namelen: int) -> None:
        self.data = mmap.mmap(-1, count * SLOT_BYTES)
        self.names = mmap.mmap(-1, max(count * namelen, 1))
        self.headers = (Mmsghdr * count)()
        self.iovecs = (Iovec * count)()
        data_base = ctypes.addressof(ctypes.c_char.from_buffer(self.data))
        name_base = ctypes.addressof(ctypes.c_char.from_buffer(self.names))
        for i in range(count):
            self.iovecs[i].iov_base = data_base + i * SLOT_BYTES
            self.iovecs[i].iov_len = MAX_DATAGRAM
            header = self.headers[i].hdr
            header.msg_name = name_base + i * namelen
            header.msg_namelen = namelen
            header.msg_iov = ctypes.pointer(self.iovecs[i])
            header.msg_iovlen = 1
        self.ints = memoryview(self.headers).cast("B").cast("I")  # msg_namelen, msg_flags, msg_len
        self.lengths = memoryview(self.iovecs).cast("B").cast("Q")  # iov_len at [2 * i + 1]
        self.address = ctypes.addressof(self.headers)


_WOULD_BLOCK = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)
#: the calls themselves do not work here (seccomp, old kernel, bad ABI): give up batching
_BROKEN = (errno.ENOSYS, errno.EFAULT, errno.EINVAL, errno.EBADF, errno.ENOTSOCK, errno.EOPNOTSUPP, errno.EPERM)


class MmsgSocket:
    """Batched receive and send on a bound non-blocking ``AF_INET``/``AF_INET6`` UDP socket.

    ``receive()`` fills up to :data:`SLOTS` receive slots and returns how many; ``datagram(i)``
    and ``raw_sender(i)`` read slot ``i``. ``queue(reply, raw)`` adds a reply to a raw sockaddr;
    ``flush()`` sends what is queued with ``sendmmsg`` and keeps what the kernel would not take
    now (``pending``, in order) for the next flush; ``answer(quick, now)`` does all of it for a burst.
    Failures of the calls themselves (ENOSYS, EFAULT, ...) raise :class:`MmsgError`; an error
    that belongs to one client (an ICMP error queued by the kernel, a firewall refusing one
    destination) costs only that datagram, as with ``recvfrom``/``sendto``.
    """

    def __init__(self, sock: socket.socket, libc: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            raise ValueError("MmsgSocket needs an AF_INET or AF_INET6 socket")
        self.sock = sock
        self.namelen = 16 if sock.family == socket.AF_INET else 28
        self._recvmmsg, self._sendmmsg = libc.recvmmsg, libc.sendmmsg
        self.rx = _Slots(SLOTS, self.namelen)
        self.tx = _Slots(SLOTS, self.namelen)
        self.first = 0  # queued replies are tx slots [first, count)
        self.count = 0
        self._addresses: OrderedDict[bytes, tuple[Any, ...]] = OrderedDict()
        self._raws: dict[tuple[Any, ...], bytes] = {}  # the reverse of _addresses, for queue_to()
        self.dropped = 0  # errno of the last error receive() or flush() met for one datagram (0: none)

    @property
    def pending(self) -> int:
        return self.count - self.first

    def receive(self) -> int:
        """Datagrams now in the receive slots (0 when none are waiting)."""
        got = self._recvmmsg(self.sock.fileno(), self.rx.address, SLOTS, MSG_DONTWAIT, None)
        if got >= 0:
            return int(got)
        code = ctypes.get_errno()
        if code in _BROKEN:
            raise MmsgError(code, f"recvmmsg: {errno.errorcode.get(code, code)}")
        if code not in _WOULD_BLOCK:
            self.dropped = code  # an ICMP error queued for an earlier send (as recvfrom reports it)
        return 0

    def answer(
        self, quick: Callable[[bytes, str, float], bytes | None] | None, now: float = 0.0
    ) -> list[tuple[bytes, tuple[Any, ...]]]:
        """Receive a burst; queue ``quick(data, host, now)``'s replies; return the datagrams it did
        not answer (None), with senders. An empty reply means: send nothing.

        The per-datagram work of :meth:`datagram`, :meth:`raw_sender`, :meth:`address` and
        :meth:`queue`, inlined: this loop is the resolver's hottest code.
        """
        count = self.receive()
        rx, tx, namelen, addresses = self.rx, self.tx, self.namelen, self._addresses
        ints, data_map, name_map = rx.ints, rx.data, rx.names  # slicing an mmap gives bytes at once
        out_data, out_names, lengths = tx.data, tx.names, tx.lengths
        rest: list[tuple[bytes, tuple[Any, ...]]] = []
        j = self.count
        for i in range(count):
            start, at = i * SLOT_BYTES, i * namelen
            data = data_map[start : start + ints[16 * i + 14]]
            raw = name_map[at : at + namelen]
            addr = addresses.get(raw) or self.address(raw)
            reply = quick(data, addr[0], now) if quick is not None else None
            if reply is None:
                rest.append((data, addr))
                continue
            size = len(reply)
            if not size:
                continue  # an empty reply: send nothing (rate limited)
            if j == SLOTS or size > MAX_DATAGRAM:
                self.count = j
                if not self.queue(reply, raw):
                    self.send_now(reply, addr)  # rare: larger than a slot, or the kernel's buffer is full
                j = self.count
                continue
            out_data[j * SLOT_BYTES : j * SLOT_BYTES + size] = reply
            out_names[j * namelen : j * namelen + namelen] = raw
            lengths[2 * j + 1] = size
            j += 1
        self.count = j
        return rest

    def send_now(self, reply: bytes, addr: tuple[Any, ...]) -> None:
        """One ``sendto``; a datagram the kernel cannot take is dropped, as UDP may."""
        try:
            self.sock.sendto(reply, addr)
        except OSError as exc:
            log.debug("UDP send to %s failed: %s", addr, exc)

    def datagram(self, i: int) -> bytes:
        start = i * SLOT_BYTES
        return self.rx.data[start : start + self.rx.ints[16 * i + 14]]

    def raw_sender(self, i: int) -> bytes:
        return self.rx.names[i * self.namelen : (i + 1) * self.namelen]

    def address(self, raw: bytes) -> tuple[Any, ...]:
        """``raw`` (a sockaddr) as ``recvfrom`` gives it: (host, port) or (host, port, flowinfo, scope_id)."""
        found = self._addresses.get(raw)
        if found is None:
            if len(self._addresses) >= ADDRESS_CACHE:
                self._raws.pop(self._addresses.popitem(last=False)[1], None)
            found = self._addresses[raw] = decode_sockaddr(raw)
            self._raws[found] = raw
        return found

    def queue_to(self, reply: bytes, addr: tuple[Any, ...]) -> bool:
        """Queue ``reply`` to an address a datagram came from; False if it is unknown or cannot be queued."""
        raw = self._raws.get(addr)
        return raw is not None and self.queue(reply, raw)

    def queue(self, reply: bytes, raw: bytes) -> bool:
        """Queue ``reply`` to ``raw``; False when it cannot be queued (too large, or full after a flush)."""
        size = len(reply)
        if size > MAX_DATAGRAM:
            return False
        if self.count == SLOTS:
            self.flush()
            if self.count == SLOTS:
                return False
        j, tx = self.count, self.tx
        tx.data[j * SLOT_BYTES : j * SLOT_BYTES + size] = reply
        tx.names[j * self.namelen : (j + 1) * self.namelen] = raw
        tx.lengths[2 * j + 1] = size
        self.count = j + 1
        return True

    def flush(self) -> None:
        """Send the queued replies; what would block stays queued (``pending``), in order."""
        fd, send, base = self.sock.fileno(), self._sendmmsg, self.tx.address
        while self.first < self.count:
            sent = send(fd, base + self.first * MMSGHDR_BYTES, self.count - self.first, MSG_DONTWAIT)
            if sent > 0:
                self.first += sent
                continue
            code = ctypes.get_errno()
            if code in _WOULD_BLOCK:
                self._compact()
                return
            if code in _BROKEN and code != errno.EPERM:
                raise MmsgError(code, f"sendmmsg: {errno.errorcode.get(code, code)}")
            self.first += 1  # this client's datagram failed (unreachable, refused, filtered): drop it
            self.dropped = code
        self.first = self.count = 0

    def drain(self) -> list[tuple[bytes, tuple[Any, ...]]]:
        """Take the queued replies out as (reply, address), for sending another way."""
        tx, out = self.tx, []
        for j in range(self.first, self.count):
            start = j * SLOT_BYTES
            reply = tx.data[start : start + tx.lengths[2 * j + 1]]
            out.append((reply, self.address(tx.names[j * self.namelen : (j + 1) * self.namelen])))
        self.first = self.count = 0
        return out

    def _compact(self) -> None:
        """Move the unsent replies to the front so that later ones queue behind them."""
        if self.first == 0:
            return
        tx, n = self.tx, self.count - self.first
        for k in range(n):
            j = self.first + k
            size = tx.lengths[2 * j + 1]
            tx.data[k * SLOT_BYTES : k * SLOT_BYTES + size] = tx.data[j * SLOT_BYTES : j * SLOT_BYTES + size]
            tx.names[k * self.namelen : (k + 1) * self.namelen] = tx.names[j * self.namelen : (j + 1) * self.namelen]
            tx.lengths[2 * k + 1] = size
        self.first, self.count = 0, n


def open_mmsg(sock: socket.socket) -> MmsgSocket | None:
    """A :class:`MmsgSocket` for ``sock``, or None where batching is not available."""
    libc = load_libc()
    if libc is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return None
    return MmsgSocket(sock, libc)
