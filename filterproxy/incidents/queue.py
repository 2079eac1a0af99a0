"""The incident queue: the IncidentSink of `filterproxy serve`, and its writer thread.

``submit()`` appends to a bounded deque under a short lock and returns: safe from asyncio
callbacks, mitmproxy hooks and plain threads. A writer thread wakes every
``flush_interval`` (or when a batch is full), folds the events and writes them in one
transaction with a sequence checkpoint. While the store is down, batches go to the spool
(fsync'd) and are replayed, in order, once it is back. ``stop()`` drains everything.

Loss accounting: every accepted event gets a sequence number (starting from the clock in
microseconds, so it never goes back across restarts). Numbers are reserved ahead on disk
(:mod:`filterproxy.incidents.watermark`, fsync'd by a thread) before they are handed out, and each
batch records ``submitted`` beside ``stored``; at the next start ``max(watermark, submitted) -
durable`` is what a crash may have lost (over-counting by at most the unused part of the last
reserved block, which is logged), added to ``node_state.lost_total`` and ``lost_after_crash_total``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from filterproxy.errors import IncidentError
from filterproxy.incidents.alerts import Notifier, alert_of
from filterproxy.incidents.devices import DeviceDirectory
from filterproxy.incidents.event import BlockEvent
from filterproxy.incidents.fold import Sequenced, fold
from filterproxy.incidents.housekeeping import Housekeeper
from filterproxy.incidents.isolated import service_store
from filterproxy.incidents.link import StoreLink
from filterproxy.incidents.metrics import IncidentMetrics
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.incidents.spool import Spool, SpoolContents
from filterproxy.incidents.store import Written
from filterproxy.incidents.watermark import Watermark

if TYPE_CHECKING:
    from filterproxy.config.model import Config

log = logging.getLogger(__name__)


class IncidentQueue:
    """Bounded, non-blocking sink with a batching writer; a `serve` component (start/stop)."""

    def __init__(
        self,
        settings: IncidentSettings,
        data_dir: Path,
        registry: CollectorRegistry,
        *,
        node: str | None = None,
    ) -> None:
        self.settings = settings
        self.node = node or settings.node or socket.gethostname()
        self.metrics = IncidentMetrics(registry)
        self.store = service_store(settings, data_dir)
        self.spool = Spool(data_dir / settings.spool_file)
        self.devices = DeviceDirectory(settings.devices, data_dir)
        self.notifier = Notifier(settings.alerts, self.metrics)
        self.housekeeper = Housekeeper(settings, self.store, self.node, self.notifier, self.metrics, data_dir)
        self.dropped = 0
        self._items: deque[Sequenced] = deque()
        self._lock = threading.Lock()
        self._seq = time.time_ns() // 1000  # see _rebase for a clock that went back
        self._run_first = self._seq + 1
        self._spooled_this_run = 0
        self._received = {p: self.metrics.received.labels(p) for p in ("dns", "http", "https")}
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = False
        self.link = StoreLink(self.store, settings.retry_interval, self.metrics, self._account_previous_run,
                              str(self.spool.path))  # fmt: skip
        self._spool_at_start = SpoolContents([], 0, 0)
        self.watermark = Watermark(data_dir / settings.watermark_file, lambda: self._seq)
        self._watermark_at_start = (0, 0)

    @classmethod
    def from_config(cls, config: Config, registry: CollectorRegistry) -> IncidentQueue:
        return cls(config.incidents, config.data_dir, registry)

    # producers ---------------------------------------------------------------------------
    def submit(self, event: BlockEvent) -> None:
        """Queue an event; never blocks on I/O, never raises; overflow is counted."""
        try:
            with self._lock:
                full = len(self._items) >= self.settings.queue_size
                if not full:
                    self._seq += 1
                    self._items.append((self._seq, event))
                    if self._seq >= self.watermark.low():  # the reserve runs low: its thread fsyncs more
                        self.watermark.wake()
            if full:
                self.dropped += 1
                self.metrics.dropped.labels("overflow").inc()
                return
            received = self._received.get(event.protocol)
            if received is not None:
                received.inc()
            if len(self._items) >= self.settings.batch_size:
                self._wake.set()
        except Exception:  # the contract: a producer never sees our failure
            log.exception("incident submit failed")

    # lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_sync)

    def start_sync(self) -> None:
        """Account for a previous crash, then start the writer (works with the store down)."""
        self._spool_at_start = self.spool.scan()
        self._watermark_at_start = self.watermark.read()
        self._rebase(max(self._spool_at_start.last_seq, self._spool_at_start.submitted, self._watermark_at_start[0]))
        self.watermark.start()  # before the store: numbers handed out from now on are reserved on disk
        self.link.ready()
        self._thread = threading.Thread(target=self._run, name="incident-writer", daemon=True)
        self._thread.start()
        self.notifier.start()

    def stop_sync(self) -> None:
        """Drain the queue into the store (or the spool), then stop the threads."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.watermark.stop(self._seq)
        if self.link.up and self.dropped:
            try:
                self.store.record_loss(self.node, 0, self.dropped)
            except IncidentError as exc:
                log.warning("could not record %s dropped event(s): %s", self.dropped, exc)
        self.store.close()
        self.notifier.stop()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far has been written (for tests and tools)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._items and not self._busy:
                return True
            self._wake.set()
            time.sleep(0.005)
        return False

    @property
    def store_up(self) -> bool:
        return self.link.up

    # writer ------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(self.settings.flush_interval)
            self._wake.clear()
            stopping = self._stopping.is_set()
            try:
                self._cycle()
            except Exception:  # a bug must not end the writer: the batch went to the spool
                log.exception("incident writer cycle failed")
                self._busy = False
            if stopping and not self._items:
                return

    def _cycle(self) -> None:
        while self._items:
            self._busy = True
            count = min(len(self._items), self.settings.batch_size)
            batch = [self._items.popleft() for _ in range(count)]
            self._write(batch, self._seq)
        if self.spool.pending and self.link.ready():
            self._replay()
        self.metrics.queue_depth.set(len(self._items))
        self.metrics.spool_events.set(self.spool.pending)
        self.metrics.spool_bytes.set(self.spool.size())
        self.metrics.watermark_block.set(self.watermark.block)
        self.metrics.watermark_overrun.set(self.watermark.overrun)
        if self.link.up:
            self.link.guarded(self.housekeeper.tick)
        self._busy = False  # only now: flush() waits for the whole cycle, chores included

    def _write(self, batch: list[Sequenced], submitted: int) -> None:
        if self.spool.pending or not self.link.ready():
            self._to_spool(batch, submitted)
            return
        started = time.perf_counter()
        try:
            written = self._store_batch(batch, submitted)
        except Exception as exc:
            self.link.failed(exc)
            self._to_spool(batch, submitted)
            return
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        self._after_write(written)

    def _store_batch(self, batch: list[Sequenced], submitted: int) -> Written:
        groups = fold(batch, self.settings.dedup_window, self._severity, self.devices.name)
        for group in groups:
            event = group.event
            if event.user is None and (user := self.devices.user(event.client)):
                group.event = event._replace(user=user, identified_by="inventory")
            elif event.user is None and event.identified_by is None and self.devices.leased(event.client):
                group.event = event._replace(identified_by="dhcp")  # the device, not the person
        return self.store.write(groups, self.node, submitted, batch[-1][0])

    def _severity(self, event: BlockEvent) -> str:
        category = event.verdict.category
        return self.settings.severity.get(category, "low") if category else "low"

    def _after_write(self, written: Written) -> None:
        self.metrics.written.inc(len(written.new))
        self.metrics.folded.inc(written.folded)
        for incident_id, group in written.new:
            if self.notifier.wanted(group.severity):
                self.notifier.notify(alert_of(incident_id, group, self.node))

    def _to_spool(self, batch: list[Sequenced], submitted: int) -> None:
        try:
            self.spool.append(batch, submitted)
            self._spooled_this_run += len(batch)
        except OSError as exc:
            log.error("incident spool %s failed, %s event(s) lost: %s", self.spool.path, len(batch), exc)
            self.dropped += len(batch)
            self.metrics.dropped.labels("spool_error").inc(len(batch))

    def _replay(self) -> None:
        replayed = 0
        try:
            done = self.store.state(self.node).stored_seq  # a replay cut short left these in the store
            for chunk in self.spool.chunks(self.settings.batch_size):
                todo = [item for item in chunk if item[0] > done]
                if todo:
                    self._after_write(self._store_batch(todo, self._seq))
                    replayed += len(todo)
        except Exception as exc:
            self.link.failed(exc)
            return
        self.spool.clear()
        self._spooled_this_run = 0
        log.warning("incident store is back: replayed %s spooled event(s)", replayed)

    # store state ---------------------------------------------------------------------------
    def _account_previous_run(self) -> None:
        state, spooled = self.store.state(self.node), self._spool_at_start
        watermark, block = self._watermark_at_start
        durable = max(state.stored_seq, spooled.last_seq)
        checkpoint = max(state.submitted_seq, spooled.submitted)
        lost = max(0, max(checkpoint, watermark) - durable) + spooled.bad_lines
        if lost:
            certain = max(0, checkpoint - durable, watermark - block - durable) + spooled.bad_lines
            log.warning(
                "incident queue: %s event(s) were lost by an unclean stop of node %s (at least %s: up to %s "
                "reserved sequence numbers may not have been used)", lost, self.node, certain, lost - certain,
            )  # fmt: skip
            self.metrics.lost.inc(lost)
            self.store.record_loss(self.node, lost)
        self._rebase(max(state.submitted_seq, state.stored_seq))

    def _rebase(self, floor: int) -> None:
        """Keep sequence numbers above every earlier run's, even if the clock went back (a board without
        a real-time clock boots in 1970): replay skips what the store already has by number."""
        with self._lock:
            if self._run_first > floor:
                return
            offset = floor + 1 - self._run_first
            items = list(self._items)
            self._items.clear()
            self._items.extend((seq + offset, event) for seq, event in items)
            self._seq += offset
            self._run_first += offset
        if self._spooled_this_run:
            self.spool.shift_tail(self._spooled_this_run, offset, self._seq)
        if self.watermark.reserved:
            self.watermark.reserve_now(self._seq)
        log.warning("incident sequence numbers moved on by %s: the clock is behind an earlier run", offset)
