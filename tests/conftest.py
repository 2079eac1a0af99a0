"""Fixtures shared across the test packages.

No test reaches the internet. The shipped configuration enables public list sources that the
service downloads at its first start, so for the whole session ``FILTERPROXY__LISTS__OFFLINE=true``
is set (every ``filterproxy`` subprocess inherits it) and the in-process downloader refuses any
host but loopback. A test that downloads from a local server opts in with the ``list_downloads``
fixture (or the ``tests.lists.mirror`` fixtures), which lifts the offline switch for that test only.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from filterproxy.lists import fetch
from tests.support import Loop

OFFLINE_ENV = "FILTERPROXY__LISTS__OFFLINE"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class LoopbackOnly:
    """The downloader's opener, refusing every host but loopback (a test must never reach the internet)."""

    def __init__(self, opener: urllib.request.OpenerDirector) -> None:
        self.opener = opener

    def open(self, request: urllib.request.Request, *args: Any, **kwargs: Any) -> Any:
        host = urllib.parse.urlsplit(request.full_url).hostname
        if host not in LOOPBACK:
            raise AssertionError(f"a test tried to download {request.full_url}: serve it from 127.0.0.1")
        return self.opener.open(request, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    os.environ[OFFLINE_ENV] = "true"
    if not isinstance(fetch._OPENER, LoopbackOnly):
        fetch._OPENER = LoopbackOnly(fetch._OPENER)  # type: ignore[assignment]


@pytest.fixture
def list_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let this test download lists (from its own 127.0.0.1 servers): lifts lists.offline."""
    monkeypatch.delenv(OFFLINE_ENV, raising=False)


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    """An event loop in a thread for the module's servers (see :class:`tests.support.Loop`)."""
    running = Loop()
    yield running
    running.close()
