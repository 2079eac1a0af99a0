"""The I/O side of the hostname model: read the configured (or shipped) model file once."""

from __future__ import annotations

from pathlib import Path

from filterproxy.categorise.judge import NameJudge
from filterproxy.categorise.modelfile import read_model, shipped_path
from filterproxy.categorise.scorer import HostModel
from filterproxy.categorise.settings import CategoriseSettings

TRAINED = Path("model") / "hostnames.fphm"


def trained_path(data_dir: Path) -> Path:
    """Where `filterproxy model train` writes the school's own model by default."""
    return data_dir / TRAINED


def model_path(settings: CategoriseSettings, data_dir: Path | None = None) -> Path:
    """The configured model; else the school's own trained model, if any; else the shipped one."""
    if settings.model is not None:
        return settings.model
    if data_dir is not None and trained_path(data_dir).exists():
        return trained_path(data_dir)
    return shipped_path()


def load_model(settings: CategoriseSettings, data_dir: Path | None = None) -> HostModel:
    return read_model(model_path(settings, data_dir))


def load_judge(settings: CategoriseSettings, data_dir: Path | None = None) -> NameJudge | None:
    """The judge for the classifier, or None when the model is disabled."""
    if not settings.enabled:
        return None
    return NameJudge(load_model(settings, data_dir), settings.cache_size)
