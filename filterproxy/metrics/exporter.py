"""The /metrics endpoint: a small asyncio HTTP/1.1 server over one private registry.

It runs in the service's event loop, answers GET/HEAD on the configured path, and speaks just
enough HTTP for Prometheus, curl and browsers: one request per connection, bounded request size
and time, optional basic authentication (whose password hashing runs in a worker thread, rate
limited per client: see :mod:`filterproxy.metrics.auth`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from filterproxy.config.types import split_host_port
from filterproxy.metrics.auth import BasicAuth, Outcome
from filterproxy.metrics.registry import counter
from filterproxy.metrics.settings import MetricsSettings

log = logging.getLogger(__name__)

_MAX_HEAD = 16 * 1024
_READ_TIMEOUT = 10.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
}


class MetricsServer:
    """Serves ``registry`` on ``settings.listen``; ``port`` is the bound port once started."""

    def __init__(self, settings: MetricsSettings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.host, self._port = split_host_port(settings.listen)
        self._auth = BasicAuth.from_settings(settings)
        auth_total = counter(
            registry, "filterproxy_metrics_auth_total", "Basic-auth checks of /metrics by outcome.", ("outcome",)
        )
        self._auth_outcome = {o: auth_total.labels(o.value) for o in Outcome}
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (the actual one when the configuration says 0)."""
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}{self.settings.path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host or None, self._port)
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("metrics on %s%s", self.url, " (basic auth)" if self._auth else "")

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._auth is not None:
            self._auth.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
            peer = writer.get_extra_info("peername")
            await self._respond(writer, *_parse_head(head), str(peer[0]) if peer else "")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            await _send(writer, 400, b"bad request\n", "text/plain")
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _respond(
        self, writer: asyncio.StreamWriter, method: str, path: str, headers: dict[str, str], client: str
    ) -> None:
        outcome = Outcome.OK
        if self._auth is not None and method in ("GET", "HEAD"):
            outcome = await self._auth.check(headers.get("authorization"), client)
            self._auth_outcome[outcome].inc()
        if method not in ("GET", "HEAD"):
            await _send(writer, 405, b"method not allowed\n", "text/plain", {"Allow": "GET, HEAD"})
        elif outcome is Outcome.LIMITED:
            await _send(writer, 429, b"too many failed attempts\n", "text/plain", {"Retry-After": "60"})
        elif outcome is Outcome.DENIED:
            await _send(writer, 401, b"unauthorized\n", "text/plain",
                        {"WWW-Authenticate": 'Basic realm="filterproxy metrics"'})
        elif path.partition("?")[0] == self.settings.path:
            encoder, content_type = choose_encoder(headers.get("accept", ""))
            # in a thread: a collector that reads a file or a database never stalls the resolver
            body = await asyncio.to_thread(encoder, self.registry)
            extra: dict[str, str] = {}
            if "gzip" in headers.get("accept-encoding", ""):
                body, extra = gzip.compress(body, compresslevel=5), {"Content-Encoding": "gzip"}
            await _send(writer, 200, body, content_type, extra, head_only=method == "HEAD")
        elif path == "/":
            page = f'<html><body><a href="{self.settings.path}">metrics</a></body></html>\n'.encode()
            await _send(writer, 200, page, "text/html; charset=utf-8")
        else:
            await _send(writer, 404, b"not found\n", "text/plain")


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    if len(head) > _MAX_HEAD:
        raise ValueError("request head too large")
    lines = head.decode("latin-1").split("\r\n")
    method, path, version = lines[0].split(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"unsupported version {version!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str,
    extra: dict[str, str] | None = None,
    *,
    head_only: bool = False,
) -> None:
    headers = {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"}
    headers.update(extra or {})
    lines = [f"HTTP/1.1 {status} {_REASONS[status]}"] + [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if not head_only:
        writer.write(body)
    await writer.drain()
