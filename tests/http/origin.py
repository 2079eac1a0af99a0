"""The local origin: answers every request with what it received, over HTTP and HTTPS.

It stands for the whole internet in tests: the proxy's upstream connections are mapped here
(:class:`UpstreamMap`), so no test ever resolves a name or leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Origin

    def do_GET(self) -> None:
        self.server.seen.append((self.command, self.headers.get("Host", ""), self.path, dict(self.headers)))
        if self.path.startswith("/page"):
            body = (
                b"<!DOCTYPE html><html><head><title>Allowed page</title></head><body><h1>Allowed page</h1>"
                b"<p>This page came from the origin.</p></body></html>"
            )
            ctype = "text/html"
        else:
            body = json.dumps(
                {
                    "path": self.path,
                    "host": self.headers.get("Host"),
                    "headers": dict(self.headers),
                    "origin": self.server.label,
                }
            ).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET
    do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Origin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, label: str, context: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.label = label
        self.seen: list[tuple[str, str, str, dict[str, str]]] = []
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)


class Origin:
    """An HTTP and an HTTPS origin on ephemeral loopback ports, sharing one request log."""

    def __init__(self, cert: Path, key: Path) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.http = _Origin("http", None)
        self.https = _Origin("https", context)
        self.https.seen = self.http.seen
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (self.http, self.https)]
        for t in self.threads:
            t.start()

    @property
    def seen(self) -> list[tuple[str, str, str, dict[str, str]]]:
        return self.http.seen

    @property
    def http_port(self) -> int:
        return int(self.http.server_address[1])

    @property
    def https_port(self) -> int:
        return int(self.https.server_address[1])

    def hosts_seen(self) -> set[str]:
        return {host.split(":")[0] for _, host, _, _ in self.seen}

    def close(self) -> None:
        for s in (self.http, self.https):
            s.shutdown()
            s.server_close()


class UpstreamMap:
    """mitmproxy addon for tests: every upstream connection goes to the local origin (no DNS, no internet).

    Port 443 and the origin's HTTPS port map to the HTTPS origin, everything else to the HTTP one.
    It runs after the filter, so a connection the filter killed stays killed.
    """

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.connects = 0

    def server_connect(self, data: Any) -> None:
        if data.server.error:
            return
        self.connects += 1
        port = data.server.address[1] if data.server.address else 80
        tls = port in (443, self.origin.https_port)
        data.server.address = ("127.0.0.1", self.origin.https_port if tls else self.origin.http_port)
