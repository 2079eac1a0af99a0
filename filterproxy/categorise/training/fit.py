"""Multinomial logistic regression over sparse binary features, in numpy (no other dependency).

Minibatch Adagrad with L2, deterministic for a given seed: the same examples give the same bytes.
Classes are weighted so each positive category counts as much as ``POSITIVE_SHARE`` of the benign
mass would, which keeps small categories (drugs, hate) from vanishing under adult and benign.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Features = Callable[[str], list[str]]
F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]


@dataclass(frozen=True)
class FitOptions:
    min_sites: int = 2  # a feature seen in fewer training names is dropped
    epochs: int = 6
    batch: int = 1024
    rate: float = 0.3
    l2: float = 1e-6
    seed: int = 12
    prune: float = 0.15  # features whose weights all stay within this of zero are dropped
    benign_weight: float = 2.0  # most names a school resolves are benign: weigh the benign class up


@dataclass(frozen=True)
class Fitted:
    classes: tuple[str, ...]
    vocabulary: tuple[str, ...]
    weights: F32  # (len(vocabulary), len(classes))
    bias: F32  # (len(classes),)


@dataclass(frozen=True)
class Matrix:
    """Rows of feature ids, CSR style."""

    indptr: npt.NDArray[np.int64]
    indices: I32


def vocabulary(names: Sequence[str], features: Features, min_sites: int) -> tuple[str, ...]:
    counts: Counter[str] = Counter()
    for name in names:
        counts.update(set(features(name)))
    return tuple(sorted(f for f, n in counts.items() if n >= min_sites))


def encode(names: Sequence[str], features: Features, vocab: dict[str, int]) -> Matrix:
    indptr = [0]
    indices: list[int] = []
    for name in names:
        ids = sorted({vocab[f] for f in features(name) if f in vocab})
        indices.extend(ids)
        indptr.append(len(indices))
    return Matrix(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int32))


def gather(matrix: Matrix, rows: npt.NDArray[np.int64]) -> tuple[I32, npt.NDArray[np.int64]]:
    """The feature ids of ``rows`` end to end, and for each id the position of its row in ``rows``."""
    starts, counts = matrix.indptr[rows], matrix.indptr[rows + 1] - matrix.indptr[rows]
    owner = np.repeat(np.arange(len(rows)), counts)
    first = np.cumsum(counts) - counts
    positions = np.arange(int(counts.sum())) - first[owner] + starts[owner]
    return matrix.indices[positions], owner


def logits(matrix: Matrix, weights: F32, bias: F32, rows: npt.NDArray[np.int64] | None = None) -> F32:
    """Scores of ``rows`` (default all): sum of the weights of each row's features, plus the bias."""
    if rows is None:
        rows = np.arange(len(matrix.indptr) - 1)
    flat, owner = gather(matrix, rows)
    return scatter(owner, weights[flat], len(rows)) + bias


def scatter(owner: npt.NDArray[np.int64], values: F32, size: int) -> F32:
    """Row sums: ``out[owner[i]] += values[i]`` (bincount per column: far faster than ``np.add.at``)."""
    out = np.empty((size, values.shape[1]), dtype=np.float32)
    for column in range(values.shape[1]):
        out[:, column] = np.bincount(owner, weights=values[:, column], minlength=size)
    return out


def softmax(z: F32) -> F32:
    z = z - z.max(axis=1, keepdims=True)
    e: F32 = np.exp(z).astype(np.float32)
    out: F32 = e / e.sum(axis=1, keepdims=True)
    return out


def fit(names: Sequence[str], labels: Sequence[str], classes: tuple[str, ...], features: Features,
        options: FitOptions = FitOptions()) -> Fitted:
    vocab = vocabulary(names, features, options.min_sites)
    ids = {f: i for i, f in enumerate(vocab)}
    matrix = encode(names, features, ids)
    y = np.asarray([classes.index(label) for label in labels], dtype=np.int64)
    freq = np.bincount(y, minlength=len(classes)).astype(np.float64)
    class_weight = np.where(freq > 0, freq.max() / np.maximum(freq, 1), 0.0) ** 0.5
    class_weight[classes.index("benign")] *= options.benign_weight
    sample_weight = class_weight[y].astype(np.float32)
    weights = np.zeros((len(vocab), len(classes)), dtype=np.float32)
    bias = np.log(np.maximum(freq, 1) / freq.sum()).astype(np.float32)
    g2 = np.full_like(weights, 1e-3)
    b2 = np.full_like(bias, 1e-3)
    rng = np.random.default_rng(options.seed)
    onehot = np.eye(len(classes), dtype=np.float32)
    for _ in range(options.epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(order), options.batch):
            rows = np.sort(order[start : start + options.batch])
            flat, owner = gather(matrix, rows)
            z = scatter(owner, weights[flat], len(rows)) + bias
            grad = (softmax(z) - onehot[y[rows]]) * sample_weight[rows, None]
            touched, inverse = np.unique(flat, return_inverse=True)
            gw = scatter(inverse, grad[owner], len(touched))
            gw /= len(rows)
            gw += options.l2 * weights[touched]
            g2[touched] += gw * gw
            weights[touched] -= options.rate * gw / np.sqrt(g2[touched])
            gb = grad.mean(axis=0)
            b2 += gb * gb
            bias -= options.rate * gb / np.sqrt(b2)
    keep = np.abs(weights - weights.mean(axis=1, keepdims=True)).max(axis=1) > options.prune
    kept = tuple(f for f, k in zip(vocab, keep, strict=True) if k)
    return Fitted(classes, kept, np.ascontiguousarray(weights[keep]), bias)
