"""The filtering addon: mitmproxy hooks translated into :class:`Decider` calls.

Where each decision is made, and why there:

- ``http_connect`` (explicit mode): before any upstream connection, so a refusal costs nothing.
- ``tls_clienthello`` (both modes): the SNI may name another host than the CONNECT (and is all
  transparent mode has); allowed connections are ignored here, i.e. passed through untouched.
- ``server_connect``: closes connections refused at the ClientHello before they reach upstream.
- ``requestheaders``: plain HTTP and intercepted HTTPS, before the body and before upstream.
- ``server_connect`` (every upstream connection): the destination is resolved here, checked against
  :class:`InternalGuard` (never the gateway itself) and the connection pinned to the checked address.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from mitmproxy import ctx, exceptions, http

from filterproxy.classify.normalise import parse_ip
from filterproxy.http import fastpath
from filterproxy.http.content import ContentGuard
from filterproxy.http.decide import ConnectionDecision, Decider, TlsHandling
from filterproxy.http.internal import InternalGuard
from filterproxy.http.limits import ClientLimit
from filterproxy.http.metrics import ProxyMetrics
from filterproxy.http.responder import Responder
from filterproxy.http.settings import passthrough_name
from filterproxy.identity.model import Identity
from filterproxy.model import IPAddress
from filterproxy.selftest.marker import HTTP_HEADER, ProbeMarker

log = logging.getLogger(__name__)
META = "filterproxy"
IDENTITY = "filterproxy.identity"  # set by the proxy-authentication addon (filterproxy.http.auth)
NO_SNI = ("classify", "block")


def client_ip(peername: Any) -> IPAddress:
    """The client address, with IPv4-mapped IPv6 (dual-stack sockets) unwrapped."""
    return _parse_client(peername[0])


@functools.lru_cache(maxsize=4096)
def _parse_client(text: str) -> IPAddress:
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def request_host(request: http.Request) -> str:
    """The host to classify: where the proxy will connect (never a Host header that contradicts it).

    Only when that destination is an IP address (transparent mode) does the Host header name the site.
    """
    host: str = request.host
    if host and not (host[0].isdigit() or ":" in host):
        return host
    header = request.host_header
    if not header:
        return host
    name, _, port = header.rpartition(":") if not header.endswith("]") else (header, "", "")
    return (name if port.isdigit() else header).strip("[]")


class FilterAddon:
    """Block, pass through or intercept by the shared classifier's verdict."""

    def __init__(
        self,
        decider: Decider,
        responder: Responder,
        metrics: ProxyMetrics,
        limit: ClientLimit | None = None,
        who: Callable[[str, IPAddress], Identity | None] | None = None,
        marker: ProbeMarker | None = None,
        content: ContentGuard | None = None,
        guard: InternalGuard | None = None,
    ) -> None:
        self.decider = decider
        self.who = who  # connection id, client -> the person (proxy auth, RADIUS); None: no identity sources
        self.responder = responder
        self.metrics = metrics
        self.limit = limit or ClientLimit(0)
        self.marker = marker
        self.content = content  # page-content analysis of allowed responses; None when off
        self.guard = guard or InternalGuard()
        self._refused: dict[str, str] = {}  # server connection id -> client connection id
        self._probes: set[str] = set()  # client connections whose CONNECT carried a self-test token

    def load(self, loader: Any) -> None:
        loader.add_option(
            "filterproxy_tls_blockpage",
            bool,
            self.decider.tls_blockpage,
            "Intercept blocked HTTPS connections (only those) to show the block page; needs the school CA.",
        )
        loader.add_option(
            "filterproxy_no_sni",
            str,
            self.decider.no_sni,
            "TLS without SNI: classify the destination address, or block.",
            choices=list(NO_SNI),
        )
        loader.add_option(
            "filterproxy_max_client_connections", int, self.limit.limit,
            "Simultaneous connections allowed per client address (0: no limit).",
        )  # fmt: skip
        loader.add_option(
            "filterproxy_passthrough",
            Sequence[str],
            sorted(self.decider.passthrough),
            "Domains never intercepted (pinned apps, OS updates, banking), subdomains included.",
        )

    def configure(self, updated: set[str]) -> None:
        if "filterproxy_passthrough" in updated:
            try:
                names = [passthrough_name(n) for n in ctx.options.filterproxy_passthrough]
            except ValueError as exc:
                raise exceptions.OptionsError(f"filterproxy_passthrough: {exc}") from exc  # type: ignore[no-untyped-call]
            self.decider.passthrough = frozenset(names)
        if "filterproxy_max_client_connections" in updated:
            if ctx.options.filterproxy_max_client_connections < 0:
                raise exceptions.OptionsError("filterproxy_max_client_connections must be >= 0")  # type: ignore[no-untyped-call]
            self.limit.limit = ctx.options.filterproxy_max_client_connections
        if "filterproxy_tls_blockpage" in updated:
            self.decider.tls_blockpage = bool(ctx.options.filterproxy_tls_blockpage)
        if "filterproxy_no_sni" in updated:
            value = ctx.options.filterproxy_no_sni
            if value not in NO_SNI:
                raise exceptions.OptionsError(f"filterproxy_no_sni: expected one of {NO_SNI}, got {value!r}")  # type: ignore[no-untyped-call]
            self.decider.no_sni = value

    def _refuse_internal(self, flow: http.HTTPFlow) -> bool:
        """Refuse a request or CONNECT that names the gateway itself (the address check follows at connect)."""
        reason = self.guard.check_name(flow.request.host, flow.request.port)
        if reason is None:
            return False
        self.metrics.internal_reason[reason].inc()
        self.metrics.outcome["refused"].inc()
        flow.response = http.Response.make(
            403, b"Refused: the proxy does not connect to the gateway itself.\n", {"Content-Type": "text/plain"}
        )
        return True

    def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        if self._refuse_internal(flow):
            return
        started = time.perf_counter()
        client = client_ip(flow.client_conn.peername)
        who = flow.metadata.get(IDENTITY)
        probe = self._probe(flow.request, flow.request.host)
        if probe:
            self._probes.add(flow.client_conn.id)  # its TLS (block page interception) is the probe's too
        decision = self.decider.connection(client, flow.request.host, None, who)
        flow.metadata[META] = decision.verdict
        if decision.handling is TlsHandling.REFUSE:
            flow.response = self.responder.refuse_connect(flow, client, decision.verdict, who, probe=probe)
        elif decision.verdict.recorded and not decision.verdict.blocked:
            self.responder.record(flow, client, decision.verdict, "https", who=who, probe=probe)
        self.metrics.outcome["refused" if flow.response else "allowed"].inc()
        self.metrics.hook_time["connect"].observe(time.perf_counter() - started)

    def next_layer(self, nextlayer: Any) -> None:
        hello = fastpath.client_hello(nextlayer)
        if hello is None:
            return
        started = time.perf_counter()
        context = nextlayer.context
        client, decision, name, who = self._decide_tls(context, hello.sni)
        if decision.handling is not TlsHandling.INTERCEPT:  # interception: tls_clienthello takes over
            self._act(context, client, decision, name, who)
            nextlayer.layer = fastpath.relay(context)
            self.metrics.hook_time["clienthello"].observe(time.perf_counter() - started)

    def tls_clienthello(self, data: Any) -> None:
        started = time.perf_counter()
        client, decision, name, who = self._decide_tls(data.context, data.client_hello.sni)
        self._act(data.context, client, decision, name, who)
        data.ignore_connection = decision.handling is not TlsHandling.INTERCEPT
        self.metrics.hook_time["clienthello"].observe(time.perf_counter() - started)

    def _decide_tls(
        self, context: Any, sni: str | None
    ) -> tuple[IPAddress, ConnectionDecision, str, Identity | None]:
        client = client_ip(context.client.peername)
        who = self.who(context.client.id, client) if self.who is not None else None
        address = context.server.address[0] if context.server.address else None
        decision = self.decider.connection(client, sni or _name_or_none(address), address, who)
        return client, decision, sni or address or "", who

    def _act(
        self, context: Any, client: IPAddress, decision: ConnectionDecision, name: str, who: Identity | None
    ) -> None:
        if decision.handling is TlsHandling.REFUSE:  # relayed, never terminated; server_connect kills it
            self._refused[context.server.id] = context.client.id
            self.responder.record_connection(client, decision.verdict, name, who,
                                             probe=context.client.id in self._probes)
        elif decision.handling is TlsHandling.INTERCEPT and context.client.id not in self._probes:
            self.responder.pending(context.client.id, client, decision.verdict, who)
        self.metrics.handling[decision.handling.value].inc()

    async def server_connect(self, data: Any) -> None:
        if self._refused.pop(data.server.id, None) is not None:
            data.server.error = "blocked by filterproxy"
            return
        if data.server.error or not data.server.address:
            return
        host, port = data.server.address[0], data.server.address[1]
        address, reason = await self.guard.pin(host, port)
        if reason is not None:
            self.metrics.internal_reason[reason].inc()
            data.server.error = f"refused by filterproxy: {host}:{port} is inside the gateway ({reason})"
        else:
            data.server.address = (address, port)  # connect to exactly what was checked (DNS rebinding)

    def tls_failed_client(self, data: Any) -> None:
        self.responder.flush_pending(data.context.client.id)

    def client_connected(self, client: Any) -> None:
        if not self.limit.admit(client.id, client.peername[0]):
            client.error = "too many connections from this client"  # mitmproxy closes it at once
            self.metrics.limited.inc()

    def client_disconnected(self, client: Any) -> None:
        self.limit.release(client.id, client.peername[0])
        self._probes.discard(client.id)
        self.responder.flush_pending(client.id)
        for server_id in [s for s, c in self._refused.items() if c == client.id]:
            del self._refused[server_id]

    def error(self, flow: http.HTTPFlow) -> None:
        self.metrics.outcome["error"].inc()  # upstream unreachable, reset, protocol error

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        if self._refuse_internal(flow):
            return
        started = time.perf_counter()
        request = flow.request
        client = client_ip(flow.client_conn.peername)
        oversized = self.responder.oversized(flow)
        if oversized is not None:
            flow.response = oversized
            self.metrics.outcome["refused"].inc()
            return
        who = flow.metadata.get(IDENTITY)
        host = request_host(request)
        probe = self._probe(request, host)
        decision = self.decider.request(client, host, request.path, who)
        flow.metadata[META] = decision.verdict
        if decision.verdict.blocked:
            flow.response = self.responder.block(flow, client, decision, who, probe=probe)
        else:
            self.responder.apply(flow, client, decision, who, probe=probe)
        if self.content is not None:
            self.content.counted(decision.verdict)
        if decision.watch is not None:
            self.metrics.watched.labels(decision.watch.theme.value, decision.watch.action.value).inc()
        outcome = "blocked" if decision.verdict.blocked else "logged" if decision.verdict.recorded else "allowed"
        self.metrics.outcome[outcome].inc()
        self.metrics.hook_time["request"].observe(time.perf_counter() - started)

    def _probe(self, request: http.Request, host: str) -> bool:
        """Whether a valid self-test token marks this request; the header never goes upstream."""
        header = request.headers.pop(HTTP_HEADER, None)
        return header is not None and self.marker is not None and self.marker.http(host, header)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if self.content is None or flow.error or not flow.live or flow.response is None:
            return
        verdict = flow.metadata.get(META)
        if verdict is not None:
            self.content.responseheaders(flow, client_ip(flow.client_conn.peername), verdict)

    async def response(self, flow: http.HTTPFlow) -> None:
        if self.content is not None:
            await self.content.response(flow)

    def done(self) -> None:
        if self.content is not None:
            self.content.close()


def _name_or_none(address: str | None) -> str | None:
    """A destination given as an IP literal is no name: it is classified by the no-SNI policy."""
    return None if address is None or parse_ip(address) is not None else address
