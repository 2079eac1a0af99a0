"""Container health: the resolver answers a query and the proxy accepts a connection.

Exit 0 when healthy. Addresses come from the same environment overrides the image sets,
so the check follows the configuration. Stdlib only: it runs in the slim image as is.
"""

from __future__ import annotations

import os
import socket
import struct
import sys


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    host = host.strip("[]")
    return ("127.0.0.1" if host in ("", "0.0.0.0", "::") else host), int(port)


def resolver_answers(host: str, port: int, timeout: float = 3.0) -> bool:
    """Any well-formed DNS response to our query id (even NXDOMAIN) means the resolver is alive."""
    ident = int.from_bytes(os.urandom(2), "big")
    query = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + b"\x09localhost\x00\x00\x01\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(query, (host, port))
        reply, _ = sock.recvfrom(4096)
    return len(reply) >= 12 and struct.unpack(">H", reply[:2])[0] == ident and bool(reply[2] & 0x80)


def proxy_accepts(host: str, port: int, timeout: float = 3.0) -> bool:
    with socket.create_connection((host, port), timeout):
        return True


def main() -> int:
    dns = _host_port(os.environ.get("FILTERPROXY__DNS__LISTEN", "127.0.0.1:5353"))
    proxy = _host_port(os.environ.get("FILTERPROXY__PROXY__LISTEN", "127.0.0.1:3128"))
    try:
        if not resolver_answers(*dns):
            print(f"resolver on {dns[0]}:{dns[1]} sent a malformed reply", file=sys.stderr)
            return 1
        proxy_accepts(*proxy)
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
