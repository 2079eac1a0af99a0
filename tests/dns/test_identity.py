"""The resolver with an identity source: SafeSearch and blocking follow the person, incidents name them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import pytest
from prometheus_client import CollectorRegistry

from filterproxy.classify.settings import PolicySettings
from filterproxy.config.model import Config
from filterproxy.dns.server import DnsServer
from filterproxy.identity.book import IdentityBook
from filterproxy.identity.model import Identity, IdentitySource
from filterproxy.identity.sessions import Session, SessionMap
from filterproxy.lists.testing import make_engine
from tests.dns.conftest import ListSink
from tests.dns.stub import Stub
from tests.support import Loop

POLICY = {"default_group": "pupils", "groups": {
    "pupils": {"categories": {"gambling": "block"}},
    "staff": {"directory_groups": ["cn=staff,dc=school"], "categories": {"gambling": "block"}, "safesearch": False},
}}


class Rig:
    def __init__(self, loop: Loop) -> None:
        self.loop, self.stub = loop, Stub()
        loop.run(self.stub.start())
        config = Config.model_validate({"dns": {"listen": "127.0.0.1:0", "upstreams": [f"127.0.0.1:{self.stub.port}"]},
                                        "policy": POLICY})
        engine = make_engine({"gambling": ["bet.example"]}, policy=PolicySettings.model_validate(POLICY))
        self.sessions = SessionMap(10)
        self.sink = ListSink()
        self.server = DnsServer(config, engine, self.sink, CollectorRegistry(), identities=IdentityBook(self.sessions))
        loop.run(self.server.start())

    def ask(self, name: str) -> list[str]:
        reply = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=self.server.address[1], timeout=3)
        return [r.to_text() for rr in reply.answer for r in rr if rr.rdtype == 1]

    def close(self) -> None:
        self.loop.run(self.server.stop())
        self.loop.run(self.stub.stop())


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    loop = Loop()
    made = Rig(loop)
    yield made
    made.close()
    loop.close()


def test_safesearch_and_incidents_follow_the_person(rig: Rig) -> None:
    assert rig.ask("www.google.co.uk") == ["216.239.38.120"]  # pupils: SafeSearch
    address = ipaddress.ip_address("127.0.0.1")
    who = Identity("t.jones", ("CN=Staff,DC=school",), IdentitySource.RADIUS, 1000.0)
    rig.loop.run(_start(rig.sessions, address, who))
    assert rig.ask("www.google.co.uk") == ["142.250.1.2"]  # the staff member: no SafeSearch
    rig.ask("bet.example")
    event = rig.sink.events[-1]
    assert (event.user, event.identified_by, event.verdict.group) == ("t.jones", "radius", "staff")
    assert event.identified_at is not None and event.identified_at.timestamp() == 1000.0
    rig.loop.run(_stop(rig.sessions, address))
    assert rig.ask("www.google.co.uk") == ["216.239.38.120"]
    rig.ask("bet.example")
    assert rig.sink.events[-1].user is None and rig.sink.events[-1].verdict.group == "pupils"


async def _start(sessions: SessionMap, address: ipaddress.IPv4Address, who: Identity) -> None:
    sessions.start(address, Session(who, 4e9, "nas", None))  # on the resolver's loop, as the listener does


async def _stop(sessions: SessionMap, address: ipaddress.IPv4Address) -> None:
    sessions.stop(address)
