"""Decisions on the TLS ClientHello SNI, as in transparent mode.

Real transparent mode needs the kernel to redirect traffic (nftables, SO_ORIGINAL_DST). Here the
proxy runs in mitmproxy's ``reverse:tls://`` mode instead: clients connect straight to the proxy
and speak TLS first, so the *same* ``tls_clienthello`` hook decides from the SNI alone, with no
CONNECT before it. (The destination address is the reverse target, which stands in for the
original destination a transparent redirect would give.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from filterproxy.classify.normalise import normalise_name
from tests.http.clients import direct_tls
from tests.http.conftest import RunningProxy
from tests.http.origin import Origin
from tests.http.pki import ORIGIN_CA


@pytest.fixture(scope="module")
def proxy(proxy_factory: Any, origin: Origin) -> RunningProxy:
    return proxy_factory(mode=f"reverse:tls://127.0.0.1:{origin.https_port}")


def test_allowed_sni_passes_through(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    result = direct_tls(proxy.port, "ok.example", pki[0])
    assert result.issuer == ORIGIN_CA and result.status_line.endswith("200 OK")


def test_blocked_sni_is_closed_before_any_upstream_connection(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    connects, seen = proxy.upstream.connects, len(proxy.origin.seen)
    result = direct_tls(proxy.port, "www.bet.example", pki[0])
    assert result.issuer is None and result.error is not None
    assert proxy.upstream.connects == connects and len(proxy.origin.seen) == seen
    event = proxy.sink.events[-1]
    assert event.verdict.host == normalise_name("www.bet.example") and event.protocol == "https"
    assert event.url == "https://www.bet.example/" and event.method is None
    assert proxy.metric("filterproxy_http_tls_connections_total", handling="refused") >= 1


def test_no_sni_follows_the_configured_policy(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    allowed = direct_tls(proxy.port, None, pki[0])  # classify: the destination 127.0.0.1 is unlisted
    assert allowed.issuer == ORIGIN_CA
    proxy.call(_set(proxy, filterproxy_no_sni="block"))
    try:
        refused = direct_tls(proxy.port, None, pki[0])
        assert refused.issuer is None and proxy.sink.events[-1].verdict.rule == "no-sni"
    finally:
        proxy.call(_set(proxy, filterproxy_no_sni="classify"))


async def _set(proxy: RunningProxy, **options: Any) -> None:
    proxy.server._master.options.update(**options)
