"""deploy/kubernetes: every manifest valid against the Kubernetes OpenAPI schemas (strict).

kubernetes-validate (PyPI) ships the schemas, so this works offline, like kubeconform would.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from filterproxy.config.loader import load_config

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate not installed (a dev dependency)"
)

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "kubernetes"
VERSION = "1.30.0"


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                found.append((path.name, doc))
    return found


def _find(kind: str, name: str) -> dict[str, Any]:
    return next(doc for _, doc in _documents() if doc["kind"] == kind and doc["metadata"]["name"] == name)


@pytest.mark.parametrize(("file", "doc"), _documents(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_manifest_is_valid(file: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, VERSION, strict=True)


def test_validation_rejects_a_typo() -> None:
    broken = copy.deepcopy(_find("Deployment", "filterproxy"))
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    shipped = {p.name.replace(".example", "") for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert listed == shipped  # secret.yaml is made from secret.example.yaml by the operator


def test_instances_share_one_incident_store_and_are_scraped() -> None:
    deployment = _find("Deployment", "filterproxy")
    pod = deployment["spec"]["template"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/port"] == "9153"
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["FILTERPROXY__INCIDENTS__STORE"]["value"].startswith("postgresql://postgres:5432/")
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "filterproxy-postgres"
    assert deployment["spec"]["replicas"] >= 2
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    ports = {p["name"] for p in container["ports"]}
    service = _find("Service", "filterproxy")
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_configmap_holds_a_configuration_filterproxy_accepts(tmp_path: Path) -> None:
    text = _find("ConfigMap", "filterproxy-config")["data"]["filterproxy.yaml"]
    path = tmp_path / "filterproxy.yaml"
    path.write_text(text)
    env = {"FILTERPROXY__INCIDENTS__STORE": "postgresql://postgres:5432/filterproxy"}
    config = load_config(path, env=env)
    assert config.metrics.listen == "0.0.0.0:9153"
    assert str(config.lists.sources_file).startswith("/srv/filterproxy-lists/")
