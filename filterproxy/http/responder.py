"""Answers the proxy gives itself (block page, refusals) and the incidents it hands to the sink.

Every block and every log-only match becomes one :class:`BlockEvent`; the block page shows the
same reference as the incident. ``sink.submit`` never blocks, so this stays on the hot path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import chain
from zoneinfo import ZoneInfo

from mitmproxy import http

from filterproxy.config.block import BlockSettings
from filterproxy.http import blockpage
from filterproxy.http.decide import RequestDecision
from filterproxy.http.metrics import ProxyMetrics
from filterproxy.incidents.event import BlockEvent, IncidentSink, Protocol_, new_reference
from filterproxy.model import IPAddress, Verdict


class Responder:
    """Builds block answers and records incidents for one proxy."""

    def __init__(
        self,
        sink: IncidentSink,
        metrics: ProxyMetrics,
        block: BlockSettings,
        *,
        timezone: str = "UTC",
        max_header_bytes: int = 65536,
    ) -> None:
        self.sink = sink
        self.metrics = metrics
        self.block_settings = block
        self.zone = ZoneInfo(timezone)
        self.max_header_bytes = max_header_bytes
        self._pending: dict[str, tuple[IPAddress, Verdict, str]] = {}  # client conn id -> blocked TLS conn

    def record(
        self,
        flow: http.HTTPFlow | None,
        client: IPAddress,
        verdict: Verdict,
        protocol: Protocol_,
        *,
        url: str | None = None,
        search_term: str | None = None,
        reference: str | None = None,
    ) -> str:
        reference = reference or new_reference()
        request = flow.request if flow is not None else None
        self.sink.submit(
            BlockEvent(
                at=datetime.now(UTC),
                protocol=protocol,
                client=str(client),
                verdict=verdict,
                reference=reference,
                url=url if url is not None or request is None else _url(request),
                method=request.method if request is not None else None,
                search_term=search_term,
                user_agent=request.headers.get("user-agent") if request is not None else None,
            )
        )
        if verdict.blocked:
            self.metrics.blocked(verdict, protocol)
        return reference

    def refuse_connect(self, flow: http.HTTPFlow, client: IPAddress, verdict: Verdict) -> http.Response:
        """A 403 to a CONNECT: browsers show their own error, other clients see the text."""
        url = f"https://{flow.request.host}:{flow.request.port}/"
        reference = self.record(flow, client, verdict, "https", url=url)
        page = blockpage.render(
            verdict,
            url=url,
            reference=reference,
            at=self._local_now(),
            settings=self.block_settings,
            accept=None,
            method="CONNECT",
        )
        return http.Response.make(page.status, page.body, page.headers)

    def record_connection(self, client: IPAddress, verdict: Verdict, host: str) -> str:
        """A TLS connection refused at its ClientHello (no HTTP request to describe)."""
        return self.record(None, client, verdict, "https", url=f"https://{host}/" if host else None)

    def pending(self, client_id: str, client: IPAddress, verdict: Verdict) -> None:
        """A blocked connection being intercepted: recorded by its first request, or at its end."""
        if verdict.blocked:
            self._pending[client_id] = (client, verdict, verdict.host)

    def flush_pending(self, client_id: str) -> None:
        item = self._pending.pop(client_id, None)
        if item is not None:
            self.record_connection(item[0], item[1], item[2])

    def block(self, flow: http.HTTPFlow, client: IPAddress, decision: RequestDecision) -> http.Response:
        self._pending.pop(flow.client_conn.id, None)  # this request's incident stands for the connection
        request = flow.request
        url = _url(request)
        protocol: Protocol_ = "https" if request.scheme == "https" else "http"
        reference = self.record(flow, client, decision.verdict, protocol, url=url, search_term=decision.search_term)
        if decision.watch is not None:
            self.metrics.watched.labels(decision.watch.theme.value, decision.watch.action.value).inc()
        page = blockpage.render(
            decision.verdict,
            url=url,
            reference=reference,
            at=self._local_now(),
            settings=self.block_settings,
            accept=request.headers.get("accept"),
            method=request.method,
        )
        return http.Response.make(page.status, page.body, page.headers)

    def apply(self, flow: http.HTTPFlow, client: IPAddress, decision: RequestDecision) -> None:
        """An allowed request: enforce SafeSearch and YouTube mode; record log-only matches."""
        request = flow.request
        self._pending.pop(flow.client_conn.id, None)
        if decision.verdict.recorded:  # the URL as the pupil asked for it, before SafeSearch changes it
            protocol: Protocol_ = "https" if request.scheme == "https" else "http"
            self.record(flow, client, decision.verdict, protocol, search_term=decision.search_term)
        if decision.path is not None:
            request.path = decision.path
            self.metrics.rewrites.labels("safesearch").inc()
        if decision.youtube is not None:
            request.headers["YouTube-Restrict"] = decision.youtube
            self.metrics.rewrites.labels("youtube").inc()
        if decision.watch is not None:
            self.metrics.watched.labels(decision.watch.theme.value, decision.watch.action.value).inc()

    def oversized(self, flow: http.HTTPFlow) -> http.Response | None:
        """431 for absurd header blocks: they are neither classified nor forwarded."""
        fields = flow.request.headers.fields
        size = sum(map(len, chain.from_iterable(fields))) + 4 * len(fields) + len(flow.request.path)
        if size <= self.max_header_bytes:
            return None
        return http.Response.make(431, b"Request header fields too large\n", {"Content-Type": "text/plain"})

    def _local_now(self) -> datetime:
        return datetime.now(self.zone)


def _url(request: http.Request) -> str:
    return str(request.pretty_url)
