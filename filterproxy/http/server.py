"""`ProxyServer`: mitmproxy running inside filterproxy's own asyncio loop, with the filter addon.

It follows the component protocol of ``filterproxy serve``: built from ``(config, engine, sink,
registry)``, then ``await start()`` / ``await stop()``. mitmproxy's ``Master`` keeps one global
context (``mitmproxy.ctx``), so one ProxyServer per process; more workers are more processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.config.types import split_host_port
from filterproxy.content.analyser import Analyser, load_lists
from filterproxy.content.metrics import content_metrics
from filterproxy.errors import ProxyError
from filterproxy.http.addon import FilterAddon
from filterproxy.http.auth import ProxyAuthAddon
from filterproxy.http.ca import ensure_ca
from filterproxy.http.content import ContentGuard
from filterproxy.http.decide import Decider
from filterproxy.http.internal import InternalGuard
from filterproxy.http.limits import ClientLimit
from filterproxy.http.metrics import ProxyMetrics
from filterproxy.http.pac import PacServer
from filterproxy.http.responder import Responder
from filterproxy.identity.model import Identity
from filterproxy.incidents.event import IncidentSink
from filterproxy.model import IPAddress
from filterproxy.selftest.marker import ProbeMarker

if TYPE_CHECKING:
    from filterproxy.identity.runtime import IdentityRuntime

log = logging.getLogger(__name__)
MODES = {"explicit": "regular", "transparent": "transparent"}


def build_addon(
    config: Config,
    engine: Engine,
    sink: IncidentSink,
    registry: CollectorRegistry,
    who: Callable[[str, IPAddress], Identity | None] | None = None,
) -> FilterAddon:
    """The filter addon with its decider, responder and metrics (shared by serve and `mitmdump -s`)."""
    settings = config.proxy
    metrics = ProxyMetrics(registry)
    responder = Responder(
        sink,
        metrics,
        config.block,
        timezone=config.policy.timezone,
        max_header_bytes=settings.max_header_bytes,
    )
    content = content_guard(config, engine, responder, registry)
    internal = InternalGuard(settings.allow_internal, service_ports(config))
    limit = ClientLimit(settings.max_client_connections)
    marker = ProbeMarker(config.data_dir)
    return FilterAddon(Decider(engine, settings), responder, metrics, limit, who, marker, content, internal)


def content_guard(
    config: Config, engine: Engine, responder: Responder, registry: CollectorRegistry
) -> ContentGuard | None:
    """Page-content analysis for the proxy (None when ``content.enabled`` is off); sizes the site cache."""
    settings = config.content
    if not settings.enabled:
        return None
    engine.sites.configure(settings.cache_size, settings.cache_ttl)
    analyser = Analyser(load_lists(settings.phrases_dir), settings.max_bytes, content_metrics(registry))
    return ContentGuard(analyser, engine, responder, content_metrics(registry))


def service_ports(config: Config) -> set[int]:
    """The ports the service itself listens on (and Prometheus's): never reachable through the proxy."""
    listens = [config.proxy.listen, config.proxy.pac_listen, config.dns.listen]
    if config.metrics.enabled:
        listens.append(config.metrics.listen)
    console = getattr(config, "console", None)  # the web console, where configured
    if console is not None and getattr(console, "listen", None):
        listens.append(console.listen)
    ports = {split_host_port(listen)[1] for listen in listens if listen}
    if config.metrics.prometheus_url:
        prometheus = urlsplit(config.metrics.prometheus_url)
        ports.add(prometheus.port or (443 if prometheus.scheme == "https" else 80))
    return ports - {0}


def mitmproxy_options(config: Config, listen: str, mode: str) -> dict[str, Any]:
    """The mitmproxy options filterproxy runs with, and why."""
    host, port = split_host_port(listen)
    return {
        "mode": [f"{MODES.get(mode, mode)}@{host}:{port}" if "@" not in mode else mode],
        "connection_strategy": "lazy",  # decide before any upstream connection
        "confdir": str(config.data_dir / "ca"),  # the school CA, in mitmproxy's format
        "http2": True,
        "stream_large_bodies": "1m",  # large downloads stream through instead of being buffered
    }


def proxy_addons(*filters: object) -> list[object]:
    """The mitmproxy addons a filtering proxy needs, and no more.

    mitmproxy offers every event to every addon, so each one costs on every request whether it
    acts or not: the stock set (about 30: onboarding, playback, maplocal, save ...) makes up a
    measurable share of the CPU per request (see bench/http).
    """
    from mitmproxy.addons import core, disable_h2c, next_layer, proxyserver, tlsconfig

    # the filter goes before NextLayer so that its next_layer hook can decide passthrough first
    return [
        core.Core(),
        disable_h2c.DisableH2C(),
        proxyserver.Proxyserver(),  # type: ignore[no-untyped-call]
        *filters,
        next_layer.NextLayer(),
        tlsconfig.TlsConfig(),
    ]


class _Ready:
    """Sets an event when mitmproxy has brought its servers up (or failed to)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def running(self) -> None:
        self.event.set()


class ProxyServer:
    """The filtering proxy as a service component."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        sink: IncidentSink,
        registry: CollectorRegistry,
        *,
        listen: str | None = None,
        mode: str | None = None,
        options: Mapping[str, Any] | None = None,
        addons: Sequence[object] = (),
        identity: IdentityRuntime | None = None,
    ) -> None:
        self.config = config
        self.listen = listen or config.proxy.listen
        self.mode = mode or config.proxy.mode  # "explicit", "transparent", or a raw mitmproxy mode spec
        # who is behind a request: proxy authentication (explicit mode), else RADIUS by address
        self.auth = ProxyAuthAddon(identity.auth, identity.book, engine) if identity is not None else None
        self.addon = build_addon(config, engine, sink, registry, self.auth.who if self.auth is not None else None)
        self.extra_options = dict(options or {})
        self.extra_addons = tuple(addons)  # run after the filter: e.g. an upstream map in tests
        self.port = 0
        self.pac: PacServer | None = None
        self._master: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from mitmproxy import master, options

        await asyncio.to_thread(ensure_ca, self.config.data_dir / "ca", self.config.block.school_name)
        ready = _Ready()
        self._master = master.Master(options.Options(), event_loop=asyncio.get_running_loop())
        filters = (self.auth, self.addon) if self.auth is not None else (self.addon,)
        self._master.addons.add(*proxy_addons(*filters), *self.extra_addons, ready)
        self._master.options.update(**mitmproxy_options(self.config, self.listen, self.mode), **self.extra_options)
        self._task = asyncio.create_task(self._master.run(), name="filterproxy-proxy")
        await asyncio.wait([self._task, asyncio.ensure_future(ready.event.wait())], return_when=asyncio.FIRST_COMPLETED)
        self._master.addons.remove(ready)  # not a free rider on every later event
        addrs = self._master.addons.get("proxyserver").listen_addrs()
        if not addrs:
            await self.stop()
            raise ProxyError(f"the proxy could not listen on {self.listen} ({self.mode} mode); see the log")
        self.port = int(addrs[0][1])
        self.addon.guard.own_ports.add(self.port)  # the bound port, when the configuration said 0
        log.info("proxy listening on %s port %s (%s mode)", addrs[0][0], self.port, self.mode)
        await self._start_pac()

    async def _start_pac(self) -> None:
        if self.config.proxy.pac_listen is None:
            return
        host, port = split_host_port(self.config.proxy.pac_listen)
        proxy = self.config.proxy.pac_proxy or f"{split_host_port(self.listen)[0]}:{self.port}"
        self.pac = PacServer(host, port, proxy)
        await self.pac.start()
        self.addon.guard.own_ports.add(self.pac.port)

    async def stop(self) -> None:
        if self.pac is not None:
            await self.pac.stop()
        if self._master is not None and self._task is not None:
            self._master.shutdown()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, 10)
        self._master = self._task = None
