"""A local origin for content-analysis tests: serves the pages written under tests/content/pages by host.

Each host is given a page and a way to send it (Content-Length, chunked, gzip); the origin counts
the requests per host, so a test can prove that a second request was decided without the body.
"""

from __future__ import annotations

import gzip
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGES = Path(__file__).resolve().parents[1] / "content" / "pages"


@dataclass(frozen=True)
class Served:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    how: str = "length"  # length | chunked | gzip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        self.server.hits[host] += 1
        served = self.server.pages.get(host)
        if served is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", served.content_type)
        body = served.body
        if served.how == "gzip":
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        if served.how == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 700):
                piece = body[start : start + 700]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: dict[str, Served], hits: Counter[str], context: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages, self.hits = pages, hits
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)


class ContentOrigin:
    """HTTP and HTTPS on loopback; ``serve(host, page)`` decides what a host answers."""

    def __init__(self, cert: Path, key: Path) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.pages: dict[str, Served] = {}
        self.hits: Counter[str] = Counter()
        self.http = _Server(self.pages, self.hits, None)
        self.https = _Server(self.pages, self.hits, context)
        for server in (self.http, self.https):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def serve(self, host: str, page: str | bytes, *, how: str = "length", content_type: str | None = None) -> None:
        body = page if isinstance(page, bytes) else (PAGES / f"{page}.html").read_bytes()
        self.pages[host] = Served(body, content_type or "text/html; charset=utf-8", how)

    @property
    def http_port(self) -> int:
        return int(self.http.server_address[1])

    @property
    def https_port(self) -> int:
        return int(self.https.server_address[1])

    def close(self) -> None:
        for server in (self.http, self.https):
            server.shutdown()
            server.server_close()
