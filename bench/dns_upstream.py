"""The benchmark's upstream: a local authoritative stub with a fixed answer delay.

    .venv/bin/python -m bench.dns_upstream PORT [--delay-ms 2]

Every name under ``allowed.test`` exists (A, AAAA and HTTPS records derived from the name, TTL
300); anything else is NXDOMAIN with an SOA. Answers are built by splicing the question into
fixed bytes (no dnslib), read and written straight from the socket's readiness callback, and
each one leaves ``--delay-ms`` after its query arrived (one timer for the earliest due reply), so
the resolvers under test see an upstream with real latency that stays cheap at tens of
thousands of queries per second.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import socket
import time
from typing import Any

ZONE = b"\x07allowed\x04test\x00"
TTL = 300
_SOA_RDATA = b"\x02ns\x00\x04host\x00" + b"".join(n.to_bytes(4, "big") for n in (1, 3600, 600, 86400, 60))
_SOA = ZONE + b"\x00\x06\x00\x01" + (60).to_bytes(4, "big") + len(_SOA_RDATA).to_bytes(2, "big") + _SOA_RDATA
_HTTPS_RDATA = b"\x00\x01\x00" + b"\x00\x01\x00\x03\x02h2"  # priority 1, target ".", alpn=h2
OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"  # root-owned OPT, payload 1232, no options


def answer(query: bytes) -> bytes | None:
    """The reply to ``query``, or None for what is not a one-question query."""
    if len(query) < 17 or query[2] & 0x80 or query[4:6] != b"\x00\x01":
        return None
    pos = 12
    while pos < len(query) and query[pos]:
        pos += 1 + query[pos]
    end = pos + 5
    if end > len(query):
        return None
    name, qtype = query[12 : pos + 1].lower(), int.from_bytes(query[pos + 1 : pos + 3], "big")
    question, edns = query[12:end], query[10:12] != b"\x00\x00"
    flags = bytes([0x84 | (query[2] & 0x01), 0x80])  # QR AA (RD echoed), RA
    tail = OPT if edns else b""
    ar = b"\x00\x01" if edns else b"\x00\x00"
    if not name.endswith(ZONE):
        return query[:2] + flags[:1] + b"\x83" + b"\x00\x01\x00\x00\x00\x01" + ar + question + _SOA + tail
    rdata = _rdata(name, qtype)
    if rdata is None:  # NODATA
        return query[:2] + flags + b"\x00\x01\x00\x00\x00\x01" + ar + question + _SOA + tail
    record = b"\xc0\x0c" + query[pos + 1 : pos + 3] + b"\x00\x01" + TTL.to_bytes(4, "big")
    record += len(rdata).to_bytes(2, "big") + rdata
    return query[:2] + flags + b"\x00\x01\x00\x01\x00\x00" + ar + question + record + tail


def _rdata(name: bytes, qtype: int) -> bytes | None:
    digest = hashlib.blake2b(name, digest_size=16).digest()
    if qtype == 1:
        return b"\xc6\x33" + digest[:2]  # 198.51.x.y
    if qtype == 28:
        return b"\x20\x01\x0d\xb8" + digest[:12]
    if qtype == 65:
        return _HTTPS_RDATA
    return None


class DelayedStub:
    """A UDP socket answering each query ``delay`` seconds after it arrived."""

    def __init__(self, port: int, delay: float) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.delay = delay
        self.due: collections.deque[tuple[float, bytes, Any]] = collections.deque()
        self.timer: asyncio.TimerHandle | None = None
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.sock.fileno(), self._readable)

    def _readable(self) -> None:
        recv, due = self.sock.recvfrom, self.due
        at = time.monotonic() + self.delay
        for _ in range(256):
            try:
                data, addr = recv(65535)
            except (BlockingIOError, InterruptedError):
                break
            reply = answer(data)
            if reply is not None:
                due.append((at, reply, addr))
        if due and self.timer is None:
            self.timer = self.loop.call_at(due[0][0], self._send)

    def _send(self) -> None:
        self.timer = None
        now, due, send = time.monotonic(), self.due, self.sock.sendto
        while due and due[0][0] <= now:
            _at, reply, addr = due.popleft()
            with contextlib.suppress(OSError):  # a full buffer: a lost answer, as on a real network
                send(reply, addr)
        if due:
            self.timer = self.loop.call_at(due[0][0], self._send)


async def _main(port: int, delay: float) -> None:
    DelayedStub(port, delay)
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("--delay-ms", type=float, default=2.0, help="answer delay in milliseconds")
    args = parser.parse_args()
    import uvloop

    uvloop.run(_main(args.port, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
