from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from filterproxy.errors import ConfigError
from filterproxy.metrics.auth import hash_password
from filterproxy.metrics.registry import counter


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_serves_build_info_and_process_metrics_on_ephemeral_port(start_exporter: Any) -> None:
    running = start_exporter()
    assert running.server.port != 0
    response = httpx.get(running.server.url, timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = families(response.text)
    info = found["filterproxy_build_info"].samples[0]
    assert info.value == 1.0 and info.labels["version"]
    assert "process_resident_memory_bytes" in found


def test_metric_updates_show_in_next_scrape(start_exporter: Any) -> None:
    running = start_exporter()
    hits = counter(running.registry, "filterproxy_test_hits_total", "Test.", ("outcome",))
    hits.labels("blocked").inc(3)
    text = httpx.get(running.server.url, timeout=5).text
    assert 'filterproxy_test_hits_total{outcome="blocked"} 3.0' in text


def test_gzip_and_openmetrics_negotiation(start_exporter: Any) -> None:
    running = start_exporter()
    gz = httpx.get(running.server.url, headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert gz.headers["content-encoding"] == "gzip" and "filterproxy_build_info" in gz.text
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    om = httpx.get(running.server.url, headers=accept, timeout=5)
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    assert om.text.rstrip().endswith("# EOF")


def test_unknown_path_method_and_garbage(start_exporter: Any) -> None:
    running = start_exporter()
    base = f"http://127.0.0.1:{running.server.port}"
    assert httpx.get(base + "/nope", timeout=5).status_code == 404
    assert httpx.post(running.server.url, content=b"x", timeout=5).status_code == 405
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    assert httpx.get(running.server.url, timeout=5).status_code == 200  # still serving


def test_binds_loopback_by_default() -> None:
    from filterproxy.metrics.settings import MetricsSettings

    assert MetricsSettings().listen.startswith("127.0.0.1:")


def test_basic_auth_with_hash(start_exporter: Any) -> None:
    running = start_exporter(username="prom", password_hash=hash_password("s3cret", iterations=1000))
    assert httpx.get(running.server.url, timeout=5).status_code == 401
    assert httpx.get(running.server.url, auth=("prom", "wrong"), timeout=5).status_code == 401
    assert httpx.get(running.server.url, auth=("other", "s3cret"), timeout=5).status_code == 401
    for _ in range(2):  # the second scrape takes the remembered-header path
        assert httpx.get(running.server.url, auth=("prom", "s3cret"), timeout=5).status_code == 200


def test_basic_auth_from_file_and_env(start_exporter: Any, tmp_path: Any, monkeypatch: Any) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    running = start_exporter(username="prom", password_file=secret)
    assert httpx.get(running.server.url, auth=("prom", "from-file"), timeout=5).status_code == 200
    monkeypatch.setenv("FP_METRICS_PW", "from-env")
    running = start_exporter(username="prom", password_env="FP_METRICS_PW")
    assert httpx.get(running.server.url, auth=("prom", "from-env"), timeout=5).status_code == 200
    assert httpx.get(running.server.url, auth=("prom", "from-file"), timeout=5).status_code == 401


def test_missing_secret_is_a_config_error(start_exporter: Any, tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="password_file"):
        start_exporter(username="prom", password_file=tmp_path / "absent")
    with pytest.raises(ConfigError, match="FP_UNSET_VAR"):
        start_exporter(username="prom", password_env="FP_UNSET_VAR")


def test_head_and_ipv6_loopback(loop: Any) -> None:
    from filterproxy.metrics.exporter import MetricsServer
    from filterproxy.metrics.registry import new_registry
    from filterproxy.metrics.settings import MetricsSettings

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = MetricsServer(MetricsSettings(listen="[::1]:0", path="/prom"), new_registry(process=False))
    loop.run(server.start())
    try:
        assert server.url == f"http://[::1]:{server.port}/prom"
        head = httpx.head(server.url, timeout=5)
        assert head.status_code == 200 and int(head.headers["content-length"]) > 0 and head.content == b""
        assert httpx.get(f"http://[::1]:{server.port}/metrics", timeout=5).status_code == 404
    finally:
        loop.run(server.stop())
