"""A local authoritative stub: the only 'internet' the resolver tests talk to (127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dnslib import AAAA, CNAME, HTTPS, QTYPE, RCODE, RR, SOA, TXT, A, DNSRecord

_LEN = struct.Struct("!H")

ZONE: dict[tuple[str, str], list[RR]] = {}


def _add(name: str, rtype: str, rdata: Any, ttl: int = 300) -> None:
    ZONE.setdefault((name, rtype), []).append(RR(name, getattr(QTYPE, rtype), rdata=rdata, ttl=ttl))


_add("ok.example", "A", A("192.0.2.1"))
_add("ok.example", "AAAA", AAAA("2001:db8::1"))
_add("www.ok.example", "A", A("192.0.2.2"))
_add("bet.example", "A", A("192.0.2.66"))
_add("sub.bet.example", "A", A("192.0.2.67"))
_add("alias.example", "CNAME", CNAME("hop.example"))
_add("hop.example", "CNAME", CNAME("bet.example"))
_add("clean-alias.example", "CNAME", CNAME("ok.example"))
_add("forcesafesearch.google.com", "A", A("216.239.38.120"))
_add("strict.bing.com", "A", A("204.79.197.220"))
_add("safe.duckduckgo.com", "A", A("52.142.124.215"))
_add("restrict.youtube.com", "A", A("216.239.38.120"))
_add("restrictmoderate.youtube.com", "A", A("216.239.38.119"))
_add("www.google.com", "A", A("142.250.1.1"))
_add("www.google.co.uk", "A", A("142.250.1.2"))
_add("www.youtube.com", "A", A("142.250.1.3"))
_add("big.example", "TXT", TXT(["x" * 250] * 8))  # about 2 kB: truncated over UDP
_add(
    "ech.example",
    "HTTPS",
    HTTPS(
        1, [], [(1, bytearray(b"\x02h2")), (4, bytearray(b"\xc0\x00\x02\x05")), (5, bytearray(b"\x00\x09ECHCONFIG"))]
    ),
)
_add("short.example", "A", A("192.0.2.9"), ttl=1)
SOA_RR = RR("example", QTYPE.SOA, rdata=SOA("ns.example", "host.example", (1, 60, 60, 60, 120)), ttl=120)


def answer(data: bytes, tcp: bool) -> bytes | None:
    try:
        query = DNSRecord.parse(data)
    except Exception:
        return None
    reply = query.reply()
    reply.header.aa = 1
    name = str(query.q.qname).rstrip(".").lower()
    qtype = QTYPE[query.q.qtype]
    records = ZONE.get((name, qtype)) or ZONE.get((name, "CNAME"))
    if records:
        reply.rr.extend(records)
        target = str(records[0].rdata.label).rstrip(".") if records[0].rtype == QTYPE.CNAME else None
        while target is not None:
            more = ZONE.get((target, qtype)) or ZONE.get((target, "CNAME")) or []
            reply.rr.extend(more)
            target = str(more[0].rdata.label).rstrip(".") if more and more[0].rtype == QTYPE.CNAME else None
    elif any(key[0] == name for key in ZONE):
        reply.auth.append(SOA_RR)
    else:
        reply.header.rcode = RCODE.NXDOMAIN
        reply.auth.append(SOA_RR)
    packed = bytes(reply.pack())
    if not tcp and len(packed) > 1232:
        reply.rr, reply.auth = [], []
        reply.header.tc = 1
        packed = bytes(reply.pack())
    return packed


class Stub:
    """UDP + TCP (+ optional TLS) authoritative stub on 127.0.0.1, counting queries."""

    def __init__(self) -> None:
        self.queries = 0
        self.source_ports: set[int] = set()
        self.silent = False  # drop everything: an upstream that is down without saying so
        self.udp: asyncio.DatagramTransport | None = None
        self.tcp: asyncio.Server | None = None
        self.tls: asyncio.Server | None = None
        self.port = 0
        self.tls_port = 0

    async def start(self, tls: ssl.SSLContext | None = None) -> None:
        loop = asyncio.get_running_loop()
        for _attempt in range(20):  # the UDP port's TCP twin may be taken: pick another
            self.udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=("127.0.0.1", 0))
            self.port = self.udp.get_extra_info("sockname")[1]
            try:
                self.tcp = await asyncio.start_server(self._stream, "127.0.0.1", self.port)
                break
            except OSError:
                self.udp.close()
        if tls is not None:
            self.tls = await asyncio.start_server(self._stream, "127.0.0.1", 0, ssl=tls)
            self.tls_port = self.tls.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for server in (self.tcp, self.tls):
            if server is not None:
                server.close()
        if self.udp is not None:
            self.udp.close()

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = _LEN.unpack(await reader.readexactly(2))[0]
                data = await reader.readexactly(size)
                self.queries += 1
                out = None if self.silent else answer(data, tcp=True)
                if out is not None:
                    writer.write(_LEN.pack(len(out)) + out)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, stub: Stub) -> None:
        self.stub = stub
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.stub.queries += 1
        self.stub.source_ports.add(addr[1])
        out = None if self.stub.silent else answer(data, tcp=False)
        if out is not None:
            self.transport.sendto(out, addr)


def self_signed(directory: Path, name: str = "dns.test") -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` and 127.0.0.1: (cert, key) PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


Factory = Callable[..., Any]
