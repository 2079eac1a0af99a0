"""Fetching one site's home page for the background categoriser: bounded, no cookies, same site only.

``https://<name>/`` first, then ``http://<name>/``; redirects are followed (at most three) only
within the same registrable domain, so a name is never categorised by another site's page, and
nothing is sent but a GET with a fixed User-Agent (no cookies, no client data). The body is read
up to ``max_bytes`` and asked for uncompressed. ``connect`` is the seam tests use to reach a
local origin instead of resolving the name.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from filterproxy.lists.suffixes import registrable_domain

Connect = Callable[[str, int], tuple[str, int]]  # (name, port) -> address to connect to
MAX_REDIRECTS = 3


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    content_type: str | None
    body: bytes


class _Http(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, timeout: float, connect: Connect | None) -> None:
        super().__init__(host, port, timeout=timeout)
        self._to = connect

    def connect(self) -> None:
        address = self._to(self.host, self.port) if self._to else (self.host, self.port)
        self.sock = socket.create_connection(address, self.timeout)


class _Https(_Http):
    def __init__(self, host: str, port: int, timeout: float, connect: Connect | None, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout, connect)
        self._context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


def fetch_home(
    name: str,
    *,
    timeout: float,
    max_bytes: int,
    user_agent: str,
    context: ssl.SSLContext | None = None,
    connect: Connect | None = None,
) -> Page | None:
    """The home page of ``name`` (status 200 only), or None when neither HTTPS nor HTTP gives one."""
    for scheme in ("https", "http"):
        try:
            page = _follow(f"{scheme}://{name}/", name, timeout, max_bytes, user_agent, context, connect)
        except (OSError, http.client.HTTPException, ValueError):
            continue
        if page is not None:
            return page
    return None


def _follow(
    url: str,
    name: str,
    timeout: float,
    max_bytes: int,
    user_agent: str,
    context: ssl.SSLContext | None,
    connect: Connect | None,
) -> Page | None:
    site = registrable_domain(name)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        host = parts.hostname or ""
        if registrable_domain(host) != site:
            return None  # another site's page says nothing about this name
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        conn: _Http = (
            _Https(host, port, timeout, connect, context or ssl.create_default_context())
            if https
            else _Http(host, port, timeout, connect)
        )
        try:
            conn.request("GET", parts.path or "/", headers={"User-Agent": user_agent, "Accept-Encoding": "identity",
                                                            "Accept": "text/html,text/plain;q=0.9"})  # fmt: skip
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("location"):
                url = urljoin(url, response.getheader("location", ""))
                continue
            if response.status != 200:
                return None
            return Page(url, response.getheader("content-type"), response.read(max_bytes))
        finally:
            conn.close()
    return None
