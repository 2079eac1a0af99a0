"""Fixtures for the proxy tests: a real mitmproxy on 127.0.0.1, a local origin, a real classifier.

Client groups are told apart by source address (curl --interface, httpx local_address):
127.0.0.1 pupils (default), 127.0.0.3 staff (full interception, YouTube moderate),
127.0.0.4 sixth form (full interception, YouTube strict).
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.classify.engine import Engine
from filterproxy.classify.settings import Group, PolicySettings
from filterproxy.config.block import BlockSettings
from filterproxy.config.model import Config
from filterproxy.http.server import ProxyServer
from filterproxy.http.settings import ProxySettings
from filterproxy.incidents.event import BlockEvent
from filterproxy.lists.testing import make_engine
from filterproxy.model import POLICY_CATEGORIES
from tests.http.origin import Origin, UpstreamMap
from tests.http.pki import make_pki
from tests.support import Loop

PUPIL, STAFF, SIXTH = "127.0.0.1", "127.0.0.3", "127.0.0.4"


def policy_for_tests() -> PolicySettings:
    blocked = {c: "block" for c in POLICY_CATEGORIES}
    net = ipaddress.ip_network
    return PolicySettings.model_validate(
        {
            "timezone": "Europe/London",
            "default_group": "pupils",
            "groups": {
                "pupils": Group.model_validate({"categories": blocked}),
                "staff": Group.model_validate(
                    {
                        "networks": [net(f"{STAFF}/32")],
                        "categories": blocked,
                        "intercept": True,
                        "youtube": "moderate",
                    }
                ),
                "sixth": Group.model_validate(
                    {
                        "networks": [net(f"{SIXTH}/32")],
                        "categories": blocked,
                        "intercept": True,
                        "youtube": "strict",
                    }
                ),
            },
        }
    )


def engine_for_tests() -> Engine:
    return make_engine(
        deny={"gambling": ["bet.example"], "adult": ["adult.example"], "social": ["social.example"]},
        urls={"adult": ["mixed.example/bad/"]},
        illegal=["iwf.example/abuse/"],
        allow=["ok.example"],
        local_deny=["x.example"],
        policy=policy_for_tests(),
    )


class ListSink:
    """Collects block events as the incident queue would receive them."""

    def __init__(self) -> None:
        self.events: list[BlockEvent] = []

    def submit(self, event: BlockEvent) -> None:
        self.events.append(event)


class FakeDns:
    """The proxy's name resolution in tests (no internet): every name is a public test address unless named.

    The upstream map then sends the connection to the local origin, after the filter checked the address."""

    PUBLIC = "192.0.2.10"

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}

    async def __call__(self, host: str, port: int) -> list[str]:
        return self.names.get(host.lower(), [self.PUBLIC])


class RunningProxy:
    """A ProxyServer on its own asyncio loop in a thread, so tests can use blocking clients."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        origin: Origin,
        *,
        mode: str | None = None,
        options: Mapping[str, Any] | None = None,
        addons: Sequence[object] = (),
    ) -> None:
        self.engine, self.origin, self.sink, self.registry = engine, origin, ListSink(), CollectorRegistry()
        self.upstream = UpstreamMap(origin)
        self.loop = Loop()
        self.server = ProxyServer(
            config,
            engine,
            self.sink,
            self.registry,
            listen="127.0.0.1:0",
            mode=mode,
            options=options,
            addons=(*addons, self.upstream),
        )
        self.dns = FakeDns()
        self.server.addon.guard.resolve = self.dns
        self.call(self.server.start())

    def call(self, coro: Any) -> Any:
        return self.loop.run(coro)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def close(self) -> None:
        if self.loop.loop.is_closed():
            return
        try:
            self.call(self.server.stop())
        finally:
            self.loop.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def origin(pki: tuple[Path, Path, Path]) -> Iterator[Origin]:
    server = Origin(pki[1], pki[2])
    yield server
    server.close()


def make_config(data_dir: Path, **proxy: Any) -> Config:
    # the local origin listens on 127.0.0.1: reaching loopback through the proxy must be allowed explicitly
    proxy.setdefault("allow_internal", ["127.0.0.0/8"])
    return Config(
        data_dir=data_dir,
        policy=policy_for_tests(),
        proxy=ProxySettings(**proxy),
        block=BlockSettings(
            school_name="Test School",
            review_url="https://helpdesk.school.example/review",
            contact="Ms Example in ICT",
        ),
    )


@pytest.fixture(scope="module")
def proxy_factory(
    tmp_path_factory: pytest.TempPathFactory, origin: Origin, pki: tuple[Path, Path, Path]
) -> Iterator[Any]:
    """Start proxies (one at a time: mitmproxy has one global context per process)."""
    running: list[RunningProxy] = []

    def start(mode: str | None = None, **proxy: Any) -> RunningProxy:
        for old in running:
            old.close()
        running.clear()
        config = make_config(tmp_path_factory.mktemp("data"), **proxy)
        options = {"ssl_verify_upstream_trusted_ca": str(pki[0])}  # full interception reaches the test origin
        running.append(RunningProxy(config, engine_for_tests(), origin, mode=mode, options=options))
        return running[0]

    yield start
    for old in running:
        old.close()


def curl(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run curl; never picks up proxy settings from the environment."""
    return subprocess.run(
        ["curl", "-sS", "--noproxy", "", "--max-time", "15", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin"},
    )
