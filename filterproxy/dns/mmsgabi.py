"""The Linux ABI that :mod:`filterproxy.dns.mmsg` drives through ctypes.

``struct iovec``/``msghdr``/``mmsghdr`` as ctypes structures, the flag values, loading libc's
``recvmmsg``/``sendmmsg`` (None where they do not exist or the layout is not the expected
64-bit one), and ``sockaddr_in``/``sockaddr_in6`` encoding and decoding.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import socket
import sys
from typing import Any

MSG_DONTWAIT = 0x40
MSG_TRUNC = 0x20
MMSGHDR_BYTES = 64  # struct mmsghdr on 64-bit Linux: msghdr (56) + msg_len + padding


class Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", ctypes.c_uint32),
        ("msg_iov", ctypes.POINTER(Iovec)),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    ]


class Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", Msghdr), ("msg_len", ctypes.c_uint)]


class MmsgError(OSError):
    """A ``recvmmsg``/``sendmmsg`` failure other than "would block" or a client's own error."""


def load_libc() -> Any | None:
    if not sys.platform.startswith("linux") or ctypes.sizeof(Mmsghdr) != MMSGHDR_BYTES:
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        recv, send = libc.recvmmsg, libc.sendmmsg
    except (OSError, AttributeError):
        return None
    recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]
    send.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    recv.restype = send.restype = ctypes.c_int
    return libc


def encode_sockaddr(family: int, address: tuple[Any, ...]) -> bytes:
    """The ``sockaddr_in`` / ``sockaddr_in6`` for a numeric (host, port) address (no scope id)."""
    host, port = address[0], address[1]
    head = family.to_bytes(2, sys.byteorder) + int(port).to_bytes(2, "big")
    if family == socket.AF_INET:
        return head + socket.inet_pton(socket.AF_INET, host) + bytes(8)
    return head + bytes(4) + socket.inet_pton(socket.AF_INET6, host) + bytes(4)


def decode_sockaddr(raw: bytes) -> tuple[Any, ...]:
    """A ``sockaddr_in`` / ``sockaddr_in6`` as the socket module's address tuple."""
    family = int.from_bytes(raw[0:2], sys.byteorder)
    port = int.from_bytes(raw[2:4], "big")
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, raw[4:8]), port
    if family != socket.AF_INET6:
        raise MmsgError(errno.EAFNOSUPPORT, f"unexpected address family {family}")
    host = socket.inet_ntop(socket.AF_INET6, raw[8:24])
    scope = int.from_bytes(raw[24:28], sys.byteorder)
    if scope:
        try:
            host = f"{host}%{socket.if_indextoname(scope)}"
        except OSError:
            host = f"{host}%{scope}"
    return host, port, int.from_bytes(raw[4:8], "big"), scope
