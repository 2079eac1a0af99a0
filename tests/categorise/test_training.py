"""Training from declared sources: reproducible bytes, a manifest that names its inputs, a usable model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from filterproxy.categorise.modelfile import read_model
from filterproxy.categorise.training.dataset import split_of
from filterproxy.categorise.training.run import train
from filterproxy.categorise.training.sources import load_training_sources
from filterproxy.errors import ConfigError
from filterproxy.model import Category
from tests.categorise.conftest import SMALL_FIT, write_small_sources


def test_same_sources_give_the_same_model_bytes(tmp_path: Path) -> None:
    declared = load_training_sources(write_small_sources(tmp_path / "lists"))
    first = train(declared, tmp_path / "a.fphm", SMALL_FIT)
    second = train(declared, tmp_path / "b.fphm", SMALL_FIT)
    assert (tmp_path / "a.fphm").read_bytes() == (tmp_path / "b.fphm").read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256((tmp_path / "a.fphm").read_bytes()).hexdigest()


def test_changed_sources_give_another_model(tmp_path: Path) -> None:
    sources = write_small_sources(tmp_path / "lists")
    first = train(load_training_sources(sources), tmp_path / "a.fphm", SMALL_FIT)
    with (tmp_path / "lists" / "adult.txt").open("a") as handle:
        handle.write("hotnudecams.example\n")
    second = train(load_training_sources(sources), tmp_path / "b.fphm", SMALL_FIT)
    assert first.sha256 != second.sha256 and first.manifest["version"] != second.manifest["version"]


def test_manifest_names_sources_with_checksums_and_metrics(tmp_path: Path) -> None:
    trained = train(load_training_sources(write_small_sources(tmp_path / "lists")), tmp_path / "m.fphm", SMALL_FIT)
    beside = json.loads((tmp_path / "m.fphm.manifest.json").read_text())
    assert beside["sha256"] == trained.sha256
    for source in beside["sources"]:
        data = (tmp_path / "lists" / source["path"]).read_bytes()
        assert source["sha256"] == hashlib.sha256(data).hexdigest() and source["bytes"] == len(data)
    assert set(beside["thresholds"]) == {"adult", "gambling"}
    assert beside["validation"]["categories"]["adult"]["support"] > 0
    model = read_model(tmp_path / "m.fphm")
    assert model.score("sexcamtube9.example").category is Category.ADULT
    assert model.score("bestcasino9.example").category is Category.GAMBLING


def test_split_keeps_a_site_in_one_split() -> None:
    assert split_of("example.com", 12) == split_of("example.com", 12)
    shares = [split_of(f"site{i}.example", 12) for i in range(2000)]
    assert 0.75 < shares.count("train") / 2000 < 0.85


def test_sources_need_benign_and_harmful_names(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("porn1.example\n")
    (tmp_path / "s.yaml").write_text("sources:\n  - {path: a.txt, label: adult}\n")
    with pytest.raises(ConfigError, match="benign and harmful"):
        train(load_training_sources(tmp_path / "s.yaml"), tmp_path / "m.fphm", SMALL_FIT)


def test_a_missing_source_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("sources:\n  - {path: gone.txt, label: adult}\n")
    with pytest.raises(ConfigError, match=r"gone\.txt"):
        train(load_training_sources(tmp_path / "s.yaml"), tmp_path / "m.fphm", SMALL_FIT)
