"""`filterproxy serve`: the whole service in one asyncio loop.

Components start in dependency order and stop in reverse, so the incident queue is the last to
stop and drains everything the resolver and proxy handed it:

    metrics exporter > incident queue > engine + list manager > resolver > proxy
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
from filterproxy.errors import FilterproxyError
from filterproxy.gateway.runtime import GatewayRuntime
from filterproxy.lists.loader import load_engine
from filterproxy.lists.reload import ListManager, ReloadResult
from filterproxy.metrics.lists import ListMetrics, SourceStats
from filterproxy.metrics.registry import new_registry

log = logging.getLogger(__name__)


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
        SourceStats(s.id, s.category.value, s.entries, s.bad_lines, s.mtime) for s in engine.current.index.sources
    ]


def build_service(config: Config, *, dns: bool = True, proxy: bool = True) -> Service:
    """Compose the enabled components from the configuration."""
    from filterproxy.categorise.metrics import register_model_metrics
    from filterproxy.dns.server import DnsServer
    from filterproxy.http.server import ProxyServer
    from filterproxy.incidents.queue import IncidentQueue
    from filterproxy.incidents.store import store_for
    from filterproxy.metrics.exporter import MetricsServer
    from filterproxy.metrics.incidents import register_incident_status
    from filterproxy.selftest.metrics import register_selftest_metrics

    registry = new_registry()
    list_metrics = ListMetrics(registry)
    engine = load_engine(config)
    list_metrics.observe(source_stats(engine))
    register_model_metrics(registry, engine)
    queue = IncidentQueue.from_config(config, registry)
    register_selftest_metrics(registry, config.data_dir)
    # its own store handle: the status gauge reads while the queue's writer writes
    register_incident_status(registry, store_for(config.incidents, config.data_dir))
    service = Service(config, registry, engine)
    if config.metrics.enabled:
        service.components.append(MetricsServer(config.metrics, registry))
    service.components.append(queue)
    service.components.append(ListManager(config, engine, [list_observer(list_metrics)]))
    gateway = GatewayRuntime(config, engine, registry) if GatewayRuntime.wanted(config) else None
    if gateway is not None:
        service.components.append(gateway)  # before the resolver: it steers the resolver's answers
    observer = gateway.observer if gateway is not None else None
    if dns and config.dns.enabled:
        service.components.append(DnsServer(config, engine, queue, registry, observer=observer))
    if proxy and config.proxy.enabled:
        service.components.append(ProxyServer(config, engine, queue, registry))
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
    except (OSError, FilterproxyError):
        await service.stop()
        raise
    gc.collect()
    gc.freeze()  # the loaded lists and config never become garbage: keep full collections short
    log.info("filterproxy serving (%s)", ", ".join(type(c).__name__ for c in service.started))
    await stop.wait()
    log.info("filterproxy stopping (draining incidents)")
    await service.stop()
