"""``filterproxy model train`` as a library call: declared sources in, model file and manifest out.

Reproducible: the split hashes each site with the seed, the optimiser draws from a seeded
generator and the file is written without timestamps, so the same sources give the same bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filterproxy import __version__
from filterproxy.categorise import features as feature_module
from filterproxy.categorise.features import features
from filterproxy.categorise.modelfile import decode, encode, write_model
from filterproxy.categorise.training.dataset import SPLITS, examples
from filterproxy.categorise.training.evaluate import choose_thresholds, measure, recommended_actions, score_all
from filterproxy.categorise.training.fit import FitOptions, fit
from filterproxy.categorise.training.sources import BENIGN, SourceFile, TrainingSources, resolve
from filterproxy.errors import ConfigError
from filterproxy.model import POLICY_CATEGORIES

log = logging.getLogger(__name__)
CLASSES: tuple[str, ...] = (BENIGN, *(c.value for c in POLICY_CATEGORIES))


@dataclass(frozen=True)
class Trained:
    path: Path
    sha256: str
    manifest: dict[str, Any]


def train(declared: TrainingSources, out: Path, options: FitOptions | None = None) -> Trained:
    files = resolve(declared)
    split = examples(files, declared.seed)
    train_set = split["train"]
    if not any(e.label == BENIGN for e in train_set) or all(e.label == BENIGN for e in train_set):
        raise ConfigError("model train: the sources need both benign and harmful names")
    options = options or FitOptions(seed=declared.seed)
    log.info("training on %d names", len(train_set))
    fitted = fit([e.name for e in train_set], [e.label for e in train_set], CLASSES, features, options)
    categories = [c for c in CLASSES[1:] if any(e.label == c for e in train_set)]
    draft = _manifest(files, declared, split, options, {}, {}, {})
    model = decode(encode(fitted.classes, fitted.vocabulary, fitted.weights, fitted.bias, draft))
    validation = score_all(model, split["validation"])
    thresholds = choose_thresholds(validation, categories)
    on_validation = measure(validation, thresholds)
    on_test = measure(score_all(model, split["test"]), thresholds)
    manifest = _manifest(files, declared, split, options, thresholds, on_validation, on_test)
    manifest["recommended_actions"] = recommended_actions(on_validation)
    data = encode(fitted.classes, fitted.vocabulary, fitted.weights, fitted.bias, manifest)
    digest = write_model(out, data, manifest)
    return Trained(out, digest, manifest)


def _manifest(files: list[SourceFile], declared: TrainingSources, split: dict[str, Any], options: FitOptions,
              thresholds: dict[str, float], validation: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    digest = "".join(f.sha256[:8] for f in files) + repr(feature_module.NGRAM_SIZES) + str(feature_module.MAX_BODY)
    return {
        "format": 1,
        "version": f"hm1-{declared.seed}-{_short(digest + repr(options))}",
        "trained_by": f"filterproxy {__version__}",
        "technique": "multinomial logistic regression over character 3- and 4-grams, tokens, lexicon hits and TLD",
        "features": {"ngrams": list(feature_module.NGRAM_SIZES), "max_body": feature_module.MAX_BODY},
        "options": {k: getattr(options, k) for k in options.__dataclass_fields__},
        "sources": [
            {"path": str(f.source.path), "label": f.label, "sha256": f.sha256, "bytes": f.size, "note": f.source.note}
            for f in files
        ],
        "split": {name: len(split[name]) for name in SPLITS},
        "thresholds": thresholds,
        "validation": validation,
        "test": test,
    }


def _short(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:10]
