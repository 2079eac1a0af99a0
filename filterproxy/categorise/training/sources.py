"""The declared training sources: a YAML file listing list files and the label each one teaches.

```yaml
root: ../../shared/data/blocklists     # relative to this file; paths below are relative to root
sources:
  - {path: ut1/gambling.domains.gz, label: gambling}
  - {path: ut1/press.domains.gz, label: benign}
```

A source's label is a category (``adult``, ``gambling``...) or ``benign``. Every file's SHA-256 and
size go into the model's manifest, so a model says exactly what it was trained on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field

from filterproxy.config.section import Section
from filterproxy.errors import ConfigError
from filterproxy.lists.settings import ListFormat
from filterproxy.model import Category

BENIGN = "benign"
PACKAGE = "package:"
Label = Category | Literal["benign"]


class TrainingSource(Section):
    """One list file and the label its names teach."""

    path: Path = Field(description="List file (any list format, gzip allowed), relative to the root.")
    label: Label = Field(description="A category, or 'benign' for names that must not be blocked.")
    format: ListFormat = Field(default="auto", description="List format; 'auto' guesses from name and content.")
    ut1_category: str | None = Field(default=None, description="UT1 folder inside a tarball, e.g. 'gambling'.")
    split: Literal["auto", "validation"] = Field(
        default="auto", description="auto: sites split 80/10/10 by hash; validation: held out, never trained on."
    )
    note: str = Field(default="", description="Why this source is used (shown in the manifest).")


class TrainingSources(Section):
    """The whole declaration: where the files are and what each teaches."""

    root: Path = Field(default=Path("."), description="Directory the source paths are relative to.")
    seed: int = Field(default=12, description="Seed of the split and of the optimiser (reproducible runs).")
    sources: list[TrainingSource] = Field(description="The sources, in order.")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A resolved source with its checksum."""

    source: TrainingSource
    path: Path
    sha256: str
    size: int

    @property
    def label(self) -> str:
        return str(self.source.label)

    @property
    def curated(self) -> bool:
        """A hand-written list shipped with filterproxy (``package:`` path): its names were checked."""
        return str(self.source.path).startswith(PACKAGE)


def load_training_sources(path: Path) -> TrainingSources:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        declared = TrainingSources.model_validate(data)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"{path}: not a training-sources file: {exc}") from exc
    root = declared.root if declared.root.is_absolute() else (path.parent / declared.root)
    return declared.model_copy(update={"root": root.resolve()})


def source_path(root: Path, path: Path) -> Path:
    """``package:NAME`` is a file shipped in filterproxy/categorise/data; else relative to ``root``."""
    text = str(path)
    if text.startswith(PACKAGE):
        return Path(str(resources.files("filterproxy.categorise") / "data" / text[len(PACKAGE):]))
    return path if path.is_absolute() else root / path


def resolve(declared: TrainingSources) -> list[SourceFile]:
    """Each source's absolute path, SHA-256 and size; a missing file is a ConfigError."""
    out = []
    for source in declared.sources:
        path = source_path(declared.root, source.path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"training source {path}: {exc.strerror or exc}") from exc
        out.append(SourceFile(source, path, hashlib.sha256(data).hexdigest(), len(data)))
    return out
