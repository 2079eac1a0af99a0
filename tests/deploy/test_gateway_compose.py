"""deploy/compose.yaml: valid against the Compose Specification schema, and coherent with the image.

The schema is vendored from the compose-spec project (Apache-2.0, see schemas/LICENSE.compose-spec),
as shipped in PyPI's check-jsonschema package: no network is needed to validate.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
import yaml

from filterproxy.config.loader import load_config

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose.yaml"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_matches_the_compose_spec() -> None:
    assert _errors(_compose()) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["services"]["filterproxy"].update(port=["53:5353/udp"]),  # typo for ports
        lambda d: d["services"]["grafana"].update(restart=["always"]),  # wrong type
        lambda d: d["volumes"].update({"bad volume!": {"driver": 1}}),
    ],
)
def test_schema_rejects_broken_variants(break_it: Any) -> None:
    document = copy.deepcopy(_compose())
    break_it(document)
    assert _errors(document) != []


def test_services_and_bind_mounts_exist() -> None:
    services = _compose()["services"]
    assert {"filterproxy", "prometheus", "grafana"} <= set(services)
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), f"{name}: bind mount {source} is missing"


def test_published_ports_reach_the_ports_the_image_listens_on() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    exposed = set(re.findall(r"\b(\d+)/(?:tcp|udp)", dockerfile.split("EXPOSE", 1)[1].splitlines()[0]))
    for mapping in _compose()["services"]["filterproxy"]["ports"]:
        container_port = mapping.split(":")[-1].split("/")[0]
        assert container_port in exposed, mapping


def test_prometheus_config_scrapes_the_filterproxy_service(tmp_path: Path) -> None:
    prometheus = _compose()["services"]["prometheus"]
    mounts = dict(v.split(":")[:2] for v in prometheus["volumes"] if v.startswith("."))
    config = {target: COMPOSE.parent / source for source, target in mounts.items()}
    main = config["/etc/prometheus/prometheus.yml"]
    targets = json.dumps(yaml.safe_load(main.read_text())["scrape_configs"])
    assert "filterproxy:9153" in targets
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (package prometheus, in scripts/bootstrap.sh test)")
    for target, source in config.items():  # lay the files out as the container sees them
        if target.startswith("/etc/prometheus/"):
            (tmp_path / Path(target).name).write_text(source.read_text())
    argv = [promtool, "check", "config", str(tmp_path / "prometheus.yml")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_environment_overrides_give_a_valid_configuration() -> None:
    """What the image and the gateway profile set through the environment loads cleanly."""
    dockerfile = (REPO / "Dockerfile").read_text()
    env = dict(re.findall(r"(FILTERPROXY__\w+)=(\S+)", dockerfile))
    gateway = _compose()["services"]["filterproxy-gateway"]["environment"]
    for key, value in gateway.items():
        env[key] = re.sub(r"\$\{\w+:-(.*)\}", r"\1", str(value))  # the compose default
    config = load_config(REPO / "config" / "filterproxy.yaml", env=env)  # the shipped config, as the image has it
    assert config.gateway.lan_interfaces == ["eth1"]
    assert config.proxy.mode == "transparent"
    assert config.dns.listen == "0.0.0.0:5353"


def _mounts(service: str) -> dict[str, Path]:
    """Container path -> repository path of a service's bind mounts."""
    volumes = _compose()["services"][service]["volumes"]
    return {v.split(":")[1]: COMPOSE.parent / v.split(":")[0] for v in volumes if v.startswith(".")}


def test_grafana_gets_the_dashboard_and_a_datasource_it_can_reach() -> None:
    mounts = _mounts("grafana")
    datasource = yaml.safe_load(mounts["/etc/grafana/provisioning/datasources/prometheus.yml"].read_text())
    source = datasource["datasources"][0]
    assert source["url"] == "http://prometheus:9090"  # the compose service, not grafana's own loopback
    providers = mounts["/etc/grafana/provisioning/dashboards"]
    paths = [p["options"]["path"] for f in providers.glob("*.y*ml") for p in yaml.safe_load(f.read_text())["providers"]]
    dashboards = {target: host for target, host in mounts.items() if target in paths}
    assert dashboards, f"no mount provides the provisioned dashboard path(s) {paths}"
    for host in dashboards.values():
        boards = list(host.glob("*.json"))
        assert boards
        for board in boards:  # every data source is Prometheus: the provisioned uid or a variable
            found = list(_datasources(json.loads(board.read_text())))
            assert found, f"{board.name} names no data source"
            for ref in found:
                assert ref.get("type") == "prometheus", (board.name, ref)
                assert ref.get("uid") == source["uid"] or str(ref.get("uid", "")).startswith("${"), ref


def _datasources(node: Any) -> Any:
    if isinstance(node, dict):
        if isinstance(node.get("datasource"), dict):
            yield node["datasource"]
        for value in node.values():
            yield from _datasources(value)
    elif isinstance(node, list):
        for value in node:
            yield from _datasources(value)
