"""Fixtures: a real resolver on 127.0.0.1 in a background event loop, with a local stub upstream."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.classify.settings import Group, PolicySettings
from filterproxy.config.model import Config
from filterproxy.dns.server import DnsServer
from filterproxy.incidents.event import BlockEvent
from filterproxy.lists.testing import make_engine
from tests.dns.stub import Stub, self_signed
from tests.support import Loop

T = TypeVar("T")


class ListSink:
    """Collects block events (the real queue is another package's; this records what DNS hands over)."""

    def __init__(self) -> None:
        self.events: list[BlockEvent] = []

    def submit(self, event: BlockEvent) -> None:
        self.events.append(event)


def policy() -> PolicySettings:
    return PolicySettings.model_validate(
        {
            "default_group": "pupils",
            "groups": {
                "pupils": {"categories": {"gambling": "block", "adult": "block", "social": "log"}},
                "staff": {
                    "networks": ["127.0.0.2/32"],
                    "categories": {"gambling": "block"},
                    "safesearch": False,
                    "youtube": "moderate",
                },
            },
        }
    )


def engine_for_tests() -> Any:
    return make_engine(
        deny={"gambling": ["bet.example"], "social": ["chat.example"]}, local_deny=["x.example"], policy=policy(),
        illegal=["abuse.example"],
    )


class Resolver:
    """The resolver under test and its stub upstream."""

    def __init__(
        self,
        loop: Loop,
        tmp: Path,
        dns: dict[str, Any] | None = None,
        block: dict[str, Any] | None = None,
        tls: bool = False,
    ) -> None:
        self.loop = loop
        self.stub = Stub()
        context = None
        if tls:
            cert, key = self_signed(tmp)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.ca = cert
        loop.run(self.stub.start(context))
        upstream = f"tls://127.0.0.1:{self.stub.tls_port}#dns.test" if tls else f"127.0.0.1:{self.stub.port}"
        settings: dict[str, Any] = {"listen": "127.0.0.1:0", "upstreams": [upstream]}
        if tls:
            settings["tls_ca_file"] = str(self.ca)
        settings.update(dns or {})
        self.config = Config.model_validate({"dns": settings, "block": block or {}, "policy": policy().model_dump()})
        self.engine = engine_for_tests()
        self.sink = ListSink()
        self.registry = CollectorRegistry()
        self.server = DnsServer(self.config, self.engine, self.sink, self.registry)
        loop.run(self.server.start())
        self.host, self.port = self.server.address

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def close(self) -> None:
        self.loop.run(self.server.stop())
        self.loop.run(self.stub.stop())


@pytest.fixture
def make_resolver(loop: Loop, tmp_path: Path) -> Iterator[Any]:
    made: list[Resolver] = []

    def factory(**kwargs: Any) -> Resolver:
        resolver = Resolver(loop, tmp_path, **kwargs)
        made.append(resolver)
        return resolver

    yield factory
    for resolver in made:
        resolver.close()


@pytest.fixture
def resolver(make_resolver: Any) -> Resolver:
    return make_resolver()  # type: ignore[no-any-return]


__all__ = ["Group", "ListSink", "Loop", "Resolver"]
