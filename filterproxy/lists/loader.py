"""From configuration to a live :class:`Engine`: sources, compiled index cache, local overlay.

The compiled index is cached as ``<data_dir>/index/<fingerprint>.fpi``; a start with unchanged
lists maps that file (well under a second for millions of entries) instead of parsing text.
"""

from __future__ import annotations

import logging
from pathlib import Path

from filterproxy.categorise.loader import load_judge
from filterproxy.classify.classifier import Classifier
from filterproxy.classify.engine import Engine
from filterproxy.classify.index import Index
from filterproxy.classify.policy import Policy
from filterproxy.config.model import Config
from filterproxy.errors import IndexFileError
from filterproxy.lists import lastgood
from filterproxy.lists.build import build_to_file, fingerprint
from filterproxy.lists.local import LocalFiles, load_local
from filterproxy.lists.overrides import apply_overrides, read_overrides
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.sources import load_sources
from filterproxy.lists.store import read_index
from filterproxy.lists.suffixes import bundled_suffixes

log = logging.getLogger(__name__)
KEEP_INDEX_FILES = 2


def resolve_sources(config: Config) -> list[SourceSettings]:
    """The sources file's entries followed by inline ones (paths already absolute), with the
    school's enable/disable overrides (``<data_dir>/lists/enabled.json``) applied."""
    return apply_overrides(defined_sources(config), read_overrides(config.data_dir))


def defined_sources(config: Config) -> list[SourceSettings]:
    """The sources as the sources file and the configuration define them, before any override."""
    found: list[SourceSettings] = []
    if config.lists.sources_file is not None:
        found.extend(load_sources(config.lists.sources_file))
    found.extend(config.lists.sources)
    downloads = config.lists.download_dir
    if downloads is not None:
        found = [s.model_copy(update={"path": download_path(downloads, s)}) if s.url else s for s in found]
    return found


def download_path(directory: Path, source: SourceSettings) -> Path:
    """Where ``lists.download_dir`` keeps a remote source: ``<directory>/<source id>/<file name>``."""
    parts = [p for p in source.id.split("/") if p not in ("", ".", "..")] or ["source"]
    return directory.joinpath(*parts, source.path.name)


def local_files(config: Config) -> LocalFiles:
    return LocalFiles(config.local_dir, config.data_dir / "audit.jsonl")


def index_dir(config: Config) -> Path:
    return config.data_dir / "index"


def load_index(config: Config) -> Index:
    """Map the compiled index for the current sources, building it first if it is missing."""
    sources = resolve_sources(config)
    path = index_dir(config) / f"{fingerprint(sources, config.lists.max_bad_share)}.fpi"
    if path.exists():
        try:
            return read_index(path)
        except IndexFileError as exc:
            log.warning("rebuilding: %s", exc)
    build_to_file(sources, config.lists.max_bad_share, path, last_good_dir(config))
    prune_index_files(path.parent, keep=path)
    return read_index(path)


def last_good_dir(config: Config) -> Path:
    """Where each accepted source's last good copy is kept (see filterproxy.lists.lastgood)."""
    return config.data_dir / "lists" / lastgood.DIRECTORY


def prune_index_files(directory: Path, keep: Path) -> None:
    """Delete all but the newest compiled indexes (mapped files stay valid until unmapped)."""
    files = sorted(directory.glob("*.fpi"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP_INDEX_FILES:]:
        if old != keep:
            old.unlink(missing_ok=True)


def load_classifier(config: Config, index: Index | None = None) -> Classifier:
    return Classifier(Policy(config.policy), index or load_index(config), load_local(local_files(config)),
                      load_judge(config.categorise, config.data_dir), suffixes=bundled_suffixes())


def load_engine(config: Config) -> Engine:
    """The engine the DNS and HTTP paths share, from the configuration."""
    return Engine(load_classifier(config))
