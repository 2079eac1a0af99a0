"""The proxy-authentication addon in mitmproxy's test idiom (taddons + tflow), with the filter addon after it."""

from __future__ import annotations

import asyncio
import base64
import ipaddress

import pytest
from mitmproxy import http
from mitmproxy.test import taddons, tflow
from prometheus_client import CollectorRegistry

from filterproxy.classify.settings import PolicySettings
from filterproxy.config.block import BlockSettings
from filterproxy.errors import DirectoryUnavailable
from filterproxy.http.addon import IDENTITY, FilterAddon
from filterproxy.http.auth import ProxyAuthAddon
from filterproxy.http.decide import Decider
from filterproxy.http.metrics import ProxyMetrics
from filterproxy.http.responder import Responder
from filterproxy.http.settings import ProxySettings
from filterproxy.identity.book import IdentityBook
from filterproxy.identity.metrics import IdentityMetrics
from filterproxy.identity.model import Identity, IdentitySource
from filterproxy.identity.proxyauth import ProxyAuthenticator
from filterproxy.identity.sessions import Session, SessionMap
from filterproxy.identity.settings import ProxyAuthSettings
from filterproxy.lists.testing import make_engine
from tests.http.conftest import ListSink

POLICY = PolicySettings.model_validate({"default_group": "pupils", "groups": {
    "pupils": {"categories": {"gambling": "block"}},
    "staff": {"directory_groups": ["staff"], "categories": {"gambling": "allow"}},
    "open": {"networks": ["127.0.0.8/32"], "categories": {"gambling": "block"}},
}})
RADIUS_IP = "127.0.0.9"


class Rig:
    def __init__(self, checker: object, groups: list[str] | None = None) -> None:
        self.registry = CollectorRegistry()
        engine = make_engine({"gambling": ["bet.example"]}, policy=POLICY)
        settings = ProxyAuthSettings(enabled=True, groups=groups or [])
        self.auth = ProxyAuthenticator(settings, checker, IdentityMetrics(self.registry))  # type: ignore[arg-type]
        sessions = SessionMap(10)
        who = Identity("r.user", ("staff",), IdentitySource.RADIUS, 1.0)
        sessions.start(ipaddress.ip_address(RADIUS_IP), Session(who, 4e9, "nas", None))
        self.addon = ProxyAuthAddon(self.auth, IdentityBook(sessions), engine)
        self.sink = ListSink()
        metrics = ProxyMetrics(self.registry)
        self.filter = FilterAddon(Decider(engine, ProxySettings()), Responder(self.sink, metrics, BlockSettings()),
                                  metrics, who=self.addon.who)

    def count(self, outcome: str) -> float:
        return self.registry.get_sample_value("filterproxy_identity_proxy_auth_total", {"outcome": outcome}) or 0.0

    def request(self, flow: http.HTTPFlow) -> http.HTTPFlow:
        asyncio.run(self.addon.requestheaders(flow))
        self.filter.requestheaders(flow)
        return flow


def staff_checker(user: str, password: str) -> tuple[str, tuple[str, ...]] | None:
    return (user, ("staff",)) if password == "pw" else None


def flow_for(url: str, client: str = "127.0.0.1", credentials: tuple[str, str] | None = None) -> http.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.peername = (client, 50000)
    flow.client_conn.timestamp_tls_setup = None  # plain HTTP to the proxy (tflow defaults to TLS)
    headers = {"accept": "text/html"}
    if credentials:
        headers["proxy-authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    flow.request = http.Request.make("GET", url, b"", headers)
    return flow


@pytest.fixture
def rig() -> Rig:
    return Rig(staff_checker)


def test_no_credentials_get_a_challenge(rig: Rig) -> None:
    with taddons.context(rig.addon, rig.filter):
        flow = rig.request(flow_for("http://bet.example/"))
    assert flow.response is not None and flow.response.status_code == 407
    assert flow.response.headers["proxy-authenticate"].startswith('Basic realm="School internet"')
    assert rig.count("challenged") == 1 and not rig.sink.events  # the filter left the answered flow alone


def test_staff_login_gets_the_staff_policy_and_the_header_stays_here(rig: Rig) -> None:
    with taddons.context(rig.addon, rig.filter):
        flow = rig.request(flow_for("http://bet.example/", credentials=("t.jones", "pw")))
        blocked = rig.request(flow_for("http://bet.example/"))  # the same address without a login
    assert flow.response is None and "proxy-authorization" not in flow.request.headers
    who = flow.metadata[IDENTITY]
    assert (who.user, who.directory, who.source) == ("t.jones", ("staff",), IdentitySource.PROXY_AUTH)
    assert blocked.response is not None and blocked.response.status_code == 407


def test_wrong_password_is_challenged_again(rig: Rig) -> None:
    with taddons.context(rig.addon, rig.filter):
        flow = rig.request(flow_for("http://bet.example/", credentials=("t.jones", "nope")))
    assert flow.response is not None and flow.response.status_code == 407 and rig.count("rejected") == 1


def test_a_radius_address_is_not_asked_and_is_named(rig: Rig) -> None:
    with taddons.context(rig.addon, rig.filter):
        flow = rig.request(flow_for("http://bet.example/", client=RADIUS_IP))
    assert flow.response is None and flow.metadata[IDENTITY].user == "r.user"


def test_only_the_configured_groups_must_sign_in() -> None:
    rig = Rig(staff_checker, groups=["open"])
    with taddons.context(rig.addon, rig.filter):
        pupils = rig.request(flow_for("http://bet.example/"))
        opened = rig.request(flow_for("http://bet.example/", client="127.0.0.8"))
    assert pupils.response is not None and pupils.response.status_code == 403  # pupils: blocked, not asked
    assert rig.sink.events[0].user is None
    assert opened.response is not None and opened.response.status_code == 407


def test_tunnel_keeps_the_person_of_its_connect(rig: Rig) -> None:
    with taddons.context(rig.addon, rig.filter):
        connect = tflow.tflow()
        connect.client_conn.peername = ("127.0.0.1", 50000)
        connect.client_conn.timestamp_tls_setup = None
        connect.request = http.Request.make("CONNECT", "http://bet.example:443/", b"", {
            "proxy-authorization": "Basic " + base64.b64encode(b"p.smith:pw").decode()})
        connect.request.host, connect.request.port = "bet.example", 443
        asyncio.run(rig.addon.http_connect(connect))
        rig.filter.http_connect(connect)
        assert connect.response is None  # staff: allowed
        inner = flow_for("https://bet.example/page")
        inner.client_conn = connect.client_conn
        inner.client_conn.timestamp_tls_setup = 1.0  # TLS inside the tunnel (intercepted)
        rig.request(inner)
        assert inner.metadata[IDENTITY].user == "p.smith" and inner.response is None
        assert rig.addon.who(connect.client_conn.id, ipaddress.ip_address("127.0.0.1")).user == "p.smith"  # type: ignore[union-attr]
        rig.addon.client_disconnected(connect.client_conn)
        assert rig.addon.who(connect.client_conn.id, ipaddress.ip_address("127.0.0.1")) is None


def test_directory_outage_falls_back_to_the_address_policy() -> None:
    def down(user: str, password: str) -> None:
        raise DirectoryUnavailable("LDAP ldap://dc1: connection refused")

    rig = Rig(down)
    with taddons.context(rig.addon, rig.filter):
        flow = rig.request(flow_for("http://bet.example/", credentials=("t.jones", "pw")))
        radius = rig.request(flow_for("http://bet.example/", client=RADIUS_IP, credentials=("t.jones", "pw")))
    assert flow.response is not None and flow.response.status_code == 403  # pupils (address policy), not 407
    assert rig.sink.events[0].user is None
    assert radius.response is None and radius.metadata[IDENTITY].user == "r.user"  # RADIUS still names them
    assert rig.count("directory_error") == 2
