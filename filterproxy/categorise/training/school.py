"""Training sources for a school's own model: its enabled category lists, and benign names.

Benign names come from the list shipped with filterproxy (popular, public-sector, education and
help sites), the school's own allow list, and any extra benign lists given on the command line.
"""

from __future__ import annotations

from pathlib import Path

from filterproxy.categorise.training.sources import PACKAGE, TrainingSource, TrainingSources
from filterproxy.config.model import Config
from filterproxy.lists.loader import local_files, resolve_sources
from filterproxy.model import POLICY_CATEGORIES

CURATED = Path(PACKAGE + "benign-curated.txt")


def from_config(config: Config, benign: list[Path]) -> TrainingSources:
    sources = [
        TrainingSource(path=s.path, label=s.category, format=s.format, ut1_category=s.ut1_category,
                       note=f"enabled list {s.id}")
        for s in resolve_sources(config)
        if s.enabled and s.category in POLICY_CATEGORIES and s.path.exists()
    ]
    sources.append(TrainingSource(path=CURATED, label="benign", note="benign sites shipped with filterproxy"))
    allow = local_files(config).allow_file
    if allow.exists():
        sources.append(TrainingSource(path=allow, label="benign", format="plain", note="the school's allow list"))
    sources.extend(TrainingSource(path=p.resolve(), label="benign", note="given with --benign") for p in benign)
    return TrainingSources(root=Path("/"), sources=sources)
