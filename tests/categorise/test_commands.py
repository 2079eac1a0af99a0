"""`filterproxy check` and `filterproxy model ...` on a small configuration with real list files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filterproxy.cli import main
from tests.categorise.conftest import write_small_sources
from tests.lists.conftest import workdir

__all__ = ["workdir"]


def run(workdir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--config", str(workdir / "filterproxy.yaml"), *args])
    return code, capsys.readouterr().out


def test_check_shows_reason_model_score_and_evidence(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(workdir, capsys, "check", "--json", "85porn.net", "bet.example", "bbc.co.uk")
    assert code == 0
    model, listed, benign = (json.loads(line) for line in out.splitlines())
    assert (model["action"], model["reason"], model["category"]) == ("block", "model", "adult")
    assert model["source"].startswith("model/hm1-") and model["score"] >= 0.9 and "word:porn" in model["evidence"]
    assert model["rule"].startswith("score ")
    assert (listed["reason"], listed["score"], listed["evidence"]) == ("category", None, [])
    assert (benign["action"], benign["reason"]) == ("allow", "unlisted")
    code, text = run(workdir, capsys, "check", "85porn.net")
    assert "reason=model" in text and "score=" in text and "evidence=" in text


def test_model_can_be_switched_off(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = workdir / "filterproxy.yaml"
    config.write_text(config.read_text() + "categorise:\n  enabled: false\n")
    _, out = run(workdir, capsys, "check", "--json", "85porn.net")
    assert json.loads(out)["reason"] == "unlisted"


def test_model_info_prints_the_manifest(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(workdir, capsys, "model", "info")
    assert code == 0 and "validation split" in out and "adult" in out and "sha256=" in out
    code, out = run(workdir, capsys, "model", "info", "--json")
    manifest = json.loads(out)
    assert manifest["thresholds"]["adult"] >= 0.5 and manifest["sources"]


def test_train_writes_the_schools_model_and_check_uses_it(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = write_small_sources(workdir / "training")
    code, out = run(workdir, capsys, "model", "train", "--sources", str(sources))
    assert code == 0 and "wrote" in out
    trained = workdir / "data" / "model" / "hostnames.fphm"
    assert trained.exists() and (workdir / "data" / "model" / "hostnames.fphm.manifest.json").exists()
    _, out = run(workdir, capsys, "model", "info", "--json")
    assert json.loads(out)["file"] == str(trained)  # the school's own model is now the active one


def test_queue_confirm_and_reject_from_the_cli(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(workdir, capsys, "model", "queue")
    assert code == 0 and "empty" in out
    code, out = run(workdir, capsys, "model", "reject", "spins.example", "--reason", "a gym")
    assert code == 0 and "rejected: spins.example" in out
    code, out = run(workdir, capsys, "model", "confirm", "hotclips.example", "--reason", "adult", "--category", "adult")
    assert code == 0 and "confirmed: hotclips.example" in out
    _, out = run(workdir, capsys, "check", "--json", "spins.example", "hotclips.example")
    assert [json.loads(line)["reason"] for line in out.splitlines()] == ["local_allow", "local_deny"]


def test_a_school_retrains_from_its_enabled_lists(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "data" / "local").mkdir(parents=True, exist_ok=True)
    (workdir / "data" / "local" / "allow.txt").write_text("ourschool.example\n")
    code, out = run(workdir, capsys, "model", "train", "--out", str(workdir / "own.fphm"))
    assert code == 0 and "wrote" in out
    manifest = json.loads((workdir / "own.fphm.manifest.json").read_text())
    used = {(s["label"], Path(s["path"]).name) for s in manifest["sources"]}
    assert {("gambling", "gambling.hosts"), ("social", "social.txt"), ("benign", "allow.txt")} <= used
    assert ("benign", "package:benign-curated.txt") in used and not any(n == "iwf.urls" for _, n in used)
