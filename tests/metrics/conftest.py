"""Fixtures for the metrics tests: a running exporter on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.metrics.exporter import MetricsServer
from filterproxy.metrics.registry import new_registry
from filterproxy.metrics.settings import MetricsSettings


@dataclass
class Running:
    server: MetricsServer
    registry: CollectorRegistry
    loop: asyncio.AbstractEventLoop


class LoopThread:
    """An event loop in a thread, so tests can use blocking clients (httpx) against the server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


@pytest.fixture
def start_exporter(loop_thread: LoopThread) -> Iterator[Any]:
    started: list[MetricsServer] = []

    def start(**settings: Any) -> Running:
        registry = new_registry()
        server = MetricsServer(MetricsSettings(listen="127.0.0.1:0", **settings), registry)
        loop_thread.run(server.start())
        started.append(server)
        return Running(server, registry, loop_thread.loop)

    yield start
    for server in started:
        loop_thread.run(server.stop())
