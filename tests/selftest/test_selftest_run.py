from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from filterproxy.errors import SelftestError
from filterproxy.model import Category
from filterproxy.selftest import commands
from filterproxy.selftest.metrics import register_selftest_metrics
from filterproxy.selftest.results import append_run, read_runs
from filterproxy.selftest.runner import run_group
from filterproxy.selftest.settings import SelftestSettings
from tests.selftest.service import SHIPPED, Service

PROBED = [c for c in Category if c is not Category.ILLEGAL]


def run_cli(service: Service, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    """`filterproxy selftest` against the running service, configured through the environment."""
    monkeypatch.setenv("FILTERPROXY__DNS__LISTEN", f"127.0.0.1:{service.dns_port}")
    monkeypatch.setenv("FILTERPROXY__PROXY__ENABLED", "false")
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    parser.add_argument("--data-dir", type=Path)
    commands.register(parser.add_subparsers())
    args = parser.parse_args(["--config", str(SHIPPED), "--data-dir", str(service.config.data_dir), "selftest", *extra])
    return int(args.handler(args))


def test_default_config_passes_and_is_stored(
    start_service: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service = start_service()
    assert run_cli(service, monkeypatch) == 0
    table = capsys.readouterr().out
    assert "FAIL" not in table and "PASS" in table
    for category in PROBED:
        assert f"{category.value}.filterproxy-selftest.example" in table
    runs, bad = read_runs(service.config.data_dir)
    assert bad == 0 and len(runs) == 1 and runs[0].passed and runs[0].group == "pupils"
    assert {p.category for p in runs[0].probes if p.kind == "category"} == {c.value for c in PROBED}
    assert all(p.observed == "allowed" for p in runs[0].probes if p.kind == "educational")


def test_category_switched_off_fails(
    start_service: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service = start_service({"FILTERPROXY__POLICY__GROUPS__PUPILS__CATEGORIES__GAMBLING": "allow"})
    assert run_cli(service, monkeypatch, "--json") == 1
    runs = json.loads(capsys.readouterr().out)
    failed = [p for p in runs[0]["probes"] if not p["ok"]]
    assert [(p["category"], p["observed"]) for p in failed] == [("gambling", "allowed")]
    assert not read_runs(service.config.data_dir)[0][-1].passed


def test_overblocking_an_educational_site_fails(start_service: Any) -> None:
    service = start_service()
    settings = SelftestSettings(educational=["www.bbc.co.uk", "adult.filterproxy-selftest.example"])
    run = run_group(service.config, settings, "pupils")
    failed = [(p.kind, p.target, p.observed) for p in run.failures]
    assert failed == [("educational", "adult.filterproxy-selftest.example", "blocked")]
    assert "EDE" in run.failures[0].detail


def test_group_expectations_and_source_address(start_service: Any) -> None:
    service = start_service({"FILTERPROXY__POLICY__GROUPS__STAFF__NETWORKS": "[127.0.0.2/32]"})
    with pytest.raises(SelftestError, match=r"source_addresses\.staff"):
        run_group(service.config, SelftestSettings(), "staff")
    with pytest.raises(SelftestError, match="unknown group"):
        run_group(service.config, SelftestSettings(), "nobody")
    strict = SelftestSettings(source_addresses={"staff": "127.0.0.2"})
    failed = {p.category for p in run_group(service.config, strict, "staff").failures}
    assert failed == {"social", "circumvention"}  # staff may use social media; circumvention is log-only
    relaxed = strict.model_copy(update={"allowed": {"staff": [Category.SOCIAL, Category.CIRCUMVENTION]}})
    assert run_group(service.config, relaxed, "staff").passed


def test_unreachable_resolver_is_a_failure(start_service: Any) -> None:
    service = start_service()
    config = service.config.model_copy(update={"dns": service.config.dns.model_copy(update={"listen": "127.0.0.1:9"})})
    run = run_group(config, SelftestSettings(timeout=0.3, educational=[]), "pupils")
    assert not run.passed and {p.observed for p in run.probes} == {"error"}


def test_results_exported_as_metrics(start_service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    service = start_service()
    registry = CollectorRegistry()
    register_selftest_metrics(registry, service.config.data_dir)
    assert "filterproxy_selftest_passed{" not in generate_latest(registry).decode()
    assert run_cli(service, monkeypatch, "--json") == 0
    assert registry.get_sample_value("filterproxy_selftest_passed", {"group": "pupils"}) == 1.0
    value = registry.get_sample_value(
        "filterproxy_selftest_failures", {"group": "pupils", "kind": "category", "protocol": "dns"}
    )
    assert value == 0.0
    # a later failing run (adult switched off in another resolver) replaces the exported result
    changed = start_service({"FILTERPROXY__POLICY__GROUPS__PUPILS__CATEGORIES__ADULT": "allow"})
    append_run(service.config.data_dir, run_group(changed.config, SelftestSettings(), "pupils"))
    assert registry.get_sample_value("filterproxy_selftest_passed", {"group": "pupils"}) == 0.0
    value = registry.get_sample_value(
        "filterproxy_selftest_failures", {"group": "pupils", "kind": "category", "protocol": "dns"}
    )
    assert value == 1.0


def test_all_groups_skips_groups_without_a_source_address(
    start_service: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    service = start_service()
    assert run_cli(service, monkeypatch, "--all-groups") == 0  # pupils passes; staff and guests cannot run
    captured = capsys.readouterr()
    assert "skipping group guests" in captured.err and "skipping group staff" in captured.err
    assert [run.group for run in read_runs(service.config.data_dir)[0]] == ["pupils"]
