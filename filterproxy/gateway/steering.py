"""DNS-steered inspection: the nftables sets of addresses whose connections go to the proxy.

The resolver tells :class:`Steering` (an :class:`~filterproxy.gateway.hook.AnswerObserver`)
what it answered; for names that need a proxy decision the addresses go to a
:class:`SteeringSet`, which batches them into one ``nft -f`` transaction every
``flush_interval`` seconds, off the DNS hot path. Each element lives for the answer's TTL
(clamped, plus a grace period) and then expires in the kernel by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from filterproxy.classify.engine import Engine
from filterproxy.errors import GatewayError
from filterproxy.gateway.metrics import GatewayMetrics
from filterproxy.gateway.nft import Nft
from filterproxy.gateway.ruleset import STEER_SETS
from filterproxy.gateway.settings import GatewaySettings
from filterproxy.model import IPAddress

log = logging.getLogger(__name__)

MAX_PENDING = 65536


def element_commands(table: str, batch: Mapping[IPAddress, int]) -> str:
    """nft commands adding or refreshing each address with its timeout (seconds).

    ``add; delete; add with timeout`` in one transaction works whether or not the element
    exists, and replaces the timeout of one that does (a bare ``add`` would keep the old one).
    """
    lines: list[str] = []
    for address, timeout in batch.items():
        target = f"inet {table} {STEER_SETS[address.version]}"
        lines.append(f"add element {target} {{ {address} }}")
        lines.append(f"delete element {target} {{ {address} }}")
        lines.append(f"add element {target} {{ {address} timeout {timeout}s }}")
    return "\n".join(lines) + "\n"


class SteeringSet:
    """Non-blocking, batched additions to the steering sets of our nftables table."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        nft: Nft | None = None,
        metrics: GatewayMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        pinned: Iterable[IPAddress] = (),
    ) -> None:
        self._settings = settings
        self._pinned = frozenset(pinned)  # permanent elements of the ruleset: never given a timeout
        self._nft = nft or Nft(settings.nft)
        self._metrics = metrics or GatewayMetrics.create(None)
        self._clock = clock
        self._pending: dict[IPAddress, int] = {}
        self._expiry: dict[IPAddress, float] = {}  # what we believe the kernel holds
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def timeout_for(self, ttl: int) -> int:
        s = self._settings
        return min(max(ttl, s.steer_min_timeout) + s.steer_grace, s.steer_max_timeout)

    def add(self, addresses: Iterable[IPAddress], ttl: int) -> None:
        """Queue addresses for steering; returns at once, never raises."""
        timeout, now, queued, skipped = self.timeout_for(ttl), self._clock(), False, 0
        for address in addresses:
            if address in self._pinned:
                continue
            if self._expiry.get(address, 0.0) - now >= timeout / 2:
                skipped += 1  # still steered for long enough: no nft work
                continue
            if len(self._pending) >= MAX_PENDING and address not in self._pending:
                self._metrics.dropped.inc()
                continue
            self._pending[address] = max(self._pending.get(address, 0), timeout)
            queued = True
        if skipped:
            self._metrics.skipped.inc(skipped)  # once per answer, not per address: this is the DNS hot path
        if queued:
            self._metrics.pending.set(len(self._pending))
            self._wakeup()

    def forget(self) -> None:
        """The kernel's sets were emptied (the table was reloaded): steer every address anew."""
        self._expiry.clear()

    def _wakeup(self) -> None:
        if self._wake is None or self._loop is None:
            return
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop, self._thread = asyncio.get_running_loop(), threading.get_ident()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="gateway-steering")
        if self._pending:
            self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()  # what was queued still goes in: the sets outlive the process

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._settings.flush_interval)  # let a burst of answers gather
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Send everything pending to nft now, as one transaction."""
        batch, self._pending = self._pending, {}
        self._metrics.pending.set(0)
        if not batch:
            return
        try:
            await self._nft.load_async(element_commands(self._settings.table, batch))
        except GatewayError as exc:
            self._metrics.batches.labels(outcome="error").inc()
            if not self._failing:  # log once per failure streak, not per batch
                log.error("steering set update failed (is `filterproxy gateway up` loaded?): %s", exc)
            self._failing = True
            return
        if self._failing:
            log.warning("steering set updates work again")
        self._failing = False
        self._metrics.batches.labels(outcome="ok").inc()
        self._metrics.steered.inc(len(batch))
        self._remember(batch)

    def _remember(self, batch: Mapping[IPAddress, int]) -> None:
        now = self._clock()
        if len(self._expiry) > 4 * MAX_PENDING:  # forget what the kernel has expired by now
            self._expiry = {a: t for a, t in self._expiry.items() if t > now}
        for address, timeout in batch.items():
            self._expiry[address] = now + timeout


class Steering:
    """The resolver's :class:`AnswerObserver` in steered mode: which answers need the proxy.

    A name needs the proxy when a name-level verdict is not final (URL-level entries exist
    for it). Full-interception groups are steered by client network in the ruleset itself,
    and blocked names resolve to the block page address, which the ruleset pins.
    """

    def __init__(self, engine: Engine, steering_set: SteeringSet) -> None:
        self._engine = engine
        self._set = steering_set

    def observe(self, client: IPAddress, qname: str, addresses: Sequence[IPAddress], ttl: int) -> None:
        if not addresses:
            return
        try:
            needed = self._engine.current.needs_proxy(qname)
        except Exception:  # the hot path must never fail because of steering
            log.exception("needs_proxy(%s) failed", qname)
            return
        if needed:
            self._set.add(addresses, ttl)
