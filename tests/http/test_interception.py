"""TLS interception: only blocked connections (block page over HTTPS), and full interception per group."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from filterproxy.model import Action, Category
from filterproxy.selftest.marker import HTTP_HEADER, load_or_create_key, make_token
from tests.http.clients import via_connect
from tests.http.conftest import PUPIL, SIXTH, STAFF, RunningProxy, curl
from tests.http.pki import ORIGIN_CA

SCHOOL_CA = "Test School web filter CA"


@pytest.fixture(scope="module")
def proxy(proxy_factory: Any) -> RunningProxy:
    return proxy_factory(
        tls_blockpage=True,
        passthrough=["pinned.example"],
        watch={
            "selfharm": {"words": ["self harm", "suicide method"], "action": "log"},
            "extremism": {"words": ["join the caliphate"], "action": "block"},
        },
    )


def school_ca(proxy: RunningProxy) -> Path:
    return proxy.server.config.data_dir / "ca" / "mitmproxy-ca-cert.pem"


def origin_json(body: bytes) -> dict[str, Any]:
    return json.loads(body.decode())  # type: ignore[no-any-return]


def test_blocked_https_is_intercepted_for_the_block_page_only(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    connects = proxy.upstream.connects
    blocked = via_connect(proxy.port, "bet.example", school_ca(proxy), path="/poker")
    assert blocked.issuer == SCHOOL_CA, blocked.error  # intercepted with the school CA ...
    assert blocked.status_line.startswith("HTTP/1.1 403") and b"Gambling" in blocked.body
    assert proxy.upstream.connects == connects  # ... and answered without any upstream connection
    events = [e for e in proxy.sink.events if e.verdict.host == "bet.example"]
    assert len(events) == 1 and events[0].url == "https://bet.example/poker" and events[0].protocol == "https"
    assert events[0].reference.encode() in blocked.body
    allowed = via_connect(proxy.port, "ok.example", pki[0], path="/fine")
    assert allowed.issuer == ORIGIN_CA  # the rest stays untouched
    assert proxy.metric("filterproxy_http_tls_connections_total", handling="intercepted") >= 1


def test_blocked_https_without_the_ca_still_records_an_incident(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    before = len(proxy.sink.events)
    result = via_connect(proxy.port, "adult.example", pki[0])  # a device without the school CA
    assert result.issuer is None and result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
    for _ in range(50):  # the proxy notices the failed handshake asynchronously
        if len(proxy.sink.events) > before:
            break
        import time

        time.sleep(0.05)
    assert [e.verdict.host for e in proxy.sink.events[before:]] == ["adult.example"]


def test_a_probe_connect_leaves_no_incident_even_when_its_tls_fails(
    proxy: RunningProxy, pki: tuple[Path, ...]
) -> None:
    key = load_or_create_key(proxy.server.config.data_dir)
    before = len(proxy.sink.events)
    token = {HTTP_HEADER: make_token(key, "adult.example").hex()}
    result = via_connect(proxy.port, "adult.example", pki[0], headers=token)  # the school CA is not trusted
    assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
    via_connect(proxy.port, "bet.example", school_ca(proxy), headers={HTTP_HEADER: "00" * 24})  # forged: recorded
    for _ in range(50):
        if len(proxy.sink.events) > before:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # the failed handshake of the probe is noticed asynchronously too
    assert [e.verdict.host for e in proxy.sink.events[before:]] == ["bet.example"]


def test_full_interception_applies_url_lists_to_https(proxy: RunningProxy) -> None:
    ca = school_ca(proxy)
    bad = via_connect(proxy.port, "mixed.example", ca, path="/bad/thing", source=STAFF)
    assert bad.issuer == SCHOOL_CA and bad.status_line.startswith("HTTP/1.1 403") and b"Adult content" in bad.body
    good = via_connect(proxy.port, "mixed.example", ca, path="/good", source=STAFF)
    assert good.status_line.endswith("200 OK") and origin_json(good.body)["path"] == "/good"
    pupil = via_connect(proxy.port, "mixed.example", ca, path="/bad/thing", source=PUPIL)
    assert pupil.issuer is None  # pupils are not intercepted: only the name decides, it passes through


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("www.google.com", "/search?q=cats", "/search?q=cats&safe=active"),
        ("www.google.com", "/search?q=cats&safe=off", "/search?q=cats&safe=active"),
        ("www.bing.com", "/search?q=cats", "/search?q=cats&adlt=strict"),
        ("duckduckgo.com", "/?q=cats&kp=-2", "/?q=cats&kp=1"),
        ("ok.example", "/search?q=cats", "/search?q=cats"),
    ],
)
def test_safesearch_parameters_are_forced(proxy: RunningProxy, host: str, path: str, expected: str) -> None:
    result = via_connect(proxy.port, host, school_ca(proxy), path=path, source=STAFF)
    assert result.issuer == SCHOOL_CA and origin_json(result.body)["path"] == expected


@pytest.mark.parametrize(("source", "value"), [(STAFF, "Moderate"), (SIXTH, "Strict")])
def test_youtube_restrict_header_per_group(proxy: RunningProxy, source: str, value: str) -> None:
    result = via_connect(proxy.port, "www.youtube.com", school_ca(proxy), path="/watch?v=x", source=source)
    headers = {k.lower(): v for k, v in origin_json(result.body)["headers"].items()}
    assert headers["youtube-restrict"] == value


def test_search_terms_are_captured_on_incidents(proxy: RunningProxy) -> None:
    ca = school_ca(proxy)
    result = via_connect(proxy.port, "www.google.com", ca, path="/search?q=Self+%20Harm+help", source=STAFF)
    assert result.status_line.endswith("200 OK")  # a log-only watch list lets the search through
    event = proxy.sink.events[-1]
    assert event.search_term == "Self Harm help" and event.verdict.action is Action.LOG
    assert event.verdict.category is Category.SELFHARM and event.verdict.rule == "self harm"
    assert event.url == "https://www.google.com/search?q=Self+%20Harm+help"  # as asked, before SafeSearch
    blocked = via_connect(
        proxy.port, "www.youtube.com", ca, path="/results?search_query=join+the+caliphate", source=SIXTH
    )
    assert blocked.status_line.startswith("HTTP/1.1 403") and b"Extremism" in blocked.body
    event = proxy.sink.events[-1]
    assert event.search_term == "join the caliphate" and event.verdict.action is Action.BLOCK
    wiki = via_connect(proxy.port, "en.wikipedia.org", ca, path="/w/index.php?search=suicide+method", source=STAFF)
    assert wiki.status_line.endswith("200 OK") and proxy.sink.events[-1].search_term == "suicide method"
    assert proxy.metric("filterproxy_http_watched_searches_total", theme="extremism", action="block") == 1


def test_plain_http_searches_are_rewritten_for_everyone(proxy: RunningProxy) -> None:
    result = curl("-x", proxy.url, "http://www.bing.com/search?q=dogs")
    assert json.loads(result.stdout)["path"] == "/search?q=dogs&adlt=strict"


def test_passthrough_domains_are_never_intercepted(proxy: RunningProxy, pki: tuple[Path, ...]) -> None:
    result = via_connect(proxy.port, "pinned.example", pki[0], path="/app", source=STAFF)
    assert result.issuer == ORIGIN_CA and origin_json(result.body)["path"] == "/app"


def test_curl_sees_the_block_page_over_https(proxy: RunningProxy) -> None:
    result = curl(
        "-i",
        "--cacert",
        str(school_ca(proxy)),
        "-x",
        proxy.url,
        "-H",
        "Accept: text/html",
        "https://social.example/feed",
    )
    assert "HTTP/1.1 403" in result.stdout or "HTTP/2 403" in result.stdout
    assert "Social networking" in result.stdout
