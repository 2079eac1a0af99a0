"""Small real clients for what curl cannot show: the certificate a TLS client actually receives."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TlsResult:
    issuer: str | None  # issuer CN of the certificate the client saw; None if no TLS session came up
    status_line: str  # first line of the HTTP answer (CONNECT answer when refused)
    body: bytes
    error: str | None = None


def _issuer_cn(cert: dict[str, object] | None) -> str | None:
    if not cert:
        return None
    for rdn in cert.get("issuer", ()):  # type: ignore[attr-defined]
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _tls_get(sock: socket.socket, host: str | None, cafile: Path, path: str) -> TlsResult:
    context = ssl.create_default_context(cafile=str(cafile))
    if host is None:
        context.check_hostname = False
    try:
        tls = context.wrap_socket(sock, server_hostname=host)
    except (ssl.SSLError, OSError) as exc:
        return TlsResult(None, "", b"", f"{type(exc).__name__}: {exc}")
    issuer = _issuer_cn(tls.getpeercert())
    tls.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host or '127.0.0.1'}\r\nAccept: text/html\r\nConnection: close\r\n\r\n".encode()
    )
    data = _read_all(tls)
    head, _, body = data.partition(b"\r\n\r\n")
    return TlsResult(issuer, head.split(b"\r\n", 1)[0].decode(), body)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (ssl.SSLError, OSError):
        pass
    return b"".join(chunks)


def via_connect(
    proxy_port: int,
    host: str,
    cafile: Path,
    *,
    path: str = "/",
    source: str = "127.0.0.1",
    port: int = 443,
    headers: dict[str, str] | None = None,
) -> TlsResult:
    """CONNECT (with extra ``headers``) through the proxy, then TLS with SNI ``host`` trusting only ``cafile``."""
    sock = socket.create_connection(("127.0.0.1", proxy_port), timeout=10, source_address=(source, 0))
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    with sock:
        sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        head, _, rest = answer.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].decode()
        if " 200 " not in status + " ":
            return TlsResult(None, status, rest + _read_all(sock))
        return _tls_get(sock, host, cafile, path)


def direct_tls(port: int, sni: str | None, cafile: Path, *, source: str = "127.0.0.1") -> TlsResult:
    """TLS straight to a transparent-style listener, as a redirected client would arrive."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    with sock:
        return _tls_get(sock, sni, cafile, "/")
