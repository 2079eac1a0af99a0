"""The gateway's part of `filterproxy serve`: the steering set, its observer, and a table watch.

``gateway up`` may reload our table at any time (ExecReload, a config change), which empties the
steer sets in the kernel; the watch notices the new table handle and makes the steering set
forget what it believed was there, so the next answers steer their addresses again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CollectorRegistry

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.errors import GatewayError
from filterproxy.gateway.hook import AnswerObserver
from filterproxy.gateway.metrics import GatewayMetrics
from filterproxy.gateway.nft import Nft
from filterproxy.gateway.ruleset import pinned_addresses
from filterproxy.gateway.steering import Steering, SteeringSet

log = logging.getLogger(__name__)


class GatewayRuntime:
    """Built from ``(config, engine, registry)``; pass :attr:`observer` (None in strict mode) to the DNS server."""

    def __init__(
        self, config: Config, engine: Engine, registry: CollectorRegistry, *, watch_interval: float = 5.0
    ) -> None:
        settings = config.gateway
        self.nft = Nft(settings.nft)
        self.table = settings.table
        self.steering_set = SteeringSet(
            settings, nft=self.nft, metrics=GatewayMetrics.create(registry), pinned=pinned_addresses(config)
        )
        # strict mode steers nothing: no observer, so the resolver keeps no steering stage
        self.observer: AnswerObserver | None = (
            Steering(engine, self.steering_set) if settings.mode == "steered" else None
        )
        self.watch_interval = watch_interval
        self._handle: int | None = None
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def wanted(config: Config) -> bool:
        """Whether this host is a gateway (``gateway.lan_interfaces`` set)."""
        return bool(config.gateway.lan_interfaces)

    async def start(self) -> None:
        await self.steering_set.start()
        await self.check_table()
        self._task = asyncio.create_task(self._watch(), name="gateway-table-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.steering_set.stop()

    async def check_table(self) -> None:
        """Notice a (re)loaded or removed table; say so once per change."""
        try:
            handle = await self.nft.table_handle(self.table)
        except GatewayError as exc:
            log.warning("cannot inspect nftables: %s", exc)
            return
        if handle == self._handle:
            return
        if handle is None:
            log.warning("nftables table inet %s is not loaded: run `filterproxy gateway up`", self.table)
        else:
            log.info("nftables table inet %s loaded (handle %s)", self.table, handle)
            self.steering_set.forget()
        self._handle = handle

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watch_interval)
            await self.check_table()
