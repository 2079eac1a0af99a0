"""Fixtures: a running filterproxy (shipped config, real starter lists) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.selftest.service import Loop, Service


@pytest.fixture
def start_service(loop: Loop, tmp_path: Path) -> Iterator[Any]:
    started: list[Service] = []

    def start(overrides: dict[str, str] | None = None) -> Service:
        service = Service(loop, tmp_path / f"var{len(started)}", overrides)
        started.append(service)
        return service

    yield start
    for service in started:
        service.close()
