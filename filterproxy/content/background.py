"""The background categoriser: home pages of names the lists leave undecided, scored off the hot path.

Off by default (``content.background.enabled``). When on, the engine hands it every name it
classifies as ``unlisted`` (from DNS, SNI or a CONNECT); :meth:`Categoriser.offer` only notes the
name (bounded queue, each name at most once per ``revisit`` seconds) and returns. A worker fetches
the home page from the gateway itself, at most ``per_minute`` per minute and ``concurrency`` at a
time, scores it like the proxy scores pages, and records a finding in the engine's site cache:
from then on DNS and the proxy decide the name from it. See docs/content.md for what this sends.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import partial

from prometheus_client import CollectorRegistry

from filterproxy.bounded import BoundedDict
from filterproxy.classify.engine import Engine
from filterproxy.classify.normalise import parse_ip
from filterproxy.classify.siteverdicts import SiteFinding
from filterproxy.content.analyser import Analyser, load_lists
from filterproxy.content.fetch import Connect, Page, fetch_home
from filterproxy.content.judge import finding_for
from filterproxy.content.metrics import ContentMetrics, content_metrics
from filterproxy.content.settings import BackgroundSettings, ContentSettings

log = logging.getLogger(__name__)
SEEN_LIMIT = 65536
Fetcher = Callable[[str], Page | None]


class Categoriser:
    """A service component (``start``/``stop``); :meth:`offer` may be called from any thread."""

    def __init__(
        self,
        settings: BackgroundSettings,
        analyser: Analyser,
        engine: Engine,
        metrics: ContentMetrics,
        *,
        context: ssl.SSLContext | None = None,
        connect: Connect | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.analyser = analyser
        self.engine = engine
        self.metrics = metrics
        self.clock = clock
        self.fetcher: Fetcher = partial(
            fetch_home,
            timeout=settings.timeout,
            max_bytes=settings.max_bytes,
            user_agent=settings.user_agent,
            context=context,
            connect=connect,
        )
        self._queue: deque[str] = deque()
        self._seen: BoundedDict[str, float] = BoundedDict(SEEN_LIMIT)  # name -> when it was last offered
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._last_start = -1e9

    @classmethod
    def from_config(cls, settings: ContentSettings, engine: Engine, registry: CollectorRegistry) -> Categoriser:
        metrics = content_metrics(registry)
        analyser = Analyser(load_lists(settings.phrases_dir), settings.background.max_bytes, metrics)
        return cls(settings.background, analyser, engine, metrics)

    def offer(self, name: str) -> None:
        """Note an unlisted name for a visit; never blocks, never fetches."""
        if parse_ip(name) is not None or "." not in name:
            return
        now = self.clock()
        with self._lock:
            last = self._seen.get(name)
            if last is not None and now - last < self.settings.revisit:
                return
            if len(self._queue) >= self.settings.queue:
                self.metrics.fetch["dropped"].inc()
                return
            self._seen[name] = now
            self._seen.move_to_end(name)
            self._queue.append(name)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.engine.unlisted = self.offer
        self._task = asyncio.create_task(self._run(), name="filterproxy-categoriser")
        log.info("background categoriser on: %s home pages a minute at most", self.settings.per_minute)

    async def stop(self) -> None:
        if self.engine.unlisted == self.offer:
            self.engine.unlisted = None
        tasks = [t for t in (self._task, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task, self._loop = None, None

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self.settings.concurrency)
        interval = 60.0 / self.settings.per_minute
        while True:
            name = self._next()
            if name is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            wait = self._last_start + interval - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            await slots.acquire()
            self._last_start = self.clock()
            task = asyncio.create_task(self._visit(name, slots))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _next(self) -> str | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    async def _visit(self, name: str, slots: asyncio.Semaphore) -> None:
        try:
            await asyncio.to_thread(self.categorise, name)
        except Exception:  # one odd site must not stop the worker
            log.exception("background categorisation of %s failed", name)
            self.metrics.fetch["failed"].inc()
        finally:
            slots.release()

    def categorise(self, name: str) -> SiteFinding | None:
        """Fetch, score and record one name (blocking: runs on a worker thread)."""
        page = self.fetcher(name)
        if page is None:
            self.metrics.fetch["failed"].inc()
            return None
        scores = self.analyser.scan(page.body, page.content_type)
        if scores is None:
            self.metrics.fetch["not_text"].inc()
            return None
        self.metrics.fetch["scanned"].inc()
        finding = finding_for(scores, self.engine.current.policy, self.analyser.scanner)
        if finding is not None:
            self.engine.sites.record(name, finding)
            self.metrics.verdict(finding.category.value, "found", "background")
            log.info("background categoriser: %s looks like %s (%s)", name, finding.category.value, finding.summary)
        return finding
