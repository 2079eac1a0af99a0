"""A PAC file for WPAD, and a tiny HTTP server that serves it (explicit mode).

Browsers fetch ``http://wpad.<domain>/wpad.dat`` directly, not through the proxy, so the PAC
file needs its own listener. Local names and private networks go direct; the rest via the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)
PATHS = ("/wpad.dat", "/proxy.pac")
CONTENT_TYPE = "application/x-ns-proxy-autoconfig"

# Private addresses are matched as text: isInNet() would make the browser resolve every name first.
_PAC = """function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".local") || host == "localhost" ||
      shExpMatch(host, "10.*") || shExpMatch(host, "192.168.*") || shExpMatch(host, "127.*") ||
      /^172\\.(1[6-9]|2[0-9]|3[01])\\./.test(host))
    return "DIRECT";
  return "PROXY %s";
}
"""


def pac_file(proxy: str) -> str:
    """The PAC script naming ``proxy`` (HOST:PORT). No fallback to DIRECT: that would bypass the filter."""
    return _PAC % proxy


class PacServer:
    """Serves the PAC file on GET/HEAD of /wpad.dat and /proxy.pac; 404 for anything else."""

    def __init__(self, host: str, port: int, proxy: str) -> None:
        self.host, self.port = host, port
        self.body = pac_file(proxy).encode("ascii")
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass  # headers are not needed; the size limit of StreamReader bounds each line
            writer.write(self._answer(line))
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass  # slow, broken or absurd clients simply lose their connection
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _answer(self, line: bytes) -> bytes:
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or parts[0] not in ("GET", "HEAD"):
            return b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        if parts[1].split("?", 1)[0] not in PATHS:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {len(self.body)}\r\n"
            "Cache-Control: max-age=300\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        return head if parts[0] == "HEAD" else head + self.body
