"""The proxy-authentication addon (explicit mode): who is behind each request or CONNECT.

Runs before the filter addon. ``http_connect`` and ``requestheaders`` check a
``Proxy-Authorization: Basic`` header (off the loop, cached: :mod:`filterproxy.identity.proxyauth`)
and note the person in ``flow.metadata``; a tunnel remembers the person of its CONNECT for the
TLS hooks and the intercepted requests inside it. The header never travels upstream.

- clients of a group that requires authentication and send no (or wrong) credentials: 407
- the directory is unavailable: the request goes on under the address-based policy (a RADIUS
  identity of the address, else the network's group), counted and logged once a minute
- everyone else: a RADIUS identity of the address, if any
"""

from __future__ import annotations

import logging
from typing import Any

from mitmproxy import http

from filterproxy.classify.engine import Engine
from filterproxy.http.addon import IDENTITY, client_ip
from filterproxy.identity.book import IdentityBook
from filterproxy.identity.model import Identity
from filterproxy.identity.proxyauth import AuthOutcome, ProxyAuthenticator
from filterproxy.model import IPAddress

log = logging.getLogger(__name__)
HEADER = "proxy-authorization"


class ProxyAuthAddon:
    def __init__(self, auth: ProxyAuthenticator | None, book: IdentityBook | None, engine: Engine) -> None:
        self.auth = auth
        self.book = book
        self.engine = engine
        self.required = frozenset(auth.settings.groups) if auth is not None else frozenset()
        self._tunnels: dict[str, Identity] = {}  # client connection id -> person of its CONNECT

    def who(self, connection_id: str, client: IPAddress) -> Identity | None:
        """The person behind a connection: proxy authentication first, else the address (RADIUS)."""
        found = self._tunnels.get(connection_id)
        if found is not None:
            return found
        return self.book.at(client) if self.book is not None else None

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        await self._identify(flow, tunnel=True)

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        if flow.client_conn.tls_established:  # inside a CONNECT tunnel: its CONNECT decided
            flow.metadata[IDENTITY] = self.who(flow.client_conn.id, _client(flow))
            return
        await self._identify(flow, tunnel=False)

    def client_disconnected(self, client: Any) -> None:
        self._tunnels.pop(client.id, None)

    async def _identify(self, flow: http.HTTPFlow, *, tunnel: bool) -> None:
        client = _client(flow)
        header = flow.request.headers.get(HEADER)
        if header is not None:
            del flow.request.headers[HEADER]  # never forwarded to the origin
        if self.auth is None:
            flow.metadata[IDENTITY] = self.who(flow.client_conn.id, client)
            return
        if header is None:
            if self._must_authenticate(client):
                self._challenge(flow, "proxy authentication required")
                return
            flow.metadata[IDENTITY] = self.who(flow.client_conn.id, client)
            return
        result = await self.auth.check(header)
        if result.outcome is AuthOutcome.OK and result.identity is not None:
            flow.metadata[IDENTITY] = result.identity
            if tunnel:
                self._tunnels[flow.client_conn.id] = result.identity
        elif result.outcome is AuthOutcome.REJECTED:
            self._challenge(flow, result.error or "wrong user name or password")
        else:  # the directory is down: the address-based policy, never a locked-out school
            flow.metadata[IDENTITY] = self.who(flow.client_conn.id, client)

    def _must_authenticate(self, client: IPAddress) -> bool:
        if self.book is not None and self.book.at(client) is not None:
            return False  # RADIUS already names the person at this address
        return not self.required or self.engine.group_of(client) in self.required

    def _challenge(self, flow: http.HTTPFlow, why: str) -> None:
        assert self.auth is not None
        realm = self.auth.settings.realm.replace('"', "'")
        flow.response = http.Response.make(
            407,
            f"{why}: sign in with your school account.\n",
            {"Proxy-Authenticate": f'Basic realm="{realm}", charset="UTF-8"', "Content-Type": "text/plain"},
        )
        self.auth.metrics.auth["challenged"].inc()


def _client(flow: http.HTTPFlow) -> IPAddress:
    return client_ip(flow.client_conn.peername)
