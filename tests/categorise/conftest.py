"""Fixtures: the shipped model (loaded once), and small declared training sources written to disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterproxy.categorise.modelfile import read_model, shipped_path
from filterproxy.categorise.scorer import HostModel
from filterproxy.categorise.training.fit import FitOptions

SMALL_FIT = FitOptions(epochs=3, batch=64, min_sites=1, prune=0.0)

ADULT_WORDS = ("porn", "xxx", "sexcam", "nude", "milf", "hentai")
GAMBLING_WORDS = ("casino", "poker", "slots", "betting", "jackpot", "roulette")
BENIGN_WORDS = ("school", "library", "news", "weather", "maths", "garden", "recipes", "football", "museum", "bank")


@pytest.fixture(scope="session")
def shipped() -> HostModel:
    return read_model(shipped_path())


def write_small_sources(root: Path) -> Path:
    """Three small lists and a training-sources file over them; returns the file."""
    root.mkdir(parents=True, exist_ok=True)
    lists = {
        "adult.txt": [f"{w}{x}{i}.example" for w in ADULT_WORDS for x in ("tube", "vids", "hub") for i in range(4)],
        "gambling.txt": [f"{x}{w}{i}.example" for w in GAMBLING_WORDS for x in ("best", "live", "win")
                         for i in range(4)],
        "benign.txt": [f"{x}{w}{i}.example" for w in BENIGN_WORDS for x in ("my", "the", "local") for i in range(4)],
    }
    for name, names in lists.items():
        (root / name).write_text("\n".join(names) + "\n", encoding="utf-8")
    (root / "sources.yaml").write_text(
        "root: .\nseed: 3\nsources:\n"
        "  - {path: adult.txt, label: adult}\n"
        "  - {path: gambling.txt, label: gambling}\n"
        "  - {path: benign.txt, label: benign}\n",
        encoding="utf-8",
    )
    return root / "sources.yaml"
