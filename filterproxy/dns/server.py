"""The resolver's only contact with sockets: UDP and TCP (RFC 7766) listeners around the chain.

A UDP datagram the hot lane knows (:mod:`filterproxy.dns.hotlane`) is answered at once from
it. Others go through intake and the chain; replies that the chain has at once (blocks, cache
hits) are sent from the datagram callback, and taught to the hot lane; only those that wait on
an upstream get a task. Any exception from a stage becomes SERVFAIL
and a count in ``filterproxy_dns_stage_exceptions_total``; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Awaitable
from typing import Any

from prometheus_client import CollectorRegistry

from filterproxy.bounded import BoundedDict
from filterproxy.config.model import Config
from filterproxy.config.types import split_host_port
from filterproxy.dns import wire
from filterproxy.dns.access import ClientAccess, LimitedQuick, RateLimiter, allowed_networks
from filterproxy.dns.answers import DnsAnswers, servfail
from filterproxy.dns.cache import Cache
from filterproxy.dns.chain import build_chain
from filterproxy.dns.hotlane import HotLane
from filterproxy.dns.intake import intake, truncate
from filterproxy.dns.metrics import DnsMetrics
from filterproxy.dns.ports import EngineLike
from filterproxy.dns.request import Answer, Pending, Request, Transport
from filterproxy.dns.tcp import TcpListener
from filterproxy.dns.udp import UdpEndpoint
from filterproxy.dns.upstream import UpstreamPool
from filterproxy.errors import DnsError
from filterproxy.gateway.hook import AnswerObserver
from filterproxy.identity.book import IdentityBook
from filterproxy.incidents.event import IncidentSink
from filterproxy.model import IPAddress
from filterproxy.selftest.marker import ProbeMarker

log = logging.getLogger(__name__)
CLIENTS_LIMIT = 65536  # parsed client addresses kept (oldest first out)
Outcome = tuple[Request, Answer | Awaitable[Answer]] | bytes | None


class DnsServer:
    """``DnsServer(config, engine, sink, registry)``; ``await start()`` binds UDP and TCP on one port."""

    def __init__(
        self,
        config: Config,
        engine: EngineLike,
        sink: IncidentSink,
        registry: CollectorRegistry,
        *,
        observer: AnswerObserver | None = None,
        listen: str | None = None,
        reuse_port: bool = False,
        identities: IdentityBook | None = None,
    ) -> None:
        self.settings = config.dns
        self.listen = listen or self.settings.listen
        self.reuse_port = reuse_port
        self.metrics = DnsMetrics(registry)
        self.pool = UpstreamPool(self.settings, self.metrics)
        self.cache = Cache(self.settings.cache_size, self.settings.serve_stale)
        self.responder = DnsAnswers(self.settings.edns_payload, self.settings.fast_path)
        self.handler = build_chain(
            settings=self.settings,
            block=config.block,
            engine=engine,
            sink=sink,
            metrics=self.metrics,
            responder=self.responder,
            cache=self.cache,
            pool=self.pool,
            observer=observer,
            identities=identities,
        )
        self.lane: HotLane | None = None
        if self.settings.fast_path and self.settings.hot_lane_size > 0:
            # with gateway steering every cache hit must reach the steering stage: blocks only
            self.lane = HotLane(
                engine, self.metrics, sink, self.client_text, self.settings.hot_lane_size, observer is None
            )
            if identities is not None:  # the person behind an address changed: its lane is no longer valid
                lane = self.lane
                identities.on_change(lambda address: lane.forget(str(address)))
        groups = config.policy.groups.values()
        networks = allowed_networks(self.settings.allow_networks, (n for g in groups for n in g.networks))
        self.access = ClientAccess(networks, registry)
        self.limiter = RateLimiter(self.settings.rate_limit, registry) if self.settings.rate_limit > 0 else None
        self._udp: UdpEndpoint | None = None
        self._tcp: TcpListener | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._clients: BoundedDict[str, IPAddress] = BoundedDict(CLIENTS_LIMIT)
        self._client_texts: BoundedDict[str, str] = BoundedDict(CLIENTS_LIMIT)
        self.marker = ProbeMarker(config.data_dir)

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the real port when configured with port 0."""
        if self._udp is None:
            raise DnsError("the DNS server is not started")
        sockname = self._udp.get_extra_info("sockname")
        return sockname[0], sockname[1]

    async def start(self) -> None:
        host, port = split_host_port(self.listen)
        loop = asyncio.get_running_loop()
        if self.lane is not None:
            self.lane.start(loop)
        for _attempt in range(10):  # with port 0, TCP may find the UDP port taken: pick again
            try:
                quick = LimitedQuick(self.limiter, self.lane) if self.limiter is not None else self.lane
                self._udp = UdpEndpoint.bind(host, port, self.reuse_port, self.on_datagram, quick)
                self._udp.start(loop)
                bound = self.address[1]
                self._tcp = TcpListener(self, self.settings, self.metrics)
                await self._tcp.start(host, bound, self.reuse_port)
                break
            except OSError as exc:
                if self._udp is not None:
                    self._udp.close()
                    self._udp = None
                if port != 0:
                    raise DnsError(f"cannot listen on {self.listen}: {exc.strerror or exc}") from exc
        else:
            raise DnsError(f"cannot find a free UDP+TCP port on {host}")
        log.info("DNS resolver listening on %s:%d (UDP and TCP)", *self.address)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            await self._tcp.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.lane is not None:
            self.lane.stop()  # its queued blocked hits reach the sink before the incident queue stops
        await self.pool.close()

    def client(self, host: str) -> IPAddress:
        found = self._clients.get(host)
        if found is None:
            found = self._clients[host] = ipaddress.ip_address(host.partition("%")[0])
        return found

    def client_text(self, host: str) -> str:
        """The client address as incidents record it (``str`` of the parsed address), cached per host."""
        found = self._client_texts.get(host)
        if found is None:
            found = self._client_texts[host] = str(self.client(host))
        return found

    def dispatch(self, data: bytes, client: IPAddress, transport: Transport) -> Outcome:
        """Run one packet through intake and the chain; never raises."""
        q = intake(data, self.settings.edns_payload)
        if q is None or isinstance(q, bytes):
            self.metrics.bad_queries.labels("dropped" if q is None else "error").inc()
            return q
        req = Request(q, client, transport)
        if q.probe is not None:
            req.probe = self.marker.dns(q.name, q.probe)
        try:
            return req, self.handler(req)
        except Exception as exc:
            return req, self.failed(req, exc)

    def failed(self, req: Request, exc: BaseException) -> Answer:
        """SERVFAIL for a query a stage choked on, counted by the stage that raised."""
        stage = _stage_of(exc)
        log.error("DNS stage %s failed on %s: %r", stage, req.name, exc, exc_info=exc)
        self.metrics.stage_exceptions.labels(stage).inc()
        self.metrics.response(wire.SERVFAIL, "error", time.perf_counter() - req.started)
        return Answer(servfail(req, self.settings.edns_payload), source="error")

    async def finish(self, req: Request, pending: Awaitable[Answer]) -> Answer:
        try:
            return await pending
        except Exception as exc:
            return self.failed(req, exc)

    def on_datagram(self, data: bytes, addr: Any) -> None:
        if not self.access.allows(addr[0]):
            refused = self.access.refusal(data, self.settings.edns_payload)
            if refused is not None and self._udp is not None:
                self._udp.sendto(refused, addr)
            return
        outcome = self.dispatch(data, self.client(addr[0]), "udp")
        if outcome is None or self._udp is None:
            return
        if isinstance(outcome, bytes):
            self._udp.sendto(outcome, addr)
            return
        req, reply = outcome
        if isinstance(reply, Answer):
            sent = truncate(req.q, reply.wire, self.settings.edns_payload)
            self._udp.sendto(sent, addr)
            if self.lane is not None:
                self.lane.learn(data, addr[0], req, reply, sent)
            return
        if isinstance(reply, Pending):  # a miss: answered from the upstream's reply callback
            reply.add(lambda result: self._send_later(req, result, addr))
            return
        task = asyncio.get_running_loop().create_task(self._reply_later(req, reply, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _send_later(self, req: Request, result: Answer | BaseException, addr: Any) -> None:
        answer = result if isinstance(result, Answer) else self.failed(req, result)
        if self._udp is not None and not self._udp.is_closing():
            self._udp.sendto(truncate(req.q, answer.wire, self.settings.edns_payload), addr)

    async def _reply_later(self, req: Request, pending: Awaitable[Answer], addr: Any) -> None:
        answer = await self.finish(req, pending)
        if self._udp is not None and not self._udp.is_closing():
            self._udp.sendto(truncate(req.q, answer.wire, self.settings.edns_payload), addr)


def _stage_of(exc: BaseException) -> str:
    """The chain stage whose code raised ``exc`` (read from the traceback, only on failure)."""
    stage = "server"
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith("filterproxy.dns.stages."):
            stage = module.rsplit(".", 1)[1]
        tb = tb.tb_next
    return stage
