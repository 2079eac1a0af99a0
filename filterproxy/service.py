"""`filterproxy serve`: the whole service in one asyncio loop.

Components start in dependency order and stop in reverse, so the incident queue is the last to
stop and drains everything the resolver and proxy handed it:

    metrics exporter > incident queue > engine + list manager > identity > resolver > proxy > console
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import CollectorRegistry

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.dns.privileges import drop_privileges
from filterproxy.errors import AddressInUse, FilterproxyError, ProxyError
from filterproxy.gateway.runtime import GatewayRuntime
from filterproxy.inuse import explain_in_use, is_in_use
from filterproxy.lists.loader import load_engine
from filterproxy.lists.reload import ListManager, ReloadResult
from filterproxy.metrics.lists import ListMetrics, SourceStats
from filterproxy.metrics.registry import new_registry

log = logging.getLogger(__name__)

GC_THRESHOLDS = (20_000, 50, 100)  # gen0 allocations, then gen0 runs per gen1 and gen1 runs per full run


class Component(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Service:
    """The composed service; ``components`` are started in order and stopped in reverse."""

    config: Config
    registry: CollectorRegistry
    engine: Engine
    components: list[Component] = field(default_factory=list)
    started: list[Component] = field(default_factory=list)

    async def start(self) -> None:
        for component in self.components:
            await component.start()
            self.started.append(component)

    async def stop(self) -> None:
        while self.started:
            component = self.started.pop()
            try:
                await component.stop()
            except Exception:  # one failing stop must not keep the queue from draining
                log.exception("stopping %s failed", type(component).__name__)


def list_observer(metrics: ListMetrics) -> Callable[[ReloadResult, Engine], None]:
    def observe(result: ReloadResult, engine: Engine) -> None:
        if result.ok:
            metrics.observe(source_stats(engine))
        else:
            metrics.failed()

    return observe


def source_stats(engine: Engine) -> list[SourceStats]:
    return [
        SourceStats(s.id, s.category.value, s.entries, s.bad_lines, s.mtime, bool(s.stale))
        for s in engine.current.index.sources
    ]


def build_service(config: Config, *, dns: bool = True, proxy: bool = True, console: bool = True) -> Service:
    """Compose the enabled components from the configuration."""
    from filterproxy.categorise.metrics import register_model_metrics
    from filterproxy.dns.server import DnsServer
    from filterproxy.http.server import ProxyServer
    from filterproxy.identity.runtime import IdentityRuntime
    from filterproxy.incidents.isolated import service_store
    from filterproxy.incidents.queue import IncidentQueue
    from filterproxy.lists.loader import resolve_sources
    from filterproxy.lists.state import state_dir
    from filterproxy.metrics.exporter import MetricsServer
    from filterproxy.metrics.incidents import register_incident_status
    from filterproxy.metrics.list_state import register_list_state_metrics
    from filterproxy.selftest.metrics import register_selftest_metrics

    registry = new_registry()
    list_metrics = ListMetrics(registry)
    engine = load_engine(config)
    list_metrics.observe(source_stats(engine))
    register_model_metrics(registry, engine)
    queue = IncidentQueue.from_config(config, registry)
    register_selftest_metrics(registry, config.data_dir)
    register_list_state_metrics(registry, lambda: resolve_sources(config), state_dir(config.data_dir))
    # its own store handle: the status gauge reads while the queue's writer writes
    register_incident_status(registry, service_store(config.incidents, config.data_dir))
    service = Service(config, registry, engine)
    if config.metrics.enabled:
        service.components.append(MetricsServer(config.metrics, registry))
    service.components.append(queue)
    service.components.append(ListManager(config, engine, [list_observer(list_metrics)]))
    gateway = GatewayRuntime(config, engine, registry) if GatewayRuntime.wanted(config) else None
    if gateway is not None:
        service.components.append(gateway)  # before the resolver: it steers the resolver's answers
    observer = gateway.observer if gateway is not None else None
    identity = IdentityRuntime(config, registry) if IdentityRuntime.wanted(config) else None
    if identity is not None:
        service.components.append(identity)  # before the resolver and proxy: restored sessions are in place
    book = identity.book if identity is not None else None
    if dns and config.dns.enabled:
        service.components.append(DnsServer(config, engine, queue, registry, observer=observer, identities=book))
    if proxy and config.proxy.enabled:
        service.components.append(ProxyServer(config, engine, queue, registry, identity=identity))
    if console and config.console.enabled:
        from filterproxy.console.server import ConsoleServer

        service.components.append(ConsoleServer(config, engine))  # its own thread and loop
    if config.content.background.enabled:  # off by default: it fetches pages from the gateway
        from filterproxy.content.background import Categoriser

        service.components.append(Categoriser.from_config(config.content, engine, registry))
    return service


async def run_service(service: Service) -> None:
    """Start, drop privileges once every socket is bound, wait for SIGTERM/SIGINT, stop (draining)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await service.start()
        drop_privileges(service.config.dns.user)  # after port 53 is bound
    except (OSError, FilterproxyError) as exc:
        await service.stop()
        if is_in_use(exc) or isinstance(exc, ProxyError):  # mitmproxy logs the errno, raises nothing
            held = explain_in_use(service.config)
            if held is not None:
                raise AddressInUse(held) from exc
        if isinstance(exc, OSError):
            raise FilterproxyError(f"cannot start: {exc.strerror or exc}") from exc
        raise
    gc.collect()
    gc.freeze()  # the loaded lists and config never become garbage: keep full collections short
    # Caches of hundreds of thousands of answers and verdicts are young, tracked objects: at the
    # default (700, 10, 10) the collector rescans them so often that it cost the resolver a third
    # of its CPU on first-seen names (bench.dns --traffic realistic). The hot paths make few cycles.
    gc.set_threshold(*GC_THRESHOLDS)
    log.info(
        "filterproxy serving (%s) on the %s event loop",
        ", ".join(type(c).__name__ for c in service.started),
        type(loop).__module__.partition(".")[0],  # "uvloop" or "asyncio"
    )
    await stop.wait()
    log.info("filterproxy stopping (draining incidents)")
    await service.stop()
