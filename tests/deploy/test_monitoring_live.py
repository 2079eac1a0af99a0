"""A real Prometheus scraping a running filterproxy under a few hundred queries.

Every Grafana panel query and every alert expression goes through Prometheus' HTTP API: no
error, no warning, and data wherever the traffic of the test produces it. Everything runs on
127.0.0.1; the "internet" is a local DNS stub and a local HTTP origin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import httpx
import pytest
import yaml

from filterproxy.model import Category
from filterproxy.selftest.results import append_run
from filterproxy.selftest.runner import run_group
from filterproxy.selftest.settings import SelftestSettings
from tests.deploy.prometheus_server import DASHBOARD, RULES, Prometheus, free_port, scrape_config
from tests.selftest.service import Loop, Service

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus missing (bootstrap.sh test)"),
]
STARTER = Path(__file__).resolve().parents[2] / "blocklists" / "starter"
PANELS_WITHOUT_TRAFFIC = {
    "Alerts sent and failed": "no alert channel is configured in the test, so nothing is sent",
}
ALERTS_FIRING = {
    "FilterproxyExporterDown": "a second scrape target on a closed port",
    "FilterproxyListStale": "a list source whose file is 30 days old",
    "FilterproxyUpstreamDown": "the first upstream is a closed port",
    "FilterproxyHighRiskBlocksSpike": "40 blocked self-harm queries within the test",
}


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"lesson material\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@dataclass
class Live:
    service: Service
    prometheus: Prometheus
    queries: int
    dead_target: str
    exposed: set[str]  # metric names in the exporter's HELP lines (declared even before any sample)


def dns_query(port: int, name: str, qtype: str = "A") -> None:
    dns.query.udp(dns.message.make_query(name, qtype, use_edns=0), "127.0.0.1", port=port, timeout=3)


def starter_names(per_category: int = 3) -> list[str]:
    names = []
    for path in sorted(STARTER.glob("*.txt")):
        entries = [x.strip() for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
        names += entries[:per_category]
    return names


def proxy_traffic(service: Service, origin: str, rounds: int) -> None:
    transport = httpx.HTTPTransport(proxy=f"http://127.0.0.1:{service.proxy_port}")
    with httpx.Client(transport=transport, timeout=10) as client:
        for _ in range(rounds):
            for category in ("adult", "gambling", "social", "selfharm"):
                assert client.get(f"http://{category}.filterproxy-selftest.example/").status_code == 403
            assert client.get(origin).status_code == 200
        with pytest.raises(httpx.ProxyError):
            client.get("https://gambling.filterproxy-selftest.example/")


def dns_traffic(port: int) -> int:
    sent = 0
    for name in starter_names():
        dns_query(port, name)
        sent += 1
    for _ in range(40):
        dns_query(port, "selfharm.filterproxy-selftest.example")
        sent += 1
    for round_ in range(2):  # the second round comes from the cache
        for n in range(120):
            dns_query(port, f"www.school{n}.example", "A" if round_ == 0 or n % 2 else "AAAA")
            sent += 1
    return sent


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    old = tmp / "old-hate.txt"
    old.write_text("old-hate.example\n")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    origin = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    loop = Loop()
    overrides = {
        "FILTERPROXY__LISTS__SOURCES": f"[{{id: test/old-hate, category: hate, path: '{old}', licence: CC0-1.0}}]",
        "FILTERPROXY__DNS__UPSTREAM_TIMEOUT": "0.2",
        "FILTERPROXY__PROXY__ENABLED": "true",
    }
    service = Service(loop, tmp / "var", overrides, extra_upstreams=(f"127.0.0.1:{free_port()}",), proxy=True)
    dead = f"127.0.0.1:{free_port()}"
    prometheus = Prometheus(scrape_config([f"127.0.0.1:{service.exporter.port}", dead], tmp), tmp)
    try:
        # first one of each kind, scraped, so that every series exists before the bulk of the traffic
        # (a counter first seen after the traffic shows no increase)
        for category in Category:
            dns_query(service.dns_port, f"{category.value}.filterproxy-selftest.example")
        lesson = f"http://127.0.0.1:{origin.server_address[1]}/lesson"
        proxy_traffic(service, lesson, rounds=1)
        prometheus.wait_for('filterproxy_dns_blocks_total{category="selfharm"}')
        prometheus.wait_for('filterproxy_http_decision_seconds_count{hook="request"}')
        queries = len(Category) + dns_traffic(service.dns_port)
        proxy_traffic(service, lesson, rounds=3)
        append_run(service.config.data_dir, run_group(service.config, SelftestSettings(http=False), "pupils"))
        assert prometheus.wait_for(f"sum(filterproxy_dns_queries_total) >= {queries}"), "traffic never scraped"
        time.sleep(2)  # a couple more scrapes: rates and increases see the end of the traffic
        text = httpx.get(f"http://127.0.0.1:{service.exporter.port}/metrics", timeout=5).text
        exposed = set(re.findall(r"^# HELP (\S+)", text, flags=re.MULTILINE))
        yield Live(service, prometheus, queries, dead, exposed)
    finally:
        prometheus.close()
        service.close()
        origin.shutdown()
        loop.close()


def substitute(expr: str) -> str:
    """Grafana's variables as Grafana would expand them for this test's time range."""
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$__range", "5m")
        .replace('"$group"', '".*"')
        .replace("$group", ".*")
    )


def dashboard_targets() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]


def alert_rules() -> list[dict[str, Any]]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r]


def metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\b(filterproxy_[a-z_]+?)(?:_bucket)?\b(?!\s*\()", expr))
    if "filterproxy_(dns|http)_blocks_total" in expr:
        names = {n for n in names if n != "filterproxy_"} | {
            "filterproxy_dns_blocks_total",
            "filterproxy_http_blocks_total",
        }
    return {n for n in names if not n.endswith("_")}


def test_the_running_service_was_scraped(live: Live) -> None:
    up = {r["metric"]["instance"]: r["value"][1] for r in live.prometheus.query('up{job="filterproxy"}')}
    assert up == {f"127.0.0.1:{live.service.exporter.port}": "1", live.dead_target: "0"}
    total = live.prometheus.query("sum(filterproxy_dns_queries_total)")
    assert float(total[0]["value"][1]) >= live.queries >= 300


def test_promtool_check_metrics_on_a_real_scrape(live: Live) -> None:
    text = httpx.get(f"http://127.0.0.1:{live.service.exporter.port}/metrics", timeout=5).text
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("title", "expr"), dashboard_targets(), ids=[t for t, _ in dashboard_targets()])
def test_dashboard_query(live: Live, title: str, expr: str) -> None:
    result = live.prometheus.query(substitute(expr))
    for name in metric_names(expr):  # a typo in a metric name would otherwise look like "no traffic"
        assert name in live.exposed, f"{title}: filterproxy exports no metric {name}"
    if title in PANELS_WITHOUT_TRAFFIC:
        return
    assert result, f"{title}: no data for {substitute(expr)}"
    assert any(r["value"][1] not in ("NaN", "+Inf", "-Inf") for r in result), f"{title}: only NaN/Inf: {result}"


@pytest.mark.parametrize("rule", alert_rules(), ids=[r["alert"] for r in alert_rules()])
def test_alert_expression(live: Live, rule: dict[str, Any]) -> None:
    result = live.prometheus.query(rule["expr"])
    for name in metric_names(rule["expr"]):
        assert name in live.exposed, f"{rule['alert']}: filterproxy exports no metric {name}"
    assert bool(result) == (rule["alert"] in ALERTS_FIRING), f"{rule['alert']}: {result}"


def test_rules_loaded_and_evaluate_cleanly(live: Live) -> None:
    groups = live.prometheus.client.get("/api/v1/rules").json()["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert {r["name"] for r in rules} == {r["alert"] for r in alert_rules()}
    assert all(r["health"] == "ok" and not r.get("lastError") for r in rules), rules
    active = {r["name"] for r in rules if r["state"] in ("pending", "firing")}
    assert active == set(ALERTS_FIRING)


def test_review_reads_block_history_from_prometheus(live: Live) -> None:
    from datetime import UTC, datetime, timedelta

    from filterproxy.errors import MetricsHistoryError
    from filterproxy.review.prometheus import PrometheusHistory

    now = datetime.now(UTC)
    history = PrometheusHistory(live.prometheus.url)
    try:
        table = history.blocks_by_month([f"{now.year:04d}-{now.month:02d}"], now + timedelta(days=1))
    finally:
        history.close()
    assert table["selfharm"][0] is not None and table["selfharm"][0] >= 40  # the burst of the test
    assert set(table) >= {"adult", "gambling", "social"}
    broken = PrometheusHistory(f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(MetricsHistoryError):
        broken.query("up", now)
    broken.close()


def test_review_report_shows_the_prometheus_history(live: Live, tmp_path: Path) -> None:
    from datetime import UTC, date, datetime

    from filterproxy.review.figures import Period
    from filterproxy.review.gather import gather
    from filterproxy.review.report import build_context, render

    today = datetime.now(UTC).date()
    metrics = live.service.config.metrics.model_copy(update={"prometheus_url": live.prometheus.url})
    config = live.service.config.model_copy(update={"metrics": metrics})
    data = build_context(gather(config, Period(date(today.year, today.month, 1), today)))
    # this module's traffic asks the probe names without a token; the review leaves their incidents
    # out (docs/selftest.md) and says so, and notes nothing else
    notes = [n for n in data["notes"] if "self-test probe names" not in n]
    assert data["history"]["selfharm"][-1] >= 40 and not notes
    html = render(data)
    assert 'id="history-table"' in html and "Blocked requests (Prometheus)" in html


def test_no_client_domain_or_user_in_any_label(live: Live) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from filterproxy.metrics.registry import BOUNDED_LABELS

    text = httpx.get(f"http://127.0.0.1:{live.service.exporter.port}/metrics", timeout=5).text
    allowed = BOUNDED_LABELS | {"le", "version", "python", "implementation"}  # build_info: the software's own
    domain = re.compile(r"[a-z0-9-]+\.[a-z]{2,}", re.IGNORECASE)
    address = re.compile(r"\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f:]+", re.IGNORECASE)
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    assert len(samples) > 200
    for sample in samples:
        assert set(sample.labels) <= allowed, (sample.name, sample.labels)
        for key, value in sample.labels.items():
            if key in ("upstream", "version", "python"):  # a configured server; version numbers
                continue
            assert not domain.search(value) and not address.search(value), (sample.name, key, value)
