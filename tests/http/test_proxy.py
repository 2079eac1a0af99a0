"""The proxy really running: plain HTTP, CONNECT decisions and passthrough, with curl and raw clients."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Any

import pytest

from filterproxy.model import Query
from tests.http.clients import via_connect
from tests.http.conftest import PUPIL, RunningProxy, curl
from tests.http.pki import ORIGIN_CA


@pytest.fixture(scope="module")
def proxy(proxy_factory: Any) -> RunningProxy:
    return proxy_factory()  # defaults: explicit mode, blocked HTTPS refused at CONNECT


def verdict_of(proxy: RunningProxy, host: str, path: str | None = None, client: str = PUPIL) -> Any:
    query = Query(ipaddress.ip_address(client), host, datetime.datetime.now(datetime.UTC), path)
    return proxy.engine.classify(query)


def test_allowed_http_reaches_origin(proxy: RunningProxy) -> None:
    before = len(proxy.sink.events)
    result = curl("-x", proxy.url, "http://ok.example/hello?x=1")
    assert result.returncode == 0, result.stderr
    assert '"path": "/hello?x=1"' in result.stdout and '"origin": "http"' in result.stdout
    assert len(proxy.sink.events) == before  # allowed and unlisted: no incident


def test_blocked_http_gets_block_page_and_never_reaches_origin(proxy: RunningProxy) -> None:
    seen = len(proxy.origin.seen)
    result = curl(
        "-i",
        "-x",
        proxy.url,
        "-H",
        "Accept: text/html",
        "-A",
        "Pupil Browser/1.0",
        "http://www.bet.example/casino?game=1",
    )
    assert result.stdout.startswith("HTTP/1.1 403")
    reference = next(
        line.split(": ", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.lower().startswith("x-filterproxy-reference")
    )
    assert "Gambling" in result.stdout and reference in result.stdout and "Test School" in result.stdout
    assert "https://helpdesk.school.example/review" in result.stdout and "<script" not in result.stdout
    head = result.stdout.lower().split("\r\n\r\n")[0]
    assert "x-content-type-options: nosniff" in head and "content-security-policy: default-src 'none';" in head
    assert len(proxy.origin.seen) == seen
    event = proxy.sink.events[-1]
    assert event.reference == reference and event.protocol == "http" and event.method == "GET"
    assert event.url == "http://www.bet.example/casino?game=1" and event.user_agent == "Pupil Browser/1.0"
    assert event.client == PUPIL
    assert event.verdict == verdict_of(proxy, "www.bet.example", "/casino?game=1")
    assert proxy.metric("filterproxy_http_blocks_total", category="gambling", group="pupils", protocol="http") >= 1


def test_block_page_for_head_and_non_html_clients(proxy: RunningProxy) -> None:
    head = curl("-sI", "-x", proxy.url, "-H", "Accept: text/html", "http://adult.example/")
    assert head.stdout.startswith("HTTP/1.1 403") and "text/html" in head.stdout
    text = curl("-i", "-x", proxy.url, "-H", "Accept: application/json", "http://adult.example/x.json")
    assert "text/plain" in text.stdout and "Category: Adult content" in text.stdout
    assert "Reference: " in text.stdout and "<html" not in text.stdout


@pytest.mark.parametrize(
    ("url", "blocked", "category"),
    [
        ("http://ok.example/", False, None),
        ("http://bet.example/", True, "gambling"),
        ("http://sub.social.example/feed", True, "social"),
        ("http://mixed.example/good/page", False, None),
        ("http://mixed.example/bad/page?q=1", True, "adult"),
        ("http://iwf.example/abuse/123", True, "illegal"),
        ("http://iwf.example/news", False, None),
        ("http://x.example/", True, "adult"),
        ("http://other.example/", False, None),
    ],
)
def test_same_verdict_as_classifier(proxy: RunningProxy, url: str, blocked: bool, category: str | None) -> None:
    host, _, path = url.removeprefix("http://").partition("/")
    verdict = verdict_of(proxy, host, "/" + path)
    assert verdict.blocked is blocked  # the table agrees with the classifier ...
    result = curl("-i", "-x", proxy.url, url)
    assert result.stdout.startswith("HTTP/1.1 403" if blocked else "HTTP/1.1 200")  # ... and so does the proxy
    if blocked:
        assert f"X-Filterproxy-Category: {category}" in result.stdout
        assert verdict.category is not None and verdict.category.value == category


def test_allowed_https_passes_through_with_origin_certificate(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    before = proxy.metric("filterproxy_http_tls_connections_total", handling="passthrough")
    result = via_connect(proxy.port, "ok.example", pki[0], path="/secure")
    assert result.issuer == ORIGIN_CA, result.error  # the origin's own certificate: not intercepted
    assert result.status_line.endswith("200 OK") and b'"origin": "https"' in result.body
    assert proxy.metric("filterproxy_http_tls_connections_total", handling="passthrough") == before + 1
    curl_result = curl("--cacert", str(pki[0]), "-x", proxy.url, "https://ok.example/curl")
    assert curl_result.returncode == 0 and '"path": "/curl"' in curl_result.stdout


def test_blocked_connect_is_refused_before_any_upstream_connection(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    connects = proxy.upstream.connects
    result = via_connect(proxy.port, "bet.example", pki[0])
    assert result.status_line.startswith("HTTP/1.1 403") and result.issuer is None
    assert b"Gambling" in result.body
    assert proxy.upstream.connects == connects  # no upstream connection was ever attempted
    event = proxy.sink.events[-1]
    assert event.method == "CONNECT" and event.protocol == "https" and event.url == "https://bet.example:443/"
    assert event.verdict == verdict_of(proxy, "bet.example")
    result = curl("-x", proxy.url, "https://bet.example/")
    assert result.returncode == 56 and "403" in result.stderr


def test_sni_naming_a_blocked_host_inside_an_allowed_connect_is_refused(
    proxy: RunningProxy, pki: tuple[Path, ...]
) -> None:
    import socket
    import ssl

    connects = proxy.upstream.connects
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    with sock:
        sock.sendall(b"CONNECT ok.example:443 HTTP/1.1\r\nHost: ok.example:443\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=str(pki[0]))
        with pytest.raises((ssl.SSLError, OSError)):
            context.wrap_socket(sock, server_hostname="bet.example")  # domain fronting the other way round
    assert proxy.upstream.connects == connects
    assert proxy.sink.events[-1].verdict.host == "bet.example"


def test_metrics_have_no_host_or_client_labels(proxy: RunningProxy) -> None:
    from prometheus_client import generate_latest

    text = generate_latest(proxy.registry).decode()
    assert "filterproxy_http_requests_total" in text and "filterproxy_http_decision_seconds" in text
    for secret in ("example", "127.0.0.1", "casino"):
        assert secret not in text


def test_a_host_header_cannot_hide_the_real_destination(proxy: RunningProxy) -> None:
    result = curl("-i", "-x", proxy.url, "-H", "Host: ok.example", "http://bet.example/")
    assert result.stdout.startswith("HTTP/1.1 403") and "gambling" in result.stdout
