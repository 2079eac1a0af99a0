"""Static checks of deploy/prometheus and deploy/grafana with Debian's promtool."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.prometheus_server import DASHBOARD, DEPLOY, PROMETHEUS_YML, RULE_TESTS, RULES

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool missing (scripts/bootstrap.sh test installs it)")


def promtool(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], input=stdin.decode() if stdin else None, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_shipped_config_is_valid() -> None:
    result = promtool("check", "config", str(PROMETHEUS_YML))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_rules_are_valid() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(RULE_TESTS.name), cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_unit_test() -> None:
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}
    tested = {
        t["alertname"]
        for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for t in case.get("alert_rule_test", [])
    }
    assert alerts == tested
    firing = {
        t["alertname"]
        for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for t in case.get("alert_rule_test", [])
        if t.get("exp_alerts")
    }
    assert alerts == firing  # each is shown firing at least once


def test_broken_rule_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(RULES.read_text().replace("== 0\n", "== \n", 1))
    assert promtool("check", "rules", str(broken)).returncode != 0


def test_grafana_provisioning_and_dashboard_shape() -> None:
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/filterproxy.yml").read_text())
    assert providers["apiVersion"] == 1 and providers["providers"][0]["type"] == "file"
    sources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert sources["datasources"][0]["type"] == "prometheus"
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] == "filterproxy-overview"
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for needed in (
        "per category",
        "by group",
        "outcomes",
        "latency",
        "cache hit ratio",
        "list age",
        "incidents by status",
    ):
        assert needed in titles
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert not re.search(r"\b(client|domain|host|user|url|site)\b", target["expr"]), target["expr"]
