"""Comparing techniques on the validation split: why the shipped model is a logistic regression.

    .venv/bin/python -m filterproxy.categorise.training.compare --sources blocklists/model-training.yaml \\
        [--model filterproxy/categorise/data/hostnames.fphm]

Three techniques over the same sites and split: (1) a token lexicon alone (the hand-written
multilingual words: a hit is the verdict), (2) multinomial naive Bayes over the model's features,
(3) the trained logistic regression (the model file). For (2) and (3) each category's threshold is
chosen as in training (benign blocks at most 0.1 % of benign names); the lexicon has no threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from filterproxy.categorise.features import deleet, features, split_name
from filterproxy.categorise.lexicon import lexicon_hits
from filterproxy.categorise.modelfile import read_model, shipped_path
from filterproxy.categorise.scorer import Score
from filterproxy.categorise.training.dataset import Example, examples
from filterproxy.categorise.training.evaluate import Scored, choose_thresholds, measure, score_all
from filterproxy.categorise.training.fit import encode, scatter, vocabulary
from filterproxy.categorise.training.run import CLASSES
from filterproxy.categorise.training.sources import load_training_sources, resolve
from filterproxy.model import Category


def lexicon_scores(split: Sequence[Example]) -> list[Scored]:
    out = []
    for e in split:
        hits = lexicon_hits(deleet(split_name(e.name)[0]))
        score = Score(Category(hits[0]), 1.0) if hits else Score(None, 0.0)
        out.append(Scored(e.label, score))
    return out


def naive_bayes_scores(train: Sequence[Example], split: Sequence[Example]) -> list[Scored]:
    vocab = vocabulary([e.name for e in train], features, 2)
    ids = {f: i for i, f in enumerate(vocab)}
    matrix = encode([e.name for e in train], features, ids)
    y = np.asarray([CLASSES.index(e.label) for e in train])
    owner = np.repeat(np.arange(len(y)), np.diff(matrix.indptr))
    onehot = np.eye(len(CLASSES), dtype=np.float32)[y[owner]]
    counts = scatter(matrix.indices.astype(np.int64), onehot, len(vocab))  # feature x class
    log_likelihood = np.log((counts + 1) / (counts.sum(axis=0) + len(vocab)))
    prior = np.log(np.maximum(np.bincount(y, minlength=len(CLASSES)), 1) / len(y))
    out = []
    for e in split:
        rows = [ids[f] for f in features(e.name) if f in ids]
        z = log_likelihood[rows].sum(axis=0) + prior
        p = np.exp(z - z.max())
        p /= p.sum()
        best = int(p[1:].argmax()) + 1
        out.append(Scored(e.label, Score(Category(CLASSES[best]), float(p[best]))))
    return out


def compare(sources: Path, model: Path) -> dict[str, Any]:
    declared = load_training_sources(sources)
    split = examples(resolve(declared), declared.seed)
    validation = split["validation"]
    categories = [c for c in CLASSES[1:] if any(e.label == c for e in validation)]
    lexicon = lexicon_scores(validation)
    results = {"lexicon": measure(lexicon, dict.fromkeys(categories, 1.0))}
    for name, scored in (("naive_bayes", naive_bayes_scores(split["train"], validation)),
                         ("logistic_regression", score_all(read_model(model), validation))):
        results[name] = measure(scored, choose_thresholds(scored, categories))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--model", type=Path, default=shipped_path())
    args = parser.parse_args(argv)
    for technique, measured in compare(args.sources, args.model).items():
        row = {c: (m["recall"], m["precision"], m["benign_false_positives"]) for c, m in measured["categories"].items()}
        print(json.dumps({"technique": technique, "harmful_recall": measured["harmful_recall"],
                          "benign_blocked_share": measured["benign_blocked_share"],
                          "per_category_recall_precision_benign_fp": row}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
