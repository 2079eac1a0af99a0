"""A local list mirror over ../shared/data/blocklists: ``lists.mirror`` pointed at it fetches every source.

It answers ``GET /<source id>/<file name>`` the way the source's publisher would: a UT1 category as a
tarball (``<cat>/domains`` and ``<cat>/urls``, built on the fly from ``ut1/<cat>.domains.gz`` and
``.urls.gz``), every other list as the plain text of its shared copy (hosts or domains, as that source
declares). Bodies carry an ETag and honour ``If-None-Match``. 127.0.0.1 only; nothing is copied into
the project. Used by the first-start tests and by ``bench.first_fetch``.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.lists.tarballs import tar_bytes
from tests.shared_lists import SHARED


def body_for(source_id: str, shared: Path = SHARED) -> bytes | None:
    """What the publisher of ``source_id`` would serve, from the shared copies; None if not held."""
    publisher, _, name = source_id.partition("/")
    if publisher == "ut1":
        files = {f"{name}/{kind}": gzip.decompress(path.read_bytes())
                 for kind in ("domains", "urls") if (path := shared / "ut1" / f"{name}.{kind}.gz").is_file()}
        return tar_bytes(files) if files else None
    folder = shared / publisher
    candidates = [folder / f"{name}.{fmt}.gz" for fmt in ("hosts", "domains")] if name else sorted(
        folder.glob("*.gz"))
    for path in candidates:
        if path.is_file():
            return gzip.decompress(path.read_bytes())
    return None


@dataclass
class Mirror:
    """The running mirror: its base URL and the paths it was asked for."""

    url: str
    requests: list[str] = field(default_factory=list)
    _cache: dict[str, bytes | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self, path: str) -> bytes | None:
        parts = path.strip("/").split("/")
        if len(parts) < 2:
            return None
        source_id = "/".join(parts[:-1])
        with self._lock:
            if source_id not in self._cache:
                self._cache[source_id] = body_for(source_id)
            return self._cache[source_id]


def _handler(mirror: Mirror) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            mirror.requests.append(self.path)
            body = mirror.body(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_mirror() -> Iterator[Mirror]:
    """Serve the shared lists on an ephemeral 127.0.0.1 port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    mirror = Mirror(f"http://127.0.0.1:{server.server_address[1]}/")
    server.RequestHandlerClass = _handler(mirror)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
