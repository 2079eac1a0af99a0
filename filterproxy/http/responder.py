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
from filterproxy.http.safesearch import YOUTUBE_HEADER
from filterproxy.identity.model import Identity
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
        self._pending: dict[str, tuple[IPAddress, Verdict, Identity | None]] = {}  # client conn id -> blocked TLS

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
        who: Identity | None = None,
        probe: bool = False,
    ) -> str:
        reference = reference or new_reference()
        if probe:  # a self-test probe: no incident, and counted apart from pupils' blocks
            if verdict.blocked:
                self.metrics.probe_blocked(verdict, protocol)
            return reference
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
                user=who.user if who is not None else None,
                identified_by=who.source.value if who is not None else None,
                identified_at=datetime.fromtimestamp(who.since, UTC) if who is not None else None,
            )
        )
        if verdict.blocked:
            self.metrics.blocked(verdict, protocol)
        return reference

    def refuse_connect(
        self, flow: http.HTTPFlow, client: IPAddress, verdict: Verdict, who: Identity | None = None,
        *, probe: bool = False,
    ) -> http.Response:
        """A 403 to a CONNECT: browsers show their own error, other clients see the text."""
        url = f"https://{flow.request.host}:{flow.request.port}/"
        reference = self.record(flow, client, verdict, "https", url=url, who=who, probe=probe)
        return self._page(verdict, url, reference, None, "CONNECT")

    def record_connection(
        self, client: IPAddress, verdict: Verdict, host: str, who: Identity | None = None, *, probe: bool = False
    ) -> str:
        """A TLS connection refused at its ClientHello (no HTTP request to describe)."""
        url = f"https://{host}/" if host else None
        return self.record(None, client, verdict, "https", url=url, who=who, probe=probe)

    def pending(self, client_id: str, client: IPAddress, verdict: Verdict, who: Identity | None = None) -> None:
        """A blocked connection being intercepted: recorded by its first request, or at its end."""
        if verdict.blocked:
            self._pending[client_id] = (client, verdict, who)

    def flush_pending(self, client_id: str) -> None:
        item = self._pending.pop(client_id, None)
        if item is not None:
            self.record_connection(item[0], item[1], item[1].host, item[2])

    def block(
        self, flow: http.HTTPFlow, client: IPAddress, decision: RequestDecision, who: Identity | None = None,
        *, probe: bool = False,
    ) -> http.Response:
        self._pending.pop(flow.client_conn.id, None)  # this request's incident stands for the connection
        request = flow.request
        url = _url(request)
        reference = self.record(
            flow, client, decision.verdict, _protocol(request), url=url, search_term=decision.search_term, who=who,
            probe=probe,
        )
        return self._page(decision.verdict, url, reference, request.headers.get("accept"), request.method)

    def apply(
        self, flow: http.HTTPFlow, client: IPAddress, decision: RequestDecision, who: Identity | None = None,
        *, probe: bool = False,
    ) -> None:
        """An allowed request: enforce SafeSearch and YouTube mode; record log-only matches."""
        request = flow.request
        self._pending.pop(flow.client_conn.id, None)
        if decision.verdict.recorded and not probe:  # the URL as the pupil asked for it, before SafeSearch changes it
            self.record(flow, client, decision.verdict, _protocol(request), search_term=decision.search_term, who=who)
        if decision.path is not None:
            request.path = decision.path
            self.metrics.rewrites.labels("safesearch").inc()
        if decision.youtube is not None:
            request.headers[YOUTUBE_HEADER] = decision.youtube
            self.metrics.rewrites.labels("youtube").inc()

    def oversized(self, flow: http.HTTPFlow) -> http.Response | None:
        """431 for absurd header blocks: they are neither classified nor forwarded."""
        fields = flow.request.headers.fields
        size = sum(map(len, chain.from_iterable(fields))) + 4 * len(fields) + len(flow.request.path)
        if size <= self.max_header_bytes:
            return None
        return http.Response.make(431, b"Request header fields too large\n", {"Content-Type": "text/plain"})

    def _page(self, verdict: Verdict, url: str, reference: str, accept: str | None, method: str) -> http.Response:
        page = blockpage.render(
            verdict,
            url=url,
            reference=reference,
            at=datetime.now(self.zone),
            settings=self.block_settings,
            accept=accept,
            method=method,
        )
        return http.Response.make(page.status, page.body, page.headers)


def _url(request: http.Request) -> str:
    return str(request.pretty_url)


def _protocol(request: http.Request) -> Protocol_:
    return "https" if request.scheme == "https" else "http"
