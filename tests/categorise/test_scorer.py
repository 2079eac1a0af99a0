"""The shipped model: it loads, scores names it never saw, and keeps benign names below its thresholds."""

from __future__ import annotations

import pytest

from filterproxy.categorise.modelfile import decode, encode, shipped_path
from filterproxy.categorise.scorer import HostModel
from filterproxy.errors import ModelFileError
from filterproxy.model import Category


def test_shipped_model_has_a_manifest_naming_its_sources(shipped: HostModel) -> None:
    manifest = shipped.manifest
    assert shipped.version.startswith("hm1-") and shipped.size > 1000
    labels = {s["label"] for s in manifest["sources"]}
    assert {"adult", "gambling", "benign"} <= labels
    assert all(len(s["sha256"]) == 64 and s["bytes"] > 0 for s in manifest["sources"])
    assert set(shipped.thresholds) >= {Category.ADULT, Category.GAMBLING}
    assert manifest["validation"]["categories"]["adult"]["precision"] >= 0.97
    assert shipped_path().stat().st_size < 4_000_000  # package data stays small


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("85porn.net", Category.ADULT),
        ("18teenvid.com", Category.ADULT),
        ("freexxxp0rnclips.biz", Category.ADULT),
        ("royal-casino-jackpot-spins.com", Category.GAMBLING),
        ("bestonlinepokerbonus.net", Category.GAMBLING),
    ],
)
def test_harmful_names_score_over_their_threshold(shipped: HostModel, name: str, category: Category) -> None:
    score = shipped.judged(name)
    assert score.category is category
    assert score.score >= shipped.thresholds[category], score
    assert score.evidence and not score.protected_by


@pytest.mark.parametrize(
    "name",
    ["bbc.co.uk", "google.com", "wikipedia.org", "sussex.ac.uk", "scunthorpe.gov.uk", "essexlive.news",
     "nationalgeographic.com", "tesco.com", "khanacademy.org", "theguardian.com", "arsenal.com"],
)
def test_benign_names_are_not_blocked(shipped: HostModel, name: str) -> None:
    score = shipped.judged(name)
    blocked = score.category is not None and score.score >= shipped.thresholds.get(score.category, 1.0)
    assert not blocked or score.protected_by, score


@pytest.mark.parametrize("name", ["begambleaware.org", "talktofrank.com", "brook.org.uk", "sexwise.org.uk",
                                  "hausgemachte-nudeln.de", "drugwise.org.uk", "gamcare.org.uk"])
def test_help_and_education_sites_are_at_most_logged(shipped: HostModel, name: str) -> None:
    score = shipped.judged(name)
    assert score.category is None or score.score < shipped.thresholds.get(score.category, 1.0) or score.protected_by


def test_model_bytes_round_trip(shipped: HostModel) -> None:
    import numpy as np

    classes = ("benign", "adult")
    data = encode(classes, ("porn", "w:news"), np.array([[0, 2], [1, -1]], np.float32), np.zeros(2, np.float32),
                  {"version": "t1", "thresholds": {"adult": 0.5}})
    assert data == encode(classes, ("porn", "w:news"), np.array([[0, 2], [1, -1]], np.float32),
                          np.zeros(2, np.float32), {"version": "t1", "thresholds": {"adult": 0.5}})
    model = decode(data)
    assert model.version == "t1" and model.thresholds == {Category.ADULT: 0.5}
    assert model.score("porn.example").category is Category.ADULT


@pytest.mark.parametrize("data", [b"", b"not gzip", __import__("gzip").compress(b"FPHM0\n")])
def test_a_broken_model_file_is_a_model_file_error(data: bytes) -> None:
    with pytest.raises(ModelFileError):
        decode(data)
