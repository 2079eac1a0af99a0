"""The addon alone, in mitmproxy's test idiom (taddons + tflow): hooks, options and metadata."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest
from mitmproxy import connection, exceptions, http
from mitmproxy.proxy.context import Context
from mitmproxy.test import taddons, tflow
from mitmproxy.tls import ClientHello, ClientHelloData
from prometheus_client import CollectorRegistry

from filterproxy.config.block import BlockSettings
from filterproxy.http.addon import META, FilterAddon
from filterproxy.http.decide import Decider
from filterproxy.http.metrics import ProxyMetrics
from filterproxy.http.responder import Responder
from filterproxy.http.settings import ProxySettings
from filterproxy.model import Action
from tests.http.conftest import STAFF, ListSink, engine_for_tests


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def addon(sink: ListSink) -> FilterAddon:
    metrics = ProxyMetrics(CollectorRegistry())
    settings = ProxySettings(passthrough=["pinned.example"])
    return FilterAddon(Decider(engine_for_tests(), settings), Responder(sink, metrics, BlockSettings()), metrics)


def request_flow(url: str, client: str = "127.0.0.1", **headers: str) -> http.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.peername = (client, 50000)
    flow.request = http.Request.make("GET", url, b"", headers)
    return flow


def client_hello_record(sni: str | None) -> bytes:
    """A real ClientHello from Python's TLS stack, as the client's first bytes (a TLS record)."""
    context = ssl.create_default_context()
    context.check_hostname = sni is not None
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing := ssl.MemoryBIO(), server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def client_hello(sni: str | None) -> ClientHello:
    """The same ClientHello as mitmproxy parses it."""
    return ClientHello(client_hello_record(sni)[9:])  # skip the record and handshake headers


def hello_data(sni: str | None, client: str = "127.0.0.1", dest: str = "203.0.113.7") -> ClientHelloData:
    with taddons.context() as tctx:
        ctx = Context(connection.Client(peername=(client, 50000), sockname=("127.0.0.1", 3128)), tctx.options)
    ctx.server = connection.Server(address=(dest, 443))
    return ClientHelloData(ctx, client_hello(sni))


def test_blocked_request_answered_by_the_addon(addon: FilterAddon, sink: ListSink) -> None:
    with taddons.context(addon):
        flow = request_flow("http://bet.example/x", accept="text/html")
        addon.requestheaders(flow)
        assert flow.response is not None and flow.response.status_code == 403
        assert flow.metadata[META].blocked and sink.events[0].reference in flow.response.text


def test_hooks_leave_finished_or_dead_flows_alone(addon: FilterAddon) -> None:
    with taddons.context(addon):
        flow = request_flow("http://bet.example/")
        flow.live = False
        addon.requestheaders(flow)
        assert flow.response is None and META not in flow.metadata


def test_allowed_request_gets_safesearch_and_no_response(addon: FilterAddon) -> None:
    with taddons.context(addon):
        flow = request_flow("http://www.google.com/search?q=x")
        addon.requestheaders(flow)
        assert flow.response is None and flow.request.path == "/search?q=x&safe=active"
        assert flow.metadata[META].action is Action.ALLOW


def test_connect_refused_for_blocked_hosts(addon: FilterAddon, sink: ListSink) -> None:
    with taddons.context(addon):
        flow = request_flow("http://bet.example/")
        flow.request = http.Request.make("CONNECT", "http://bet.example:443/")
        flow.request.authority = "bet.example:443"
        addon.http_connect(flow)
        assert flow.response is not None and flow.response.status_code == 403
        assert sink.events[-1].method == "CONNECT"
        ok = request_flow("http://ok.example/")
        ok.request = http.Request.make("CONNECT", "http://ok.example:443/")
        addon.http_connect(ok)
        assert ok.response is None


@pytest.mark.parametrize(
    ("sni", "client", "ignored", "refused"),
    [
        ("ok.example", "127.0.0.1", True, False),  # allowed: passthrough
        ("bet.example", "127.0.0.1", True, True),  # blocked, no block page: refused at server_connect
        ("ok.example", STAFF, False, False),  # intercept group
        ("pinned.example", STAFF, True, False),  # intercept group, but a passthrough domain
        (None, "127.0.0.1", True, False),  # no SNI: the destination address is classified (unlisted)
    ],
)
def test_clienthello_decisions(addon: FilterAddon, sni: str | None, client: str, ignored: bool, refused: bool) -> None:
    with taddons.context(addon):
        data = hello_data(sni, client)
        addon.tls_clienthello(data)
        assert data.ignore_connection is ignored
        server_data: Any = type("D", (), {"server": data.context.server})()
        asyncio.run(addon.server_connect(server_data))
        assert bool(data.context.server.error) is refused


def test_options_are_validated_and_applied(addon: FilterAddon) -> None:
    with taddons.context(addon) as tctx:
        tctx.configure(addon, filterproxy_tls_blockpage=True, filterproxy_passthrough=["Bank.Example"])
        assert addon.decider.tls_blockpage and addon.decider.passthrough == {"bank.example"}
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, filterproxy_passthrough=["bad name!"])
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, filterproxy_no_sni="sometimes")
        data = hello_data("bet.example")
        addon.tls_clienthello(data)
        assert data.ignore_connection is False  # with the block page on, blocked TLS is intercepted


class PeekedConnection:
    """What mitmproxy's next_layer event offers: a context, the client's first bytes, a layer slot."""

    def __init__(self, context: Context, data: bytes) -> None:
        self.context, self.layer, self._data = context, None, data

    def data_client(self) -> bytes:
        return self._data


@pytest.mark.parametrize(
    ("sni", "client", "relayed", "refused"),
    [
        ("ok.example", "127.0.0.1", True, False),
        ("bet.example", "127.0.0.1", True, True),  # relayed raw, then killed at server_connect
        ("ok.example", STAFF, False, False),  # interception: left to mitmproxy and tls_clienthello
    ],
)
def test_passthrough_is_decided_before_any_tls_layer(
    addon: FilterAddon, sni: str, client: str, relayed: bool, refused: bool
) -> None:
    from mitmproxy.proxy.layers import TCPLayer

    with taddons.context(addon):
        context = hello_data(sni, client).context
        peeked = PeekedConnection(context, client_hello_record(sni))
        addon.next_layer(peeked)
        assert isinstance(peeked.layer, TCPLayer) is relayed
        assert (context.server.id in addon._refused) is refused
        half = PeekedConnection(context, client_hello_record(sni)[:20])  # incomplete: wait for more bytes
        addon.next_layer(half)
        assert half.layer is None
