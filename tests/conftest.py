"""Fixtures shared across the test packages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Loop


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    """An event loop in a thread for the module's servers (see :class:`tests.support.Loop`)."""
    running = Loop()
    yield running
    running.close()
