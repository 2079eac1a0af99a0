"""Fixtures for the metrics tests: a running exporter on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.metrics.exporter import MetricsServer
from filterproxy.metrics.registry import new_registry
from filterproxy.metrics.settings import MetricsSettings
from tests.support import Loop


@dataclass
class Running:
    server: MetricsServer
    registry: CollectorRegistry
    loop: asyncio.AbstractEventLoop


@pytest.fixture
def start_exporter(loop: Loop) -> Iterator[Any]:
    started: list[MetricsServer] = []

    def start(**settings: Any) -> Running:
        registry = new_registry()
        server = MetricsServer(MetricsSettings(listen="127.0.0.1:0", **settings), registry)
        loop.run(server.start())
        started.append(server)
        return Running(server, registry, loop.loop)

    yield start
    for server in started:
        loop.run(server.stop())
